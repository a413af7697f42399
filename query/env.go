package query

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

// The execution environment: what operators reach outside the query and
// the logs. Lookup tables (lookup, save) and the GeoIP database (geo lookup,
// geoip) live elsewhere — in the catalog and in a MaxMind database file — and
// reach the operators through the small interfaces below, carried by
// ExecOptions.Env, so that package query imports neither the catalog nor
// net/http. The server implements them (catalog.Catalog is a LookupStore,
// geoip.DB a GeoResolver) and tests use in-memory fakes.
//
// A stage that needs the environment implements envBinder: when a run starts
// (Execute, Histogram), the plan is copied and such stages are bound to the
// environment — tables loaded, the GeoIP database checked — so that a missing
// table or an unconfigured database fails the run at its start with an error
// at the stage's position, before any engine query. Compiling and checking a
// query (Compile, Check) never touch the environment.

// Env is the execution environment of a run.
type Env struct {
	// Lookups holds the lookup tables; nil means none are available.
	Lookups LookupStore
	// GeoIP resolves IP addresses to locations; nil means no GeoIP
	// database is configured, and a query using geo lookup fails at start.
	GeoIP GeoResolver
	// ThreatIntel holds the threat intelligence indicators behind
	// threatip (op_threatip.go); nil means none, and a query using
	// threatip fails at start.
	ThreatIntel ThreatIntelStore
	// AllowSave lets the save operator write lookup tables. Left false,
	// a query with save fails at start (the server sets it for admins).
	AllowSave bool
	// User names who runs the query; save records it with the table.
	User string
}

// LookupStore gives the lookup and save operators access to lookup tables.
// Table names are canonical (NormalizeLookupName); implementations match
// them without regard to ASCII case.
type LookupStore interface {
	// LoadLookup returns a table with all its rows. The table must not be
	// modified by the caller nor by the store afterwards (a store may hand
	// the same table to several runs). An unknown table's error wraps
	// ErrLookupNotFound.
	LoadLookup(ctx context.Context, name string) (*LookupTable, error)
	// SaveLookup writes rows into a table, creating it when it does not
	// exist (see LookupSave).
	SaveLookup(ctx context.Context, s *LookupSave) error
}

// ErrLookupNotFound is wrapped by LookupStore.LoadLookup's error for a
// table that does not exist.
var ErrLookupNotFound = errors.New("lookup table not found")

// Lookup column types.
const (
	LookupString  = "string"
	LookupLong    = "long"
	LookupDouble  = "double"
	LookupBoolean = "boolean"
)

// LookupColumn is a column of a lookup table: a lower-case field name and
// one of the Lookup* types.
type LookupColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// LookupTable is a lookup table loaded for a run.
type LookupTable struct {
	// Name is the table's canonical name.
	Name    string
	Columns []LookupColumn
	// PrimaryKey names the key columns, in the table's key order.
	PrimaryKey []string
	// Rows hold one value per column; "" is null.
	Rows [][]string

	indexOnce sync.Once
	index     map[string]int32 // LookupRowKey of the primary key → row
	keyCols   []int
	keyTypes  []string
}

// Column returns the index of the named column, or -1.
func (t *LookupTable) Column(name string) int {
	for i, c := range t.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// buildIndex maps the primary key of every row to the row, once per table
// (a store may share a loaded table between runs). Later rows win.
func (t *LookupTable) buildIndex() {
	t.indexOnce.Do(func() {
		t.keyCols = make([]int, len(t.PrimaryKey))
		t.keyTypes = make([]string, len(t.PrimaryKey))
		for i, k := range t.PrimaryKey {
			t.keyCols[i] = t.Column(k)
			t.keyTypes[i] = LookupString
			if c := t.keyCols[i]; c >= 0 {
				t.keyTypes[i] = t.Columns[c].Type
			}
		}
		t.index = make(map[string]int32, len(t.Rows))
		vals := make([]string, len(t.keyCols))
		var buf []byte
		for r, row := range t.Rows {
			ok := true
			for i, c := range t.keyCols {
				if c < 0 || c >= len(row) {
					ok = false
					break
				}
				vals[i] = row[c]
			}
			if !ok {
				continue
			}
			var good bool
			buf, good = t.appendKey(buf[:0], vals)
			if good {
				t.index[string(buf)] = int32(r)
			}
		}
	})
}

// appendKey appends the lookup key of the primary key values vals (in key
// order) to buf; ok=false when a value cannot match any row (a non-number
// for a numeric key).
func (t *LookupTable) appendKey(buf []byte, vals []string) ([]byte, bool) {
	return appendLookupKey(buf, t.keyTypes, vals)
}

func appendLookupKey(buf []byte, types, vals []string) ([]byte, bool) {
	for i, v := range vals {
		typ := LookupString
		if i < len(types) {
			typ = types[i]
		}
		k, ok := LookupKeyValue(typ, v)
		if !ok {
			return buf, false
		}
		buf = strconv.AppendInt(buf, int64(len(k)), 10)
		buf = append(buf, ':')
		buf = append(buf, k...)
	}
	return buf, true
}

// LookupRowKey returns the key of a row whose primary key columns, of the
// given types, hold vals: two rows with the same key are the same row of a
// table, and a lookup matches a row by it. ok=false when a value cannot be
// of its column's type.
func LookupRowKey(types, vals []string) (string, bool) {
	b, ok := appendLookupKey(nil, types, vals)
	return string(b), ok
}

// find returns the row whose primary key equals vals (in key order), or -1.
func (t *LookupTable) find(buf []byte, vals []string) ([]byte, int) {
	buf, ok := t.appendKey(buf[:0], vals)
	if !ok {
		return buf, -1
	}
	r, found := t.index[string(buf)]
	if !found {
		return buf, -1
	}
	return buf, int(r)
}

// LookupKeyValue returns the form in which a key value of a column of type
// typ is compared: strings and booleans case-insensitively (Sumo matches
// lookup keys without regard to case), numbers by value (1.0 matches 1).
// ok=false for a value that cannot be of the type.
func LookupKeyValue(typ, v string) (string, bool) {
	switch typ {
	case LookupLong, LookupDouble:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return "", false
		}
		if f == 0 {
			f = 0 // -0 == 0
		}
		return strconv.FormatFloat(f, 'g', -1, 64), true
	}
	if isASCIILower(v) {
		return v, true
	}
	return strings.ToLower(v), true
}

func isASCIILower(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || ('A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// CheckLookupValue reports whether v is a valid value for a column of type
// typ. Empty (null) is valid for every type.
func CheckLookupValue(typ, v string) bool {
	if v == "" {
		return true
	}
	switch typ {
	case LookupLong:
		_, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		return err == nil
	case LookupDouble:
		_, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return err == nil
	case LookupBoolean:
		return strings.EqualFold(v, "true") || strings.EqualFold(v, "false")
	}
	return true
}

// LookupSave is what the save operator writes.
//
// When the table exists, Columns are matched to its columns by name:
// columns the table does not have are dropped, and a table column missing
// from Columns is an error (Sumo's rule); values must suit the table's
// column types. When the table does not exist it is created with Columns,
// typed by Types (FieldInfo types; "int" and "long" become long, "double"
// double, others string), and keyed by PrimaryKey.
type LookupSave struct {
	Name       string
	Columns    []string
	Types      []string
	PrimaryKey []string
	// Rows hold one value per column; "" is null.
	Rows [][]string
	// Append merges the rows into the table by primary key (upsert);
	// otherwise they replace its rows.
	Append bool
	// User is who saves (Env.User).
	User string
}

// GeoResolver resolves IP addresses to locations (a GeoIP database).
type GeoResolver interface {
	// LookupGeo returns the location of ip; ok=false when the database
	// does not know the address. Callers pass only global unicast
	// addresses (never private, loopback or link-local ones).
	LookupGeo(ip netip.Addr) (loc GeoLocation, ok bool, err error)
}

// GeoLocation is what a GeoIP database knows of an address. Empty strings
// and zero confidences are unknown.
type GeoLocation struct {
	// HasCoordinates is set when Latitude and Longitude are known.
	HasCoordinates      bool
	Latitude, Longitude float64
	Continent           string // English name ("Europe")
	CountryCode         string // ISO 3166-1 alpha-2 ("DE")
	CountryName         string // English name ("Germany")
	Region              string // code of the first subdivision ("BE")
	State               string // English name of the first subdivision ("Berlin")
	City                string
	PostalCode          string
	ConnectionType      string
	// Confidences (0–100) where the database has them; 0 is unknown.
	CountryConfidence, StateConfidence, CityConfidence int
}

// ---- binding stages to the environment ----

// envBinder is implemented by the stageImpl of a stage that needs the
// environment. bind returns the implementation to run: it loads what the
// stage needs and reports a missing table or database as an error at the
// stage's position.
type envBinder interface {
	bind(ctx context.Context, b *binding) (stageImpl, error)
}

// binding carries what stages need while a plan is bound to a run.
type binding struct {
	env *Env
	// execute is set for Execute (not Histogram): save writes only then.
	execute bool
	// save is the save stage's action, run after the query succeeded.
	save *saveAction
	// last reports whether step i is the last one (save aside).
	last func(i int) bool
	// step is the index of the stage being bound.
	step int
	// out, when set, is the plan's output schema as binding learnt it (the
	// table's columns and types of a lookup ending a records query).
	out *schema
}

// needsEnv reports whether some stage of the plan needs the environment.
func (p *Plan) needsEnv() bool {
	for _, s := range p.steps {
		if _, ok := s.impl.(envBinder); ok {
			return true
		}
	}
	return false
}

// bindEnv returns the plan to run with opt.Env: p itself when no stage
// needs the environment, else a copy whose env-dependent stages are bound.
// The save action, if any, is returned for Execute to run at the end.
func (p *Plan) bindEnv(ctx context.Context, opt ExecOptions, execute bool) (*Plan, *saveAction, error) {
	if !p.needsEnv() {
		return p, nil, nil
	}
	env := opt.Env
	if env == nil {
		env = &Env{}
	}
	cp := *p
	cp.steps = append([]step(nil), p.steps...)
	b := &binding{env: env, execute: execute}
	b.last = func(i int) bool {
		for j := i + 1; j < len(cp.steps); j++ {
			if _, ok := cp.steps[j].impl.(*saveImpl); !ok {
				return false
			}
		}
		return true
	}
	for i := range cp.steps {
		eb, ok := cp.steps[i].impl.(envBinder)
		if !ok {
			continue
		}
		b.step = i
		impl, err := eb.bind(ctx, b)
		if err != nil {
			return nil, nil, err
		}
		cp.steps[i].impl = impl
	}
	if b.out != nil {
		cp.out = b.out
	}
	return &cp, b.save, nil
}

// runWithEnv executes fn over the plan bound to the environment, then, when fn
// succeeded, runs the save action.
func (p *Plan) runWithEnv(ctx context.Context, opt ExecOptions, sink Sink, fn func(p *Plan, sink Sink) (Stats, error)) (Stats, error) {
	bp, save, err := p.bindEnv(ctx, opt, true)
	if err != nil {
		return Stats{}, err
	}
	if save != nil {
		sink = save.tee(sink)
	}
	stats, err := fn(bp, sink)
	if err == nil && save != nil {
		err = save.commit(ctx)
	}
	return stats, err
}

// ---- lookup table names ----

// MaxLookupNameLength bounds a lookup table's name, in bytes.
const MaxLookupNameLength = 1024

// NormalizeLookupName returns the canonical name of a lookup table: a
// path of non-empty segments, each trimmed of spaces, joined by "/" and
// starting with "/". All the ways a query may name a table lead to it:
// path://"/Library/Users/me/admins" → /Library/Users/me/admins,
// shared/admins and /shared/admins → /shared/admins, a bare admins →
// /admins. Case is kept (names are compared without regard to ASCII case).
func NormalizeLookupName(name string) (string, error) {
	var segs []string
	for _, s := range strings.Split(name, "/") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		for _, r := range s {
			if unicode.IsControl(r) || r == '"' || r == '\\' {
				return "", fmt.Errorf("lookup table name %q: %q is not allowed in a name", name, r)
			}
		}
		if s == "." || s == ".." {
			return "", fmt.Errorf("lookup table name %q: %q is not a valid path segment", name, s)
		}
		segs = append(segs, s)
	}
	if len(segs) == 0 {
		return "", fmt.Errorf("lookup table name %q is empty", name)
	}
	out := "/" + strings.Join(segs, "/")
	if len(out) > MaxLookupNameLength {
		return "", fmt.Errorf("lookup table name is %d bytes long; the limit is %d", len(out), MaxLookupNameLength)
	}
	return out, nil
}

// CheckEnv reports what the plan needs from env that env lacks — a lookup
// table that does not exist, a column or key column it does not have, no
// GeoIP database, save not allowed — as the error, with its position, that
// Execute would fail with at its start. It loads the lookup tables the
// plan uses (a store may cache them for the run that follows) and writes
// nothing.
func (p *Plan) CheckEnv(ctx context.Context, env *Env) error {
	_, _, err := p.bindEnv(ctx, ExecOptions{Env: env}, false)
	return err
}
