// Package geoip resolves IP addresses to locations for the query
// language's geo lookup ("lookup ... from geo://location", "geoip"), from
// a MaxMind-format database file: GeoLite2-City or GeoIP2-City from
// MaxMind, or DB-IP's City Lite, which share the City layout. dohyo ships
// no database (their licences forbid it); "dohyo serve --geoip-db FILE"
// names one.
//
// A DB implements query.GeoResolver. Fields are read from the City layout:
// city.names.en, continent.names.en, country (or registered_country when
// the address has no country).iso_code and names.en, the first
// subdivision's iso_code and names.en, postal.code, location.latitude and
// longitude, traits.connection_type, and the confidence of country, city
// and subdivision where the database has them (GeoIP2 Enterprise).
package geoip

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/dohyo/dohyo/query"
)

// DB is an open GeoIP database. It is safe for concurrent use.
type DB struct {
	r    *maxminddb.Reader
	path string
	// flat marks the flat layout of ip-location-db's databases
	// (dbip.go); next is the database tried when this one does not know
	// an address (Open of a comma-separated list).
	flat bool
	next *DB
}

var _ query.GeoResolver = (*DB)(nil)

// Open opens a MaxMind-format database file and checks that it holds IP
// locations. path may list several files separated by commas (DB-IP's
// City Lite database as ip-location-db ships it: an IPv4 and an IPv6
// file); an address is looked up in each in turn.
func Open(path string) (*DB, error) {
	if strings.Contains(path, ",") {
		return openList(path)
	}
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open GeoIP database %s: %w (want a MaxMind-format .mmdb file such as GeoLite2-City.mmdb)", path, err)
	}
	db := &DB{r: r, path: path, flat: isFlat(r)}
	t := strings.ToLower(r.Metadata.DatabaseType)
	for _, bad := range []string{"asn", "isp", "domain", "connection-type", "anonymous"} {
		if strings.Contains(t, bad) && !strings.Contains(t, "city") {
			r.Close()
			return nil, fmt.Errorf("GeoIP database %s is of type %q, which has no locations: want a City database (GeoLite2-City, GeoIP2-City or DB-IP City)", path, r.Metadata.DatabaseType)
		}
	}
	return db, nil
}

// Close releases the database.
func (db *DB) Close() error {
	if db.next != nil {
		db.next.Close()
	}
	return db.r.Close()
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// Type is the database type of its metadata ("GeoLite2-City", "DBIP-City-Lite").
func (db *DB) Type() string { return db.r.Metadata.DatabaseType }

// BuildTime is when the database was built.
func (db *DB) BuildTime() time.Time { return db.r.Metadata.BuildTime().UTC() }

// names holds the English name of a place.
type names struct {
	En string `maxminddb:"en"`
}

// cityRecord is the part of the City layout that geo lookup uses.
type cityRecord struct {
	City struct {
		Confidence uint16 `maxminddb:"confidence"`
		Names      names  `maxminddb:"names"`
	} `maxminddb:"city"`
	Continent struct {
		Code  string `maxminddb:"code"`
		Names names  `maxminddb:"names"`
	} `maxminddb:"continent"`
	Country           country `maxminddb:"country"`
	RegisteredCountry country `maxminddb:"registered_country"`
	Location          struct {
		Latitude  *float64 `maxminddb:"latitude"`
		Longitude *float64 `maxminddb:"longitude"`
	} `maxminddb:"location"`
	Postal struct {
		Code string `maxminddb:"code"`
	} `maxminddb:"postal"`
	Subdivisions []struct {
		Confidence uint16 `maxminddb:"confidence"`
		ISOCode    string `maxminddb:"iso_code"`
		Names      names  `maxminddb:"names"`
	} `maxminddb:"subdivisions"`
	Traits struct {
		ConnectionType string `maxminddb:"connection_type"`
	} `maxminddb:"traits"`
}

type country struct {
	Confidence uint16 `maxminddb:"confidence"`
	ISOCode    string `maxminddb:"iso_code"`
	Names      names  `maxminddb:"names"`
}

// LookupGeo implements query.GeoResolver.
func (db *DB) LookupGeo(ip netip.Addr) (query.GeoLocation, bool, error) {
	loc, ok, err := db.lookupOne(ip)
	if err == nil && !ok && db.next != nil {
		return db.next.LookupGeo(ip)
	}
	return loc, ok, err
}

func (db *DB) lookupOne(ip netip.Addr) (query.GeoLocation, bool, error) {
	if db.flat {
		return db.lookupFlat(ip)
	}
	res := db.r.Lookup(ip.Unmap())
	if err := res.Err(); err != nil {
		return query.GeoLocation{}, false, fmt.Errorf("GeoIP lookup of %s: %w", ip, err)
	}
	if !res.Found() {
		return query.GeoLocation{}, false, nil
	}
	var rec cityRecord
	if err := res.Decode(&rec); err != nil {
		return query.GeoLocation{}, false, fmt.Errorf("GeoIP lookup of %s: %w", ip, err)
	}
	c := rec.Country
	if c.ISOCode == "" && c.Names.En == "" {
		c = rec.RegisteredCountry
	}
	loc := query.GeoLocation{
		Continent:         rec.Continent.Names.En,
		CountryCode:       c.ISOCode,
		CountryName:       c.Names.En,
		City:              rec.City.Names.En,
		PostalCode:        rec.Postal.Code,
		ConnectionType:    rec.Traits.ConnectionType,
		CountryConfidence: int(c.Confidence),
		CityConfidence:    int(rec.City.Confidence),
	}
	if len(rec.Subdivisions) > 0 {
		s := rec.Subdivisions[0]
		loc.Region, loc.State, loc.StateConfidence = s.ISOCode, s.Names.En, int(s.Confidence)
	}
	if rec.Location.Latitude != nil && rec.Location.Longitude != nil {
		loc.HasCoordinates = true
		loc.Latitude, loc.Longitude = *rec.Location.Latitude, *rec.Location.Longitude
	}
	return loc, true, nil
}
