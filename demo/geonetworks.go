package demo

import "sort"

// GeoNetwork is an address block the demo generates addresses in, with
// the country it is registered in.
type GeoNetwork struct {
	CIDR    string
	Country string // ISO 3166-1 alpha-2
	Org     string
	// Attacker marks the blocks the suspicious activity comes from.
	Attacker bool
}

// GeoNetworks lists every address block of the demo traffic, so that
// tests can build a small GeoIP database that locates the demo's
// addresses as a real one would (the country of each block).
func GeoNetworks() []GeoNetwork {
	var out []GeoNetwork
	for _, m := range []struct {
		ranges   map[string][]ipRange
		attacker bool
	}{{customerRanges, false}, {attackerRanges, true}} {
		for _, rs := range m.ranges {
			for _, r := range rs {
				out = append(out, GeoNetwork{CIDR: r.prefix.String(), Country: r.country, Org: r.org, Attacker: m.attacker})
			}
		}
	}
	for _, r := range []ipRange{googlebotRange, bingbotRange, awsUSEast1Range} {
		out = append(out, GeoNetwork{CIDR: r.prefix.String(), Country: r.country, Org: r.org})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CIDR < out[j].CIDR })
	return out
}
