package demo

import (
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// GeoDBType is the database type of the database WriteGeoDB writes.
const GeoDBType = "dohyo-demo-City"

// geoPlace is where WriteGeoDB puts an address block: a large city of
// its country (the block's operator's home where it is known).
type geoPlace struct {
	continentCode, continent, countryName string
	subdivision, city                     string
	lat, lon                              float64
}

// countryPlaces places each country's blocks; blockPlaces overrides by
// block.
var countryPlaces = map[string]geoPlace{
	"AU": {"OC", "Oceania", "Australia", "New South Wales", "Sydney", -33.87, 151.21},
	"BR": {"SA", "South America", "Brazil", "São Paulo", "São Paulo", -23.55, -46.63},
	"CA": {"NA", "North America", "Canada", "Ontario", "Toronto", 43.65, -79.38},
	"CN": {"AS", "Asia", "China", "Beijing", "Beijing", 39.90, 116.40},
	"DE": {"EU", "Europe", "Germany", "Hesse", "Frankfurt am Main", 50.11, 8.68},
	"FR": {"EU", "Europe", "France", "Île-de-France", "Paris", 48.86, 2.35},
	"GB": {"EU", "Europe", "United Kingdom", "England", "London", 51.51, -0.13},
	"IN": {"AS", "Asia", "India", "Maharashtra", "Mumbai", 19.08, 72.88},
	"JP": {"AS", "Asia", "Japan", "Tokyo", "Tokyo", 35.68, 139.76},
	"KR": {"AS", "Asia", "South Korea", "Seoul", "Seoul", 37.57, 126.98},
	"NG": {"AF", "Africa", "Nigeria", "Lagos", "Lagos", 6.52, 3.38},
	"RO": {"EU", "Europe", "Romania", "Bucharest", "Bucharest", 44.43, 26.10},
	"RU": {"EU", "Europe", "Russia", "Moscow", "Moscow", 55.76, 37.62},
	"US": {"NA", "North America", "United States", "Pennsylvania", "Philadelphia", 39.95, -75.17},
	"VN": {"AS", "Asia", "Vietnam", "Hanoi", "Hanoi", 21.03, 105.85},
}

var blockPlaces = map[string]geoPlace{
	"96.224.0.0/11":  {"NA", "North America", "United States", "New York", "New York", 40.71, -74.01},
	"172.32.0.0/11":  {"NA", "North America", "United States", "Washington", "Seattle", 47.61, -122.33},
	"3.208.0.0/12":   {"NA", "North America", "United States", "Virginia", "Ashburn", 39.04, -77.49},
	"66.249.64.0/19": {"NA", "North America", "United States", "California", "Mountain View", 37.39, -122.08},
	"157.55.39.0/24": {"NA", "North America", "United States", "Washington", "Redmond", 47.67, -122.12},
	"88.64.0.0/12":   {"EU", "Europe", "Germany", "North Rhine-Westphalia", "Düsseldorf", 51.23, 6.78},
	"153.128.0.0/9":  {"AS", "Asia", "Japan", "Osaka", "Osaka", 34.69, 135.50},
	"58.160.0.0/12":  {"OC", "Oceania", "Australia", "Victoria", "Melbourne", -37.81, 144.96},
	"189.0.0.0/11":   {"SA", "South America", "Brazil", "Rio de Janeiro", "Rio de Janeiro", -22.91, -43.17},
	"61.128.0.0/10":  {"AS", "Asia", "China", "Guangdong", "Guangzhou", 23.13, 113.26},
	"14.160.0.0/11":  {"AS", "Asia", "Vietnam", "Ho Chi Minh City", "Ho Chi Minh City", 10.82, 106.63},
	"95.24.0.0/13":   {"EU", "Europe", "Russia", "Saint Petersburg", "Saint Petersburg", 59.93, 30.36},
	"106.192.0.0/11": {"AS", "Asia", "India", "Delhi", "New Delhi", 28.61, 77.21},
	"82.224.0.0/11":  {"EU", "Europe", "France", "Auvergne-Rhône-Alpes", "Lyon", 45.76, 4.84},
	"197.210.0.0/16": {"AF", "Africa", "Nigeria", "Federal Capital Territory", "Abuja", 9.08, 7.40},
	"109.144.0.0/12": {"EU", "Europe", "United Kingdom", "England", "Manchester", 53.48, -2.24},
	"121.128.0.0/10": {"AS", "Asia", "South Korea", "Busan", "Busan", 35.18, 129.08},
	"98.192.0.0/10":  {"NA", "North America", "United States", "Illinois", "Chicago", 41.88, -87.63},
	"91.0.0.0/10":    {"EU", "Europe", "Germany", "Berlin", "Berlin", 52.52, 13.40},
}

// WriteGeoDB writes a small GeoIP database (MaxMind's City layout) that
// locates exactly the demo's address blocks (GeoNetworks): each in its
// country, at a large city. It lets the demo's maps and country panels
// work without downloading a real database (make run fetches DB-IP's;
// the browser tests and machines without network use this one). It knows
// no other address.
func WriteGeoDB(path string) error {
	w, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType: GeoDBType,
		Description:  map[string]string{"en": "dohyo demo: the demo traffic's address blocks only"},
		Languages:    []string{"en"},
		RecordSize:   24,
	})
	if err != nil {
		return err
	}
	en := func(s string) mmdbtype.Map { return mmdbtype.Map{"en": mmdbtype.String(s)} }
	for _, g := range GeoNetworks() {
		p, ok := blockPlaces[g.CIDR]
		if !ok {
			if p, ok = countryPlaces[g.Country]; !ok {
				return fmt.Errorf("demo GeoIP database: no place for %s (%s)", g.CIDR, g.Country)
			}
		}
		_, network, err := net.ParseCIDR(g.CIDR)
		if err != nil {
			return err
		}
		country := mmdbtype.Map{"iso_code": mmdbtype.String(g.Country), "names": en(p.countryName)}
		rec := mmdbtype.Map{
			"continent":          mmdbtype.Map{"code": mmdbtype.String(p.continentCode), "names": en(p.continent)},
			"country":            country,
			"registered_country": country,
			"city":               mmdbtype.Map{"names": en(p.city)},
			"subdivisions":       mmdbtype.Slice{mmdbtype.Map{"names": en(p.subdivision)}},
			"location": mmdbtype.Map{"latitude": mmdbtype.Float64(p.lat), "longitude": mmdbtype.Float64(p.lon),
				"accuracy_radius": mmdbtype.Uint16(50)},
		}
		if err := w.Insert(network, rec); err != nil {
			return fmt.Errorf("demo GeoIP database: %s: %w", g.CIDR, err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".demo-geo-*")
	if err != nil {
		return err
	}
	if _, err := w.WriteTo(f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), path)
}
