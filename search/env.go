package search

import (
	"context"

	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/query"
)

// envFor returns the execution environment of a search by p: the
// manager's (Config.Env), naming p, with save allowed for admins only.
func (m *Manager) envFor(p *catalog.Principal) *query.Env {
	if m.cfg.Env == nil {
		return &query.Env{}
	}
	env := *m.cfg.Env
	env.User = p.UserName
	env.AllowSave = p.IsAdmin()
	return &env
}

// checkEnv fails a search whose query needs what the environment lacks (a
// lookup table that does not exist, a GeoIP database) before it starts,
// as a client error at the position in the query.
func (m *Manager) checkEnv(ctx context.Context, plan *query.Plan, env *query.Env) error {
	err := plan.CheckEnv(ctx, env)
	if err == nil {
		return nil
	}
	if _, ok := query.AsError(err); ok {
		return &Error{Code: "searchjob.parse.error", Msg: err.Error(), Status: 400}
	}
	return err
}
