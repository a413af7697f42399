package query

import (
	"context"
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// Geo lookup (spec §7.4): the location of an IP address, from the GeoIP
// database of the execution environment (Env.GeoIP, a MaxMind-format City
// database configured with "dohyo serve --geoip-db FILE"):
//
//	lookup latitude, longitude, country_code from geo://location on ip=src_ip
//	lookup * from geo://location on ip=src_ip
//	geoip src_ip [region, continent, ...]
//
// The fields (geoFields): latitude and longitude (doubles rounded to 5
// decimals), continent (English name), country_code (ISO 3166-1 alpha-2),
// country_name, region (the code of the first subdivision, e.g. "CA"),
// state (its English name, e.g. "California"), city, postal_code,
// connection_type, and the confidences country_cf, state_cf, city_cf
// (0–100, only in databases that have them). Sumo's data comes from
// Neustar; these are MaxMind's (GeoLite2/GeoIP2/DB-IP City layout), so
// names may be spelled differently and region is our choice of mapping.
//
// "geoip f" adds the default fields latitude, longitude, country_code,
// country_name, city and state, plus the optional ones listed after the
// field.
//
// A null, invalid, private, loopback, link-local or unknown address gives
// nulls (removing fields of those names the row had). IPv4 and IPv6;
// IPv4-mapped IPv6 addresses are looked up as IPv4. Works on messages and
// after an aggregate (count by src_ip | lookup ... on ip=src_ip). Go only.
// Without a configured database, a run using geo lookup fails at its
// start with an error saying how to configure one (never silent nulls).

func init() { registerStage("geoip", (*parser).parseGeoIP) }

// geoField is an output field of geo lookup.
type geoField struct {
	name, typ string
	value     func(l *GeoLocation) string
}

func geoCoord(ok bool, v float64) string {
	if !ok {
		return ""
	}
	return FormatNumber(math.Round(v*1e5) / 1e5)
}

func geoConfidence(c int) string {
	if c <= 0 {
		return ""
	}
	return strconv.Itoa(c)
}

var geoFields = []geoField{
	{"latitude", "double", func(l *GeoLocation) string { return geoCoord(l.HasCoordinates, l.Latitude) }},
	{"longitude", "double", func(l *GeoLocation) string { return geoCoord(l.HasCoordinates, l.Longitude) }},
	{"continent", "string", func(l *GeoLocation) string { return l.Continent }},
	{"country_code", "string", func(l *GeoLocation) string { return l.CountryCode }},
	{"country_name", "string", func(l *GeoLocation) string { return l.CountryName }},
	{"region", "string", func(l *GeoLocation) string { return l.Region }},
	{"state", "string", func(l *GeoLocation) string { return l.State }},
	{"city", "string", func(l *GeoLocation) string { return l.City }},
	{"postal_code", "string", func(l *GeoLocation) string { return l.PostalCode }},
	{"connection_type", "string", func(l *GeoLocation) string { return l.ConnectionType }},
	{"country_cf", "int", func(l *GeoLocation) string { return geoConfidence(l.CountryConfidence) }},
	{"state_cf", "int", func(l *GeoLocation) string { return geoConfidence(l.StateConfidence) }},
	{"city_cf", "int", func(l *GeoLocation) string { return geoConfidence(l.CityConfidence) }},
}

// geoDefaultFields are what "geoip f" adds.
var geoDefaultFields = []string{"latitude", "longitude", "country_code", "country_name", "city", "state"}

func geoFieldIndex(name string) int {
	for i, f := range geoFields {
		if f.name == name {
			return i
		}
	}
	return -1
}

func geoFieldNames() []string {
	out := make([]string, len(geoFields))
	for i, f := range geoFields {
		out[i] = f.name
	}
	return out
}

func unknownGeoField(f FieldRef) *Error {
	e := errorf(f.Pos, "geo lookup has no field %s (it has %s)", fieldText(f.Name), strings.Join(geoFieldNames(), ", "))
	e.Hint = didYouMean(f.Name, geoFieldNames())
	return e
}

// checkGeoLookup checks a "lookup ... from geo://location" at parse time.
func checkGeoLookup(st *LookupStage) *Error {
	for _, o := range st.Outputs {
		if !o.Column.Param && geoFieldIndex(strings.ToLower(o.Column.Name)) < 0 {
			return unknownGeoField(o.Column)
		}
	}
	if len(st.On) != 1 {
		return errorf(st.OnPos, "geo lookup takes one condition, on ip=<field>")
	}
	j := st.On[0]
	if !strings.EqualFold(j.Left.Name, "ip") && !strings.EqualFold(j.Right.Name, "ip") {
		return errorf(j.Left.Pos, "geo lookup matches on ip: write on ip=%s", j.Left.String())
	}
	return nil
}

// geoEventField returns the event side of a geo lookup's condition.
func geoEventField(j LookupJoin) FieldRef {
	if strings.EqualFold(j.Left.Name, "ip") && !j.Left.Param {
		return j.Right
	}
	return j.Left
}

// GeoIPStage is "geoip <field> [<optional field>, ...]".
type GeoIPStage struct {
	Pos   Pos
	Field FieldRef
	// Extra are the optional fields requested besides the defaults.
	Extra []FieldRef
}

// Position implements Node.
func (s *GeoIPStage) Position() Pos { return s.Pos }

// Name implements Stage.
func (s *GeoIPStage) Name() string { return "geoip" }

func (s *GeoIPStage) aggregate() bool { return false }

func (s *GeoIPStage) walkFields(fn func(FieldRef)) {
	fn(s.Field)
	for _, f := range s.Extra {
		fn(f)
	}
}

// String implements Node.
func (s *GeoIPStage) String() string {
	var b strings.Builder
	b.WriteString("geoip " + s.Field.String())
	for i, f := range s.Extra {
		if i == 0 {
			b.WriteString(" ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(f.String())
	}
	return b.String()
}

// parseGeoIP parses a geoip stage; the current token is "geoip".
func (p *parser) parseGeoIP() (Stage, *Error) {
	st := &GeoIPStage{Pos: p.tok.pos}
	p.advance()
	f, err := p.parseFieldRef("holding the IP address after geoip")
	if err != nil {
		return nil, err
	}
	st.Field = f
	if p.tok.typ == tokComma {
		p.advance()
	}
	seen := map[string]bool{}
	for _, d := range geoDefaultFields {
		seen[d] = true
	}
	for p.tok.typ == tokTerm || p.tok.typ == tokField {
		x, err := p.parseFieldRef("after geoip")
		if err != nil {
			return nil, err
		}
		if geoFieldIndex(x.Name) < 0 {
			return nil, unknownGeoField(x)
		}
		if seen[x.Name] {
			return nil, errorf(x.Pos, "geoip already returns %s", x.Name)
		}
		seen[x.Name] = true
		st.Extra = append(st.Extra, x)
		if p.tok.typ != tokComma {
			break
		}
		p.advance()
	}
	if err := p.expectStageEnd("geoip"); err != nil {
		return nil, err
	}
	return st, nil
}

func (s *GeoIPStage) compile(c *compiler, in *schema) (stageImpl, *Error) {
	names := append([]string(nil), geoDefaultFields...)
	for _, x := range s.Extra {
		names = append(names, x.Name)
	}
	outs := make([]LookupOutput, len(names))
	for i, n := range names {
		outs[i] = LookupOutput{Column: FieldRef{Pos: s.Pos, Name: n}}
	}
	return newGeoImpl(c, s.String(), s.Pos, s.Field, outs, in)
}

// compileGeoLookup compiles "lookup ... from geo://location on ip=f".
func compileGeoLookup(c *compiler, s *LookupStage, in *schema) (stageImpl, *Error) {
	outs := s.Outputs
	if s.All {
		outs = make([]LookupOutput, len(geoFields))
		for i, f := range geoFields {
			outs[i] = LookupOutput{Column: FieldRef{Pos: s.Pos, Name: f.name}}
		}
	}
	return newGeoImpl(c, s.String(), s.From.Pos, geoEventField(s.On[0]), outs, in)
}

func newGeoImpl(c *compiler, text string, pos Pos, ipField FieldRef, outs []LookupOutput, in *schema) (stageImpl, *Error) {
	if _, err := c.resolveField(ipField, in); err != nil {
		return nil, err
	}
	g := &geoImpl{text: text, pos: pos, ipField: ipField.Name, in: in}
	out := &schema{records: in.records, fields: append([]FieldInfo(nil), in.fields...)}
	for _, o := range outs {
		k := geoFieldIndex(strings.ToLower(o.Column.Name))
		if k < 0 {
			return nil, unknownGeoField(o.Column)
		}
		name := o.name()
		if b := lookupBuiltin(name); b != nil {
			return nil, errorf(o.As.Pos, "lookup cannot set the built-in field %s", b.name)
		}
		g.fields = append(g.fields, k)
		g.names = append(g.names, name)
		out.fields = setSchemaField(out.fields, FieldInfo{Name: name, Type: geoFields[k].typ})
	}
	g.out = out
	return g, nil
}

// geoImpl is a compiled geo lookup.
type geoImpl struct {
	text    string
	pos     Pos
	ipField string
	fields  []int    // geoFields index per output
	names   []string // output names
	in, out *schema
}

func (g *geoImpl) output() *schema              { return g.out }
func (g *geoImpl) aggregate() bool              { return false }
func (g *geoImpl) logsQL(string) (string, bool) { return "", false }
func (g *geoImpl) explain() string              { return g.text }
func (g *geoImpl) newOperator(next rowSink) rowSink {
	return &unboundOp{what: "geo lookup", next: next}
}

// GeoIPNotConfigured is the message of a run that needs a GeoIP database
// when none is configured.
const GeoIPNotConfigured = "geo lookup needs a GeoIP database, and none is configured"

func (g *geoImpl) bind(_ context.Context, b *binding) (stageImpl, error) {
	if b.env.GeoIP == nil {
		return nil, errorf(g.pos, GeoIPNotConfigured).
			withHint("start the server with --geoip-db FILE (or set DOHYO_GEOIP_DB=FILE), FILE being a MaxMind-format City database such as GeoLite2-City.mmdb or DB-IP's dbip-city-lite.mmdb")
	}
	return &boundGeo{geoImpl: g, db: b.env.GeoIP, cache: make(map[string]geoAnswer)}, nil
}

// geoAnswer is a cached lookup: the output values, or none.
type geoAnswer struct {
	vals []string // nil: no location
}

// geoCacheSize bounds the per-run cache of looked-up addresses.
const geoCacheSize = 1 << 16

// boundGeo is a geo lookup bound to the database. The cache is per run
// (push is never called concurrently).
type boundGeo struct {
	*geoImpl
	db    GeoResolver
	cache map[string]geoAnswer
}

func (g *boundGeo) newOperator(next rowSink) rowSink {
	op := &geoOp{g: g, next: next, nulls: make([]string, len(g.names))}
	if g.out.records {
		op.rec = newRecordSetter(g.in, g.out, g.names)
	}
	return op
}

// resolve returns the output values for the address text s, nil for none.
func (g *boundGeo) resolve(s string) ([]string, error) {
	if a, ok := g.cache[s]; ok {
		return a.vals, nil
	}
	var vals []string
	if ip, ok := geoAddr(s); ok {
		loc, found, err := g.db.LookupGeo(ip)
		if err != nil {
			return nil, err
		}
		if found {
			vals = make([]string, len(g.fields))
			any := false
			for i, k := range g.fields {
				vals[i] = geoFields[k].value(&loc)
				any = any || vals[i] != ""
			}
			if !any {
				vals = nil
			}
		}
	}
	if len(g.cache) >= geoCacheSize {
		clear(g.cache)
	}
	g.cache[s] = geoAnswer{vals: vals}
	return vals, nil
}

// geoAddr parses an address worth looking up: a global unicast address that
// is not private. IPv4-mapped IPv6 addresses become IPv4; zones are dropped.
func geoAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	ip = ip.Unmap().WithZone("")
	if !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return netip.Addr{}, false
	}
	return ip, true
}

// geoOp is the Go geo lookup.
type geoOp struct {
	g     *boundGeo
	next  rowSink
	rec   *recordSetter
	nulls []string
	buf   []Row
}

func (o *geoOp) push(rows []Row) error {
	o.buf = o.buf[:0]
	for _, r := range rows {
		var vals []string
		if v := r.Get(o.g.ipField); v != "" {
			var err error
			if vals, err = o.g.resolve(v); err != nil {
				return err
			}
		}
		if vals == nil {
			vals = o.nulls
		}
		if o.rec != nil {
			o.buf = append(o.buf, o.rec.set(r, vals))
		} else {
			o.buf = append(o.buf, setMessageFields(r, o.g.names, vals))
		}
	}
	return o.next.push(o.buf)
}

func (o *geoOp) finish() error { return o.next.finish() }
