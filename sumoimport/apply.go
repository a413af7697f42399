package sumoimport

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/dashboards"
)

func nowRef() time.Time { return time.Now() }

// Import converts a Sumo Logic content export and creates its dashboards
// (as p's) and saved searches (p's). With dryRun nothing is created and
// the report says what would be. A saved search whose name p already uses
// gets " (imported)" added; a dashboard or search that cannot be created
// is reported.
func Import(ctx context.Context, dash *dashboards.Service, cat *catalog.Catalog, p *catalog.Principal, data []byte, dryRun bool) (*Report, error) {
	c, err := Convert(data)
	if err != nil {
		return nil, err
	}
	rep := c.Report
	rep.DryRun = dryRun
	if dryRun {
		return rep, nil
	}
	failed := map[int]string{}
	for _, cd := range c.Dashboards {
		d, err := dash.Create(ctx, p, cd.Dashboard)
		if err != nil {
			failed[cd.Index] = err.Error()
			continue
		}
		rep.Imported[cd.Index].ID = d.ID
	}
	for _, cs := range c.Searches {
		spec := catalog.SearchSpec{Name: cs.Name, Query: cs.Query, From: cs.From, To: cs.To}
		s, err := cat.CreateSavedSearch(ctx, p.UserID, spec)
		if errors.Is(err, catalog.ErrConflict) {
			spec.Name = cs.Name + " (imported)"
			s, err = cat.CreateSavedSearch(ctx, p.UserID, spec)
			if err == nil {
				rep.Imported[cs.Index].Notes = append(rep.Imported[cs.Index].Notes, fmt.Sprintf("saved as %q: you have a saved search named %q", spec.Name, cs.Name))
			}
		}
		if err != nil {
			failed[cs.Index] = err.Error()
			continue
		}
		rep.Imported[cs.Index].ID = s.ID
	}
	if len(failed) > 0 {
		var kept []Imported
		for i, imp := range rep.Imported {
			if reason, bad := failed[i]; bad {
				rep.NotImported = append(rep.NotImported, NotImported{Kind: imp.Kind, Path: imp.Path, Name: imp.Name, Reason: "could not be created: " + reason})
				continue
			}
			kept = append(kept, imp)
		}
		if kept == nil {
			kept = []Imported{}
		}
		rep.Imported = kept
	}
	return rep, nil
}
