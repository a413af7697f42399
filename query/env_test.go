package query

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/netip"
	"strings"
	"sync"
)

// Test doubles of the execution environment: lookup tables in memory and a
// GeoIP database of a few networks. The golden tests use them (the
// "table" command of testdata/*.test); the catalog and package geoip test
// the real ones.

// memLookups is an in-memory LookupStore.
type memLookups struct {
	mu     sync.Mutex
	tables map[string]*LookupTable // by lower-case name
	saves  int
}

func newMemLookups() *memLookups { return &memLookups{tables: map[string]*LookupTable{}} }

func (m *memLookups) LoadLookup(_ context.Context, name string) (*LookupTable, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tables[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrLookupNotFound, name)
	}
	// A fresh copy per load, as a store that reloads would give.
	return &LookupTable{Name: t.Name, Columns: t.Columns, PrimaryKey: t.PrimaryKey, Rows: t.Rows}, nil
}

// SaveLookup implements the LookupSave rules simply (no size limit).
func (m *memLookups) SaveLookup(_ context.Context, s *LookupSave) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.saves++
	key := strings.ToLower(s.Name)
	t, ok := m.tables[key]
	if !ok {
		if len(s.Columns) == 0 {
			return fmt.Errorf("no columns to create table %s from", s.Name)
		}
		t = &LookupTable{Name: s.Name, PrimaryKey: s.PrimaryKey}
		for i, c := range s.Columns {
			typ := LookupString
			switch s.Types[i] {
			case "int", "long":
				typ = LookupLong
			case "double":
				typ = LookupDouble
			}
			t.Columns = append(t.Columns, LookupColumn{Name: c, Type: typ})
		}
	}
	idx := make([]int, len(t.Columns))
	for i, c := range t.Columns {
		idx[i] = -1
		for j, sc := range s.Columns {
			if sc == c.Name {
				idx[i] = j
			}
		}
		if idx[i] < 0 && len(s.Rows) > 0 {
			return fmt.Errorf("the results have no column %s", c.Name)
		}
	}
	var rows [][]string
	if s.Append {
		rows = append(rows, t.Rows...)
	}
	nt := &LookupTable{Name: t.Name, Columns: t.Columns, PrimaryKey: t.PrimaryKey}
	for _, r := range s.Rows {
		row := make([]string, len(t.Columns))
		for i, j := range idx {
			if j >= 0 {
				row[i] = r[j]
			}
			if !CheckLookupValue(t.Columns[i].Type, row[i]) {
				return fmt.Errorf("value %q of column %s is not a %s", row[i], t.Columns[i].Name, t.Columns[i].Type)
			}
		}
		rows = append(rows, row)
	}
	// Later rows win for a key (upsert).
	nt.Rows = rows
	nt.buildIndex()
	var dedup [][]string
	for i, r := range rows {
		vals := make([]string, len(nt.keyCols))
		for k, c := range nt.keyCols {
			vals[k] = r[c]
		}
		if _, j := nt.find(nil, vals); j == i {
			dedup = append(dedup, r)
		}
	}
	m.tables[key] = &LookupTable{Name: t.Name, Columns: t.Columns, PrimaryKey: t.PrimaryKey, Rows: dedup}
	return nil
}

// addGoldenTable defines a table from a golden "table" command:
//
//	table <name> key=<col>[,<col>] [types=<col>:<type>,...]
//	  <csv header>
//	  <csv rows>
func (m *memLookups) addGoldenTable(arg string, lines []string) error {
	words := strings.Fields(arg)
	if len(words) == 0 {
		return fmt.Errorf("table needs a name")
	}
	raw := strings.TrimPrefix(words[0], "path://")
	raw = strings.Trim(raw, `"`)
	name, err := NormalizeLookupName(raw)
	if err != nil {
		return err
	}
	types := map[string]string{}
	var key []string
	for _, w := range words[1:] {
		k, v, _ := strings.Cut(w, "=")
		switch k {
		case "key":
			key = strings.Split(strings.ToLower(v), ",")
		case "types":
			for _, ct := range strings.Split(v, ",") {
				c, t, _ := strings.Cut(ct, ":")
				types[strings.ToLower(c)] = t
			}
		default:
			return fmt.Errorf("table: unknown option %q", w)
		}
	}
	recs, err := csv.NewReader(strings.NewReader(strings.Join(lines, "\n"))).ReadAll()
	if err != nil {
		return err
	}
	if len(recs) == 0 || len(key) == 0 {
		return fmt.Errorf("table needs key= and a CSV header")
	}
	t := &LookupTable{Name: name, PrimaryKey: key}
	for _, h := range recs[0] {
		h = strings.ToLower(strings.TrimSpace(h))
		typ := types[h]
		if typ == "" {
			typ = LookupString
		}
		t.Columns = append(t.Columns, LookupColumn{Name: h, Type: typ})
	}
	t.Rows = recs[1:]
	m.mu.Lock()
	m.tables[strings.ToLower(name)] = t
	m.mu.Unlock()
	return nil
}

// fakeGeo resolves a few networks.
type fakeGeo struct {
	nets  []netip.Prefix
	locs  []GeoLocation
	calls int
}

func newFakeGeo() *fakeGeo {
	g := &fakeGeo{}
	add := func(p string, l GeoLocation) {
		g.nets = append(g.nets, netip.MustParsePrefix(p))
		g.locs = append(g.locs, l)
	}
	add("81.2.69.0/24", GeoLocation{HasCoordinates: true, Latitude: 51.514249, Longitude: -0.093106, Continent: "Europe", CountryCode: "GB", CountryName: "United Kingdom", Region: "ENG", State: "England", City: "London", PostalCode: "EC2V"})
	add("89.160.20.0/24", GeoLocation{HasCoordinates: true, Latitude: 58.4167, Longitude: 15.6167, Continent: "Europe", CountryCode: "SE", CountryName: "Sweden", Region: "E", State: "Östergötland County", City: "Linköping", PostalCode: "58247"})
	add("216.160.83.0/24", GeoLocation{HasCoordinates: true, Latitude: 47.250002, Longitude: -122.299996, Continent: "North America", CountryCode: "US", CountryName: "United States", Region: "WA", State: "Washington", City: "Milton", PostalCode: "98354", CityConfidence: 60})
	add("2001:218::/32", GeoLocation{HasCoordinates: true, Latitude: 35.68536, Longitude: 139.75309, Continent: "Asia", CountryCode: "JP", CountryName: "Japan"})
	add("67.43.156.0/24", GeoLocation{Continent: "Asia", CountryCode: "BT", CountryName: "Bhutan"})
	return g
}

func (g *fakeGeo) LookupGeo(ip netip.Addr) (GeoLocation, bool, error) {
	g.calls++
	for i, n := range g.nets {
		if n.Contains(ip) {
			return g.locs[i], true, nil
		}
	}
	return GeoLocation{}, false, nil
}

// newTestEnv is the environment of the golden tests.
func newTestEnv() (*Env, *memLookups) {
	m := newMemLookups()
	return &Env{Lookups: m, GeoIP: newFakeGeo(), AllowSave: true, User: "golden"}, m
}
