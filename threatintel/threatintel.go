// Package threatintel holds the threat intelligence indicator lists behind
// the threatip operator: lists of IPv4/IPv6 addresses, networks and domain
// names, uploaded as CSV files or STIX 2.1 bundles.
//
// A list is a lookup table of the catalog named /threatintel/<name>, with
// the columns
//
//	indicator (primary key), type, actor, malicious_confidence, raw_threat
//
// so that a query can also use it with lookup:
//
//	| lookup actor, malicious_confidence from /threatintel/feodo on src_ip=indicator
//
// and threatip reads every list at once (Store, which implements
// query.ThreatIntelStore). Lists are replaced as a whole by each import.
package threatintel

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/query"
)

// Prefix is the lookup table folder of the threat lists.
const Prefix = "/threatintel/"

// Columns are a list table's columns, in order; the first is the key.
var Columns = []string{"indicator", "type", "actor", "malicious_confidence", "raw_threat"}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// TableName returns the lookup table of the list named name.
func TableName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if strings.HasPrefix(strings.ToLower(name), Prefix) {
		name = name[len(Prefix):]
	}
	if !nameRE.MatchString(name) {
		return "", fmt.Errorf("threat list name %q: use 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return Prefix + name, nil
}

// ListName returns the list name of a lookup table name, and whether the
// table is a threat list.
func ListName(table string) (string, bool) {
	if len(table) > len(Prefix) && strings.EqualFold(table[:len(Prefix)], Prefix) && !strings.Contains(table[len(Prefix):], "/") {
		return table[len(Prefix):], true
	}
	return "", false
}

// Classify returns the type of an indicator (ipv4, ipv6, ipv4-cidr,
// ipv6-cidr or domain) in its canonical spelling, or an error saying why
// it is none.
func Classify(s string) (canon, typ string, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "", errors.New("the indicator is empty")
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return "", "", fmt.Errorf("%q is not a network (CIDR)", s)
		}
		p = p.Masked()
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		if p.IsSingleIP() {
			if p.Addr().Is4() {
				return p.Addr().String(), "ipv4", nil
			}
			return p.Addr().String(), "ipv6", nil
		}
		if p.Addr().Is4() {
			return p.String(), "ipv4-cidr", nil
		}
		return p.String(), "ipv6-cidr", nil
	}
	if ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
		ip = ip.Unmap().WithZone("")
		if ip.Is4() {
			return ip.String(), "ipv4", nil
		}
		return ip.String(), "ipv6", nil
	}
	d := strings.ToLower(strings.TrimSuffix(s, "."))
	if domainRE.MatchString(d) && len(d) <= 253 {
		return d, "domain", nil
	}
	return "", "", fmt.Errorf("%q is not an IPv4 or IPv6 address, a network (CIDR) or a domain name", s)
}

var domainRE = regexp.MustCompile(`^([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z0-9-]{2,63}$`)

// Confidence normalizes a confidence: high, medium or low (words, or a
// number from 0 to 100: 75 and up is high, 40 and up medium). Empty
// stays empty.
func Confidence(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "", "high", "medium", "low":
		return s, nil
	case "none", "unknown":
		return "low", nil
	}
	var n float64
	if _, err := fmt.Sscanf(s, "%g", &n); err != nil || n < 0 || n > 100 {
		return "", fmt.Errorf("confidence %q: want high, medium, low or a number from 0 to 100", s)
	}
	switch {
	case n >= 75:
		return "high", nil
	case n >= 40:
		return "medium", nil
	}
	return "low", nil
}

// Parsed is what a file holds.
type Parsed struct {
	// Format is csv or stix.
	Format     string
	Indicators []query.ThreatIndicator
	// Skipped counts what the file holds that is not an address, network
	// or domain indicator (STIX patterns on file hashes, URLs, expired
	// or revoked indicators...), with the first few reasons.
	Skipped int
	Reasons []string
}

func (p *Parsed) skip(format string, args ...any) {
	p.Skipped++
	if len(p.Reasons) < 10 {
		p.Reasons = append(p.Reasons, fmt.Sprintf(format, args...))
	}
}

// Parse reads a list: a STIX 2.1 bundle (JSON) or a CSV file, told apart
// by their first character. source names the file in errors.
func Parse(data []byte, source string) (*Parsed, error) {
	t := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(t) == 0 {
		return nil, fmt.Errorf("%s: the file is empty", source)
	}
	if t[0] == '{' || t[0] == '[' {
		return ParseSTIX(t, source)
	}
	return ParseCSV(t, source)
}

// ParseCSV reads a CSV list. The header names the columns: indicator (or
// ip, ip_address, address, domain, value, ioc) is required; type, actor
// (or threat_actor), malicious_confidence (or confidence) and raw_threat
// are optional. Every row must hold a valid indicator: the error names
// the line of the first bad one.
func ParseCSV(data []byte, source string) (*Parsed, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: line 1: %v", source, err)
	}
	col := map[string]int{}
	aliases := map[string]string{"indicator": "indicator", "ip": "indicator", "ip_address": "indicator", "address": "indicator", "domain": "indicator",
		"value": "indicator", "ioc": "indicator", "type": "type", "indicator_type": "type", "actor": "actor", "threat_actor": "actor",
		"malicious_confidence": "malicious_confidence", "confidence": "malicious_confidence", "raw_threat": "raw_threat"}
	for i, h := range header {
		k := strings.ToLower(strings.TrimSpace(h))
		if c, ok := aliases[k]; ok {
			if _, dup := col[c]; !dup {
				col[c] = i
			}
		}
	}
	ic, ok := col["indicator"]
	if !ok {
		return nil, fmt.Errorf("%s: line 1: the header (%s) has no indicator column: name it indicator (or ip, domain, value); optional columns: type, actor, malicious_confidence, raw_threat", source, strings.Join(header, ","))
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	out := &Parsed{Format: "csv"}
	for {
		rec, err := r.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("%s: %v", source, err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" || strings.HasPrefix(strings.TrimSpace(rec[0]), "#") {
			continue
		}
		if ic >= len(rec) {
			return nil, fmt.Errorf("%s: line %d: no value in the indicator column", source, line)
		}
		canon, typ, err := Classify(rec[ic])
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: %v", source, line, err)
		}
		if t := strings.ToLower(get(rec, "type")); t != "" && !typeAgrees(t, typ) {
			return nil, fmt.Errorf("%s: line %d: type %q, but %s is an indicator of type %s", source, line, t, canon, typ)
		}
		conf, err := Confidence(get(rec, "malicious_confidence"))
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: %v", source, line, err)
		}
		raw := get(rec, "raw_threat")
		if raw == "" {
			m := map[string]string{}
			for i, h := range header {
				if i < len(rec) && rec[i] != "" {
					m[strings.TrimSpace(h)] = rec[i]
				}
			}
			raw = compactJSON(m)
		}
		out.Indicators = append(out.Indicators, query.ThreatIndicator{Indicator: canon, Type: typ, Actor: get(rec, "actor"),
			MaliciousConfidence: conf, RawThreat: clip(raw)})
	}
	if len(out.Indicators) == 0 {
		return nil, fmt.Errorf("%s: no indicators after the header", source)
	}
	return out, nil
}

// typeAgrees accepts the usual spellings of an indicator's type: an
// address or network type for an address or network, a domain type for a
// domain.
func typeAgrees(given, typ string) bool {
	g := strings.NewReplacer("_", "-", " ", "-").Replace(given)
	switch g {
	case "ip", "ipv4", "ipv6", "ipv4-cidr", "ipv6-cidr", "ip-address", "ipv4-addr", "ipv6-addr", "cidr", "network":
		return typ != "domain"
	case "domain", "domain-name", "hostname", "fqdn":
		return typ == "domain"
	}
	return false
}

// maxRaw keeps raw_threat within a lookup value's limit.
const maxRaw = catalog.MaxLookupValueBytes

func clip(s string) string {
	if len(s) <= maxRaw {
		return s
	}
	cut := maxRaw - 3
	for cut > 0 && (s[cut]&0xC0) == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

// ---- storing lists ----

// List describes a stored threat list.
type List struct {
	catalog.LookupTable
	// Name is the list's name; Table its lookup table's.
	Name  string `json:"name"`
	Table string `json:"table"`
}

// Import replaces the list named name with the indicators (creating its
// table when needed) and returns it.
func Import(ctx context.Context, cat *catalog.Catalog, name, description string, inds []query.ThreatIndicator, by string) (*List, error) {
	table, err := TableName(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", catalog.ErrInvalid, err)
	}
	if len(inds) == 0 {
		return nil, fmt.Errorf("%w: the list has no indicators", catalog.ErrInvalid)
	}
	t, err := cat.GetLookupByName(ctx, table)
	if errors.Is(err, catalog.ErrNotFound) {
		fields := make([]catalog.LookupField, len(Columns))
		for i, c := range Columns {
			fields[i] = catalog.LookupField{Name: c, Type: query.LookupString}
		}
		if description == "" {
			description = "threat intelligence indicators (threatip)"
		}
		t, err = cat.CreateLookup(ctx, catalog.LookupSpec{Name: table, Description: description, PrimaryKeys: Columns[:1], Fields: fields}, by)
	}
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(Columns)
	for _, in := range inds {
		w.Write([]string{in.Indicator, in.Type, in.Actor, in.MaliciousConfidence, clip(in.RawThreat)})
	}
	w.Flush()
	if _, err := cat.UploadLookupCSV(ctx, t.ID, &b, false, by); err != nil {
		return nil, err
	}
	t, err = cat.GetLookup(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	n, _ := ListName(t.Name)
	return &List{Name: n, Table: t.Name, LookupTable: *t}, nil
}

// Lists returns the stored threat lists.
func Lists(ctx context.Context, cat *catalog.Catalog) ([]*List, error) {
	all, err := cat.ListLookups(ctx)
	if err != nil {
		return nil, err
	}
	out := []*List{}
	for _, t := range all {
		if n, ok := ListName(t.Name); ok {
			out = append(out, &List{Name: n, Table: t.Name, LookupTable: *t})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Delete removes the list named name.
func Delete(ctx context.Context, cat *catalog.Catalog, name string) error {
	table, err := TableName(name)
	if err != nil {
		return fmt.Errorf("%w: %v", catalog.ErrInvalid, err)
	}
	t, err := cat.GetLookupByName(ctx, table)
	if err != nil {
		return err
	}
	return cat.DeleteLookup(ctx, t.ID)
}

// Store gives threatip every stored list's indicators, merged; the merged
// set is kept until a list changes.
type Store struct {
	Catalog *catalog.Catalog

	mu  sync.Mutex
	sig string
	set *query.ThreatIndicators
}

var _ query.ThreatIntelStore = (*Store)(nil)

// ThreatIndicators implements query.ThreatIntelStore.
func (s *Store) ThreatIndicators(ctx context.Context) (*query.ThreatIndicators, error) {
	lists, err := Lists(ctx, s.Catalog)
	if err != nil {
		return nil, err
	}
	var sig strings.Builder
	for _, l := range lists {
		fmt.Fprintf(&sig, "%s@%d/%d/%d;", l.ID, l.UpdatedAt.UnixNano(), l.RowCount, l.SizeBytes)
	}
	s.mu.Lock()
	if s.set != nil && s.sig == sig.String() {
		set := s.set
		s.mu.Unlock()
		return set, nil
	}
	s.mu.Unlock()
	var inds []query.ThreatIndicator
	for _, l := range lists {
		t, err := s.Catalog.LoadLookup(ctx, l.Table)
		if err != nil {
			return nil, fmt.Errorf("threat list %s: %w", l.Name, err)
		}
		cols := make([]int, len(Columns))
		for i, c := range Columns {
			cols[i] = t.Column(c)
		}
		val := func(row []string, i int) string {
			if c := cols[i]; c >= 0 && c < len(row) {
				return row[c]
			}
			return ""
		}
		for _, row := range t.Rows {
			inds = append(inds, query.ThreatIndicator{Indicator: val(row, 0), Type: val(row, 1), Actor: val(row, 2), MaliciousConfidence: val(row, 3), RawThreat: val(row, 4)})
		}
	}
	set := query.NewThreatIndicators(inds)
	s.mu.Lock()
	s.sig, s.set = sig.String(), set
	s.mu.Unlock()
	return set, nil
}
