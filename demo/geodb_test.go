package demo

import (
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/dohyo/dohyo/geoip"
)

func TestWriteGeoDB(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "demo-city.mmdb")
	if err := WriteGeoDB(p); err != nil {
		t.Fatal(err)
	}
	db, err := geoip.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Type() != GeoDBType || db.Attribution() != nil {
		t.Errorf("type %q, attribution %+v", db.Type(), db.Attribution())
	}
	for _, n := range GeoNetworks() {
		pf := netip.MustParsePrefix(n.CIDR)
		for _, a := range []netip.Addr{pf.Addr(), pf.Addr().Next().Next()} {
			loc, ok, err := db.LookupGeo(a)
			if err != nil || !ok || loc.CountryCode != n.Country || !loc.HasCoordinates || loc.City == "" || loc.CountryName == "" {
				t.Errorf("%s (%s, %s): %+v %v %v", a, n.CIDR, n.Country, loc, ok, err)
			}
		}
	}
	if loc, ok, err := db.LookupGeo(netip.MustParseAddr("8.8.8.8")); ok || err != nil {
		t.Errorf("8.8.8.8 is not a demo address: %+v %v %v", loc, ok, err)
	}
}
