// Package geoiptest writes small GeoIP databases for tests, in the City
// layout of GeoLite2/GeoIP2/DB-IP, with a few public networks of a few
// countries (IPv4 and IPv6). The locations are made up for tests (round
// numbers near real places); never download a real database in a test.
package geoiptest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Network is one network of the test database and what it holds.
type Network struct {
	CIDR                string
	Continent           string // English name
	ContinentCode       string
	CountryCode         string
	CountryName         string
	SubdivisionCode     string
	SubdivisionName     string
	City                string
	PostalCode          string
	Latitude, Longitude float64
	NoLocation          bool // leave location out
	CityConfidence      uint16
	ConnectionType      string
}

// Networks are the networks of the test database.
var Networks = []Network{
	{CIDR: "81.2.69.0/24", Continent: "Europe", ContinentCode: "EU", CountryCode: "GB", CountryName: "United Kingdom",
		SubdivisionCode: "ENG", SubdivisionName: "England", City: "London", PostalCode: "EC1A", Latitude: 51.5142, Longitude: -0.0931},
	{CIDR: "89.160.20.0/24", Continent: "Europe", ContinentCode: "EU", CountryCode: "SE", CountryName: "Sweden",
		SubdivisionCode: "E", SubdivisionName: "Östergötland County", City: "Linköping", PostalCode: "58247", Latitude: 58.4167, Longitude: 15.6167},
	{CIDR: "216.160.83.0/24", Continent: "North America", ContinentCode: "NA", CountryCode: "US", CountryName: "United States",
		SubdivisionCode: "WA", SubdivisionName: "Washington", City: "Milton", PostalCode: "98354", Latitude: 47.2513, Longitude: -122.3149,
		CityConfidence: 60, ConnectionType: "Cable/DSL"},
	{CIDR: "175.16.199.0/24", Continent: "Asia", ContinentCode: "AS", CountryCode: "CN", CountryName: "China",
		SubdivisionCode: "22", SubdivisionName: "Jilin Sheng", City: "Changchun", Latitude: 43.88, Longitude: 125.3228},
	{CIDR: "2001:218::/32", Continent: "Asia", ContinentCode: "AS", CountryCode: "JP", CountryName: "Japan",
		Latitude: 35.68536, Longitude: 139.75309},
	{CIDR: "2a02:d300::/32", Continent: "Europe", ContinentCode: "EU", CountryCode: "DE", CountryName: "Germany",
		SubdivisionCode: "BE", SubdivisionName: "Berlin", City: "Berlin", PostalCode: "10117", Latitude: 52.520008, Longitude: 13.404954},
	{CIDR: "67.43.156.0/24", Continent: "Asia", ContinentCode: "AS", CountryCode: "BT", CountryName: "Bhutan", NoLocation: true},
}

// Write writes the test database to path.
func Write(path string) error { return WriteNetworks(path, Networks) }

// WriteNetworks writes a test database of the given networks to path.
func WriteNetworks(path string, networks []Network) error {
	w, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType: "GeoLite2-City",
		Description:  map[string]string{"en": "dohyo test City database"},
		Languages:    []string{"en"},
		RecordSize:   24,
	})
	if err != nil {
		return err
	}
	for _, n := range networks {
		_, network, err := net.ParseCIDR(n.CIDR)
		if err != nil {
			return err
		}
		en := func(s string) mmdbtype.Map { return mmdbtype.Map{"en": mmdbtype.String(s)} }
		rec := mmdbtype.Map{
			"continent":          mmdbtype.Map{"code": mmdbtype.String(n.ContinentCode), "names": en(n.Continent)},
			"country":            mmdbtype.Map{"iso_code": mmdbtype.String(n.CountryCode), "names": en(n.CountryName)},
			"registered_country": mmdbtype.Map{"iso_code": mmdbtype.String(n.CountryCode), "names": en(n.CountryName)},
		}
		if n.City != "" {
			city := mmdbtype.Map{"names": en(n.City)}
			if n.CityConfidence > 0 {
				city["confidence"] = mmdbtype.Uint16(n.CityConfidence)
			}
			rec["city"] = city
		}
		if n.SubdivisionName != "" {
			rec["subdivisions"] = mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String(n.SubdivisionCode), "names": en(n.SubdivisionName)}}
		}
		if n.PostalCode != "" {
			rec["postal"] = mmdbtype.Map{"code": mmdbtype.String(n.PostalCode)}
		}
		if !n.NoLocation {
			rec["location"] = mmdbtype.Map{
				"latitude":        mmdbtype.Float64(n.Latitude),
				"longitude":       mmdbtype.Float64(n.Longitude),
				"accuracy_radius": mmdbtype.Uint16(100),
			}
		}
		if n.ConnectionType != "" {
			rec["traits"] = mmdbtype.Map{"connection_type": mmdbtype.String(n.ConnectionType)}
		}
		if err := w.Insert(network, rec); err != nil {
			return fmt.Errorf("insert %s: %w", n.CIDR, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := w.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Path writes the test database into a temporary folder of t and returns
// its path.
func Path(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "test-city.mmdb")
	if err := Write(p); err != nil {
		t.Fatalf("write test GeoIP database: %v", err)
	}
	return p
}
