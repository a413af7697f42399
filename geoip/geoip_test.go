package geoip_test

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/geoip"
	"github.com/dohyo/dohyo/geoip/geoiptest"
	"github.com/dohyo/dohyo/query"
	"github.com/dohyo/dohyo/store/embedded"
)

func openTestDB(t *testing.T) *geoip.DB {
	t.Helper()
	db, err := geoip.Open(geoiptest.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestLookup(t *testing.T) {
	db := openTestDB(t)
	if db.Type() != "GeoLite2-City" || db.BuildTime().IsZero() {
		t.Errorf("metadata: type %q, built %s", db.Type(), db.BuildTime())
	}
	cases := []struct {
		ip   string
		want query.GeoLocation
	}{
		{"81.2.69.142", query.GeoLocation{HasCoordinates: true, Latitude: 51.5142, Longitude: -0.0931, Continent: "Europe", CountryCode: "GB",
			CountryName: "United Kingdom", Region: "ENG", State: "England", City: "London", PostalCode: "EC1A"}},
		{"::ffff:81.2.69.1", query.GeoLocation{HasCoordinates: true, Latitude: 51.5142, Longitude: -0.0931, Continent: "Europe", CountryCode: "GB",
			CountryName: "United Kingdom", Region: "ENG", State: "England", City: "London", PostalCode: "EC1A"}},
		{"216.160.83.56", query.GeoLocation{HasCoordinates: true, Latitude: 47.2513, Longitude: -122.3149, Continent: "North America", CountryCode: "US",
			CountryName: "United States", Region: "WA", State: "Washington", City: "Milton", PostalCode: "98354", CityConfidence: 60, ConnectionType: "Cable/DSL"}},
		{"2001:218:1:2::3", query.GeoLocation{HasCoordinates: true, Latitude: 35.68536, Longitude: 139.75309, Continent: "Asia", CountryCode: "JP", CountryName: "Japan"}},
		{"2a02:d300::1", query.GeoLocation{HasCoordinates: true, Latitude: 52.520008, Longitude: 13.404954, Continent: "Europe", CountryCode: "DE",
			CountryName: "Germany", Region: "BE", State: "Berlin", City: "Berlin", PostalCode: "10117"}},
		{"67.43.156.7", query.GeoLocation{Continent: "Asia", CountryCode: "BT", CountryName: "Bhutan"}},
	}
	for _, c := range cases {
		got, ok, err := db.LookupGeo(netip.MustParseAddr(c.ip))
		if err != nil || !ok || got != c.want {
			t.Errorf("LookupGeo(%s) = %+v, %v, %v; want %+v", c.ip, got, ok, err, c.want)
		}
	}
	for _, ip := range []string{"8.8.8.8", "2600::1", "81.2.70.1"} {
		if got, ok, err := db.LookupGeo(netip.MustParseAddr(ip)); ok || err != nil {
			t.Errorf("LookupGeo(%s) = %+v, %v, %v; want not found", ip, got, ok, err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := geoip.Open(filepath.Join(dir, "missing.mmdb")); err == nil || !strings.Contains(err.Error(), "missing.mmdb") {
		t.Errorf("missing file: %v", err)
	}
	junk := filepath.Join(dir, "junk.mmdb")
	os.WriteFile(junk, []byte("this is not a MaxMind database at all"), 0o644)
	if _, err := geoip.Open(junk); err == nil || !strings.Contains(err.Error(), "MaxMind-format") {
		t.Errorf("junk file: %v", err)
	}
	// An ASN database has no locations.
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-ASN", RecordSize: 24})
	if err != nil {
		t.Fatal(err)
	}
	_, n, _ := netParseCIDR("81.2.69.0/24")
	if err := w.Insert(n, mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(20712)}); err != nil {
		t.Fatal(err)
	}
	asn := filepath.Join(dir, "asn.mmdb")
	f, _ := os.Create(asn)
	w.WriteTo(f)
	f.Close()
	if _, err := geoip.Open(asn); err == nil || !strings.Contains(err.Error(), "City database") {
		t.Errorf("ASN database: %v", err)
	}
}

// TestQuery runs geo lookup through the query engine over the real
// database, pushed down and all-Go, before and after an aggregate.
func TestQuery(t *testing.T) {
	db := openTestDB(t)
	st, err := embedded.Open(t.TempDir(), embedded.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	ips := []string{"81.2.69.142", "81.2.69.143", "2a02:d300::42", "10.1.2.3", "garbage", "8.8.8.8", "216.160.83.56", "::ffff:89.160.20.112"}
	for i, ip := range ips {
		b := &event.Batch{ReceiptTime: base.UnixNano(), Source: event.Source{Category: "geo"}, Fields: []event.Field{{Name: "src_ip", Value: ip}},
			Events: []event.Event{{Time: base.Add(time.Duration(i) * time.Second).UnixNano(), Raw: "login from " + ip}}}
		if err := st.Add(context.Background(), uint64(i+1), b, nil); err != nil {
			t.Fatal(err)
		}
	}
	st.Flush()
	rng := query.Range{Start: base.Add(-time.Minute), End: base.Add(time.Hour)}
	want := map[string]string{
		`* | lookup latitude, longitude, country_code from geo://location on ip=src_ip | count by latitude, longitude, country_code`: `` +
			`latitude= longitude= country_code= _count=3
latitude=47.2513 longitude=-122.3149 country_code=US _count=1
latitude=51.5142 longitude=-0.0931 country_code=GB _count=2
latitude=52.52001 longitude=13.40495 country_code=DE _count=1
latitude=58.4167 longitude=15.6167 country_code=SE _count=1
`,
		// After an aggregate: one record per address.
		`* | count by src_ip | geoip src_ip | count by country_name, city, state`: `` +
			`country_name= city= state= _count=3
country_name=Germany city=Berlin state=Berlin _count=1
country_name=Sweden city=Linköping state=Östergötland County _count=1
country_name=United Kingdom city=London state=England _count=2
country_name=United States city=Milton state=Washington _count=1
`,
		`* | geoip src_ip continent, region, postal_code, connection_type, city_cf | count by continent, region, postal_code, connection_type, city_cf`: `` +
			`continent= region= postal_code= connection_type= city_cf= _count=3
continent=Europe region=BE postal_code=10117 connection_type= city_cf= _count=1
continent=Europe region=E postal_code=58247 connection_type= city_cf= _count=1
continent=Europe region=ENG postal_code=EC1A connection_type= city_cf= _count=2
continent=North America region=WA postal_code=98354 connection_type=Cable/DSL city_cf=60 _count=1
`,
	}
	for text, exp := range want {
		for _, push := range []bool{true, false} {
			q, err := query.Parse(text)
			if err != nil {
				t.Fatal(err)
			}
			p, err := query.Compile(q, query.CompileOptions{PushDown: push})
			if err != nil {
				t.Fatal(err)
			}
			s := &sink{}
			if _, err := p.Execute(context.Background(), st, query.ExecOptions{Range: rng, Env: &query.Env{GeoIP: db}}, s); err != nil {
				t.Fatalf("%s: %v", text, err)
			}
			if s.text != exp {
				t.Errorf("%s (push=%v):\n%s\nwant\n%s", text, push, s.text, exp)
			}
		}
	}
	// Without a database the query fails at start, saying how to fix it.
	q, _ := query.Parse(`* | geoip src_ip | count by country_code`)
	p, _ := query.Compile(q, query.CompileOptions{PushDown: true})
	_, err = p.Execute(context.Background(), st, query.ExecOptions{Range: rng}, &sink{})
	if err == nil || !strings.Contains(err.Error(), "--geoip-db") || !strings.Contains(err.Error(), "line 1, column 5") {
		t.Errorf("without a database: %v", err)
	}
}

type sink struct{ text string }

func (s *sink) Messages([]query.Row) error { return nil }
func (s *sink) Records(_ []query.FieldInfo, rows []query.Row) error {
	for _, r := range rows {
		for i, f := range r {
			if i > 0 {
				s.text += " "
			}
			s.text += f.Name + "=" + f.Value
		}
		s.text += "\n"
	}
	return nil
}

func netParseCIDR(s string) (net.IP, *net.IPNet, error) { return net.ParseCIDR(s) }
