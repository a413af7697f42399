package query

import (
	"net/netip"
	"strings"
)

// IP functions (spec §4.7). Addresses are text: IPv4 in dotted decimal
// (no leading zeros), IPv6 in any RFC 4291 form (no zone).
//
//	isValidIP(x), isValidIPv4(x), isValidIPv6(x)  whether x is such an
//	                      address. An IPv4-mapped IPv6 address (::ffff:1.2.3.4)
//	                      is IPv6.
//	isPrivateIP(x)        RFC 1918 (10/8, 172.16/12, 192.168/16) and IPv6
//	                      unique local (fc00::/7).
//	isReservedIP(x)       an IANA special-purpose address: the private ones
//	                      and 0/8, 100.64/10, 127/8, 169.254/16, 192.0.0/24,
//	                      192.0.2/24, 192.88.99/24, 198.18/15, 198.51.100/24,
//	                      203.0.113/24, 224/4 (multicast), 240/4 (and the
//	                      broadcast address); for IPv6 ::/128, ::1, fe80::/10,
//	                      fc00::/7, ff00::/8, 2001:db8::/32, 64:ff9b::/96,
//	                      100::/64, 2001::/23.
//	isPublicIP(x)         valid and not reserved.
//	ipv4ToNumber(x)       the IPv4 address as a long (1.2.3.4 = 16909060).
//	getCIDRPrefix(ip, n)  the first address of ip's /n network, as text.
//	maskFromCIDR(n)       the IPv4 netmask of a /n prefix (24: 255.255.255.0).
//	compareCIDRPrefix(ip1, ip2, n)  whether the two addresses are in the same
//	                      /n network.
//
// Invalid input gives false for the checks and null for the others.

func init() {
	registerFunc(&funcSpec{name: "isValidIP", minArgs: 1, maxArgs: 1, typ: "boolean", build: pure1(ipCheck(func(a netip.Addr) bool { return true }))})
	registerFunc(&funcSpec{name: "isValidIPv4", minArgs: 1, maxArgs: 1, typ: "boolean", build: pure1(ipCheck(netip.Addr.Is4))})
	registerFunc(&funcSpec{name: "isValidIPv6", minArgs: 1, maxArgs: 1, typ: "boolean", build: pure1(ipCheck(netip.Addr.Is6))})
	registerFunc(&funcSpec{name: "isPrivateIP", minArgs: 1, maxArgs: 1, typ: "boolean", build: pure1(ipCheck(netip.Addr.IsPrivate))})
	registerFunc(&funcSpec{name: "isReservedIP", minArgs: 1, maxArgs: 1, typ: "boolean", build: pure1(ipCheck(isReservedAddr))})
	registerFunc(&funcSpec{name: "isPublicIP", minArgs: 1, maxArgs: 1, typ: "boolean", build: pure1(ipCheck(func(a netip.Addr) bool { return !isReservedAddr(a) }))})
	registerFunc(&funcSpec{name: "ipv4ToNumber", minArgs: 1, maxArgs: 1, typ: "long", build: pure1(func(v Value) Value {
		a, ok := parseIP(v)
		if !ok || !a.Is4() {
			return NullValue
		}
		b := a.As4()
		return IntValue(int64(b[0])<<24 | int64(b[1])<<16 | int64(b[2])<<8 | int64(b[3]))
	})})
	registerFunc(&funcSpec{name: "getCIDRPrefix", minArgs: 2, maxArgs: 2, typ: "string", build: pure2(func(ip, n Value) Value {
		p, ok := ipPrefix(ip, n)
		if !ok {
			return NullValue
		}
		return StringValue(p.Addr().String())
	})})
	registerFunc(&funcSpec{name: "maskFromCIDR", minArgs: 1, maxArgs: 1, typ: "string", build: pure1(func(n Value) Value {
		bits, ok := n.Int()
		if !ok || bits < 0 || bits > 32 {
			return NullValue
		}
		m := uint32(0)
		if bits > 0 {
			m = ^uint32(0) << (32 - bits)
		}
		return StringValue(netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String())
	})})
	registerFunc(&funcSpec{name: "compareCIDRPrefix", minArgs: 3, maxArgs: 3, typ: "boolean", build: pure3(func(a, b, n Value) Value {
		pa, ok1 := ipPrefix(a, n)
		pb, ok2 := ipPrefix(b, n)
		return BoolValue(ok1 && ok2 && pa == pb)
	})})
}

// parseIP reads an address (no zone).
func parseIP(v Value) (netip.Addr, bool) {
	s, ok := stringArg(v)
	if !ok || strings.ContainsRune(s, '%') {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	return a, err == nil
}

func ipCheck(f func(netip.Addr) bool) func(Value) Value {
	return func(v Value) Value {
		a, ok := parseIP(v)
		return BoolValue(ok && f(a))
	}
}

// ipPrefix is ip's /n network.
func ipPrefix(ip, n Value) (netip.Prefix, bool) {
	a, ok := parseIP(ip)
	if !ok {
		return netip.Prefix{}, false
	}
	bits, ok := n.Int()
	if !ok || bits < 0 || bits > int64(a.BitLen()) {
		return netip.Prefix{}, false
	}
	p, err := a.Prefix(int(bits))
	return p, err == nil
}

var reservedPrefixes = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
		"::/128", "::1/128", "fe80::/10", "fc00::/7", "ff00::/8", "2001:db8::/32", "64:ff9b::/96",
		"100::/64", "2001::/23",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

func isReservedAddr(a netip.Addr) bool {
	for _, p := range reservedPrefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
