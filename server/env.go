package server

import (
	"github.com/dohyo/dohyo/geoip"
	"github.com/dohyo/dohyo/query"
	"github.com/dohyo/dohyo/threatintel"
)

// queryEnv opens the GeoIP database, if one is configured, sets the lookup
// table size limit, and returns the execution environment of queries: the
// catalog's lookup tables, the threat intelligence lists (lookup tables
// under /threatintel/) and the GeoIP database.
func (s *Server) queryEnv() (*query.Env, error) {
	s.catalog.SetMaxLookupTableBytes(s.cfg.MaxLookupTableBytes)
	env := &query.Env{Lookups: s.catalog, ThreatIntel: &threatintel.Store{Catalog: s.catalog}}
	if s.cfg.GeoIPDB != "" {
		db, err := geoip.Open(s.cfg.GeoIPDB)
		if err != nil {
			return nil, err
		}
		s.geoip = db
		env.GeoIP = db
		s.log.Info("GeoIP database loaded", "path", db.Path(), "type", db.Type(), "built", db.BuildTime().Format("2006-01-02"))
	}
	return env, nil
}
