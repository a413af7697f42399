package demo

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
)

// ipRange is a block of public addresses registered to an access network in
// one country, so that a GeoIP database maps generated addresses to that
// country. The blocks are large allocations of well-known national ISPs
// (per the regional internet registries); GeoIP data for individual
// addresses can still differ at the edges.
type ipRange struct {
	prefix  netip.Prefix
	country string // ISO 3166-1 alpha-2
	org     string
}

func mustRange(cidr, country, org string) ipRange {
	return ipRange{prefix: netip.MustParsePrefix(cidr), country: country, org: org}
}

// Customer traffic: where the demo shop's visitors and staff are.
var customerRanges = map[string][]ipRange{
	"US": {
		mustRange("73.0.0.0/8", "US", "Comcast"),
		mustRange("98.192.0.0/10", "US", "Comcast"),
		mustRange("96.224.0.0/11", "US", "Verizon Fios"),
		mustRange("172.32.0.0/11", "US", "T-Mobile USA"),
	},
	"CA": {mustRange("70.48.0.0/12", "CA", "Bell Canada")},
	"DE": {
		mustRange("84.128.0.0/10", "DE", "Deutsche Telekom"),
		mustRange("91.0.0.0/10", "DE", "Deutsche Telekom"),
		mustRange("88.64.0.0/12", "DE", "Vodafone Germany"),
	},
	"GB": {
		mustRange("86.128.0.0/10", "GB", "British Telecom"),
		mustRange("109.144.0.0/12", "GB", "British Telecom"),
	},
	"FR": {
		mustRange("90.0.0.0/9", "FR", "Orange"),
		mustRange("82.224.0.0/11", "FR", "Free SAS"),
	},
	"JP": {
		mustRange("126.0.0.0/8", "JP", "SoftBank"),
		mustRange("153.128.0.0/9", "JP", "NTT OCN"),
	},
	"IN": {
		mustRange("49.32.0.0/11", "IN", "Reliance Jio"),
		mustRange("106.192.0.0/11", "IN", "Bharti Airtel"),
	},
	"BR": {
		mustRange("177.32.0.0/11", "BR", "Brazilian access networks"),
		mustRange("189.0.0.0/11", "BR", "Brazilian access networks"),
	},
	"AU": {
		mustRange("58.160.0.0/12", "AU", "Telstra"),
		mustRange("1.120.0.0/13", "AU", "Telstra"),
	},
	"KR": {mustRange("121.128.0.0/10", "KR", "Korea Telecom")},
}

// customerCountries weighs the visitors' countries.
var customerCountries = []weighted[string]{
	{"US", 42}, {"DE", 10}, {"GB", 9}, {"FR", 6}, {"CA", 6}, {"IN", 8},
	{"JP", 6}, {"BR", 5}, {"AU", 5}, {"KR", 3},
}

// Where the suspicious activity comes from.
var attackerRanges = map[string][]ipRange{
	"CN": {
		mustRange("61.128.0.0/10", "CN", "China Telecom"),
		mustRange("123.112.0.0/12", "CN", "China Unicom"),
	},
	"RU": {
		mustRange("95.24.0.0/13", "RU", "Beeline"),
		mustRange("176.59.0.0/16", "RU", "Tele2 Russia"),
	},
	"VN": {
		mustRange("113.160.0.0/11", "VN", "VNPT"),
		mustRange("14.160.0.0/11", "VN", "VNPT"),
	},
	"NG": {
		mustRange("105.112.0.0/12", "NG", "Airtel Nigeria"),
		mustRange("197.210.0.0/16", "NG", "MTN Nigeria"),
	},
	"RO": {mustRange("86.120.0.0/13", "RO", "RCS & RDS")},
}

var attackerCountries = []weighted[string]{{"CN", 3}, {"RU", 3}, {"VN", 2}, {"NG", 2}, {"RO", 1}}

// Crawlers and infrastructure with their real address blocks.
var (
	googlebotRange = mustRange("66.249.64.0/19", "US", "Google (Googlebot)")
	bingbotRange   = mustRange("157.55.39.0/24", "US", "Microsoft (bingbot)")
	// awsUSEast1Range is an EC2 block of us-east-1 (where CI runners and
	// NAT gateways of the demo company live).
	awsUSEast1Range = mustRange("3.208.0.0/12", "US", "Amazon EC2 us-east-1")
)

// randomAddr returns a random host address in r (never the first or last
// address of a /24).
func randomAddr(rng *rand.Rand, r ipRange) string {
	a := r.prefix.Addr().As4()
	bits := 32 - r.prefix.Bits()
	base := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	var off uint32
	if bits > 0 {
		off = uint32(rng.Uint64N(uint64(1) << bits))
	}
	v := base | off
	if last := v & 0xff; last == 0 || last == 255 {
		v = v&^0xff | uint32(1+rng.IntN(254))
	}
	return fmt.Sprintf("%d.%d.%d.%d", v>>24, v>>16&0xff, v>>8&0xff, v&0xff)
}

// addrIn picks an address in one of a country's ranges.
func addrIn(rng *rand.Rand, ranges map[string][]ipRange, country string) string {
	rs := ranges[country]
	return randomAddr(rng, rs[rng.IntN(len(rs))])
}

// countryOf returns the country of an address generated from the tables
// above ("" when unknown); tests use it.
func countryOf(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return ""
	}
	for _, m := range []map[string][]ipRange{customerRanges, attackerRanges} {
		for _, rs := range m {
			for _, r := range rs {
				if r.prefix.Contains(a) {
					return r.country
				}
			}
		}
	}
	for _, r := range []ipRange{googlebotRange, bingbotRange, awsUSEast1Range} {
		if r.prefix.Contains(a) {
			return r.country
		}
	}
	return ""
}

// weighted is a choice with a weight.
type weighted[T any] struct {
	v T
	w float64
}

// pick chooses from a weighted list.
func pick[T any](rng *rand.Rand, items []weighted[T]) T {
	total := 0.0
	for _, it := range items {
		total += it.w
	}
	x := rng.Float64() * total
	for _, it := range items {
		if x < it.w {
			return it.v
		}
		x -= it.w
	}
	return items[len(items)-1].v
}

// oneOf chooses uniformly.
func oneOf[T any](rng *rand.Rand, items ...T) T { return items[rng.IntN(len(items))] }
