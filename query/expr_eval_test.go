package query

import (
	"math"
	"strings"
	"testing"
	"time"
)

// evalRow is the row the evaluation tables run against.
var evalRow = Row{
	{"_raw", "GET /a 200"}, {"_messageTime", "1700000000123"}, {"_receiptTime", "1700000001123"},
	{"_sourceCategory", "prod/web"}, {"_sourceHost", "web-1"}, {"_sourceName", ""}, {"_source", ""},
	{"_collector", ""}, {"_size", "10"}, {"_format", ""},
	{"a", "10"}, {"b", "4"}, {"big", "9223372036854775807"}, {"bytes", "2048"}, {"c", "abc"},
	{"dec", "2.5"}, {"exp", "1e3"}, {"f", "false"}, {"ip", "10.1.2.3"}, {"ip6", "2001:db8::1"},
	{"lead", "007"}, {"neg", "-3"}, {"pub", "8.8.8.8"}, {"sp", "  padded  "}, {"t", "TRUE"},
	{"uni", "héllo wörld"}, {"upper", "MiXeD"}, {"ws", " \t "}, {"zero", "0"},
	{"arr", `["a",1,{"k":"v"},null,true]`}, {"hexs", "48656c6c6f"}, {"url", "a b&c=d/é"},
	{"date", "2023-11-14 22:13:20"},
	{"_dohyo.time", "1"}, {"_dohyo.rid", "2"},
}

var evalSchema = &schema{}

// evalCtx is a run context with a fixed clock and range.
var evalCtx = &runContext{
	now:   1700000000000,
	start: 1699996400000,
	end:   1700000000000,
	loc:   time.UTC,
	warns: &warnings{},
}

func evalString(t testing.TB, text string, row Row, x *runContext) (Value, *Error) {
	t.Helper()
	e, err := parseExpr(text)
	if err != nil {
		return Value{}, err
	}
	c := &compiler{}
	ev, err := c.compileExpression(e, evalSchema)
	if err != nil {
		return Value{}, err
	}
	return ev(x, row), nil
}

// evalCases: expression → expected rendering ("null" for null; booleans
// true/false; errors as "error: <message>").
var evalCases = []struct{ in, want string }{
	// literals, fields, nulls
	{`1`, "1"}, {`1.50`, "1.5"}, {`2e3`, "2000"}, {`"x"`, "x"}, {`""`, "null"}, {`true`, "true"},
	{`a`, "10"}, {`A`, "10"}, {`missing`, "null"}, {`_sourceName`, "null"}, {`_sourceCategory`, "prod/web"},
	{`_messageTime`, "1700000000123"}, {`%"c"`, "abc"},
	// arithmetic with numeric strings, integers exact, division gives doubles
	{`a + b`, "14"}, {`a - b`, "6"}, {`a * b`, "40"}, {`a / b`, "2.5"}, {`a / 5`, "2"}, {`a % b`, "2"},
	{`-a`, "-10"}, {`- -a`, "10"}, {`dec * 2`, "5"}, {`dec + 0.1`, "2.6"}, {`exp + 1`, "1001"},
	{`lead + 0`, "7"}, {`neg * neg`, "9"}, {`bytes / 1024`, "2"}, {`7 / 2`, "3.5"}, {`-7 % 3`, "-1"},
	{`7.5 % 2`, "1.5"}, {`big + 0`, "9223372036854775807"}, {`big + 1`, "9223372036854776000"},
	{`big * 2`, "18446744073709552000"}, {`0.1 + 0.2`, "0.30000000000000004"}, {`1e300 * 1e300`, "null"},
	{`_receiptTime - _messageTime`, "1000"}, {`(a + b) * 2`, "28"}, {`a + b * 2`, "18"},
	// arithmetic with null or text is null; division by zero is null
	{`a + missing`, "null"}, {`c + 1`, "null"}, {`-c`, "null"}, {`true + 1`, "null"},
	{`a / 0`, "null"}, {`a % 0`, "null"}, {`a / zero`, "null"}, {`dec / 0.0`, "null"},
	// comparisons: numeric when both sides are numeric
	{`a > b`, "true"}, {`a > 9`, "true"}, {`a < 9`, "false"}, {`a = 10`, "true"}, {`a = "10"`, "true"},
	{`a = 10.0`, "true"}, {`lead = 7`, "true"}, {`lead = "7"`, "true"}, {`exp = 1000`, "true"},
	{`a >= 10`, "true"}, {`a <= 10`, "true"}, {`a != 10`, "false"}, {`a <> 11`, "true"},
	{`neg < zero`, "true"}, {`"10" > "9"`, "true"}, {`big = 9223372036854775806`, "false"},
	// string comparisons are case-sensitive, byte order
	{`c = "abc"`, "true"}, {`c = "ABC"`, "false"}, {`c != "ABC"`, "true"}, {`c < "abd"`, "true"},
	{`c > "ABC"`, "true"}, {`a > "9x"`, "false"}, {`c = 5`, "false"}, {`c > 5`, "true"},
	{`upper = "mixed"`, "false"}, {`t = true`, "false"}, {`f = false`, "true"},
	// comparisons with null are false, != included
	{`missing = 1`, "false"}, {`missing != 1`, "false"}, {`missing < 1`, "false"}, {`missing = missing`, "false"},
	{`missing != "x"`, "false"}, {`!(missing = "x")`, "true"},
	// = "" and != "" test emptiness
	{`missing = ""`, "true"}, {`c = ""`, "false"}, {`missing != ""`, "false"}, {`c != ""`, "true"}, {`"" = c`, "false"},
	// logic
	{`a > 1 and b > 1`, "true"}, {`a > 1 and b > 5`, "false"}, {`a > 100 or b > 1`, "true"},
	{`a > 100 || b > 100`, "false"}, {`!(a > 1)`, "false"}, {`not a > 1`, "false"}, {`!missing`, "true"},
	{`t`, "TRUE"}, {`t and true`, "true"}, {`f or false`, "false"}, {`c and true`, "false"},
	{`missing or true`, "true"}, {`!t`, "false"}, {`!!c`, "false"},
	// matches
	{`c matches "a*"`, "true"}, {`c matches "A*"`, "false"}, {`c matches "*c"`, "true"}, {`c matches "a*c"`, "true"},
	{`c matches "b"`, "false"}, {`c matches "*b*"`, "true"}, {`c matches "abc"`, "true"}, {`c matches "ab"`, "false"},
	{`c matches "a?c"`, "false"}, {`c matches "**"`, "true"}, {`c matches "a*b*c"`, "true"}, {`c matches "abc*"`, "true"},
	{`c matches "ab*bc"`, "false"}, {`missing matches "*"`, "false"}, {`a matches "1*"`, "true"},
	{`_sourceCategory matches "prod/*"`, "true"}, {`ip matches /^10\./`, "true"}, {`ip matches /^11\./`, "false"},
	{`ip matches /2\.3/`, "true"}, {`upper matches /(?i)mixed/`, "true"}, {`missing matches /.*/`, "false"},
	{`uni matches "h*d"`, "true"}, {`c not matches "x*"`, "true"},
	// in
	{`c in ("x", "abc")`, "true"}, {`c in ("x")`, "false"}, {`a in (1, 10)`, "true"}, {`a in ("10.0")`, "true"},
	{`neg in (-3)`, "true"}, {`missing in ("")`, "false"}, {`c not in ("x")`, "true"}, {`f in (false)`, "true"},
	// contains
	{`c contains "b"`, "true"}, {`c contains "B"`, "false"}, {`missing contains "a"`, "false"}, {`a contains 0`, "true"},
	// ternary and if
	{`a > 5 ? "big" : "small"`, "big"}, {`a > 50 ? "big" : "small"`, "small"}, {`missing ? 1 : 2`, "2"},
	{`t ? 1 : 2`, "1"}, {`a > 5 ? b > 5 ? 1 : 2 : 3`, "2"}, {`if(a > 5, "big", "small")`, "big"},
	{`if(isNull(missing), "unknown", missing)`, "unknown"}, {`if(c = "abc", a / 0, 1)`, "null"},
	{`if(false, a / 0, 1)`, "1"},
	// null and type checks
	{`isNull(missing)`, "true"}, {`isNull(c)`, "false"}, {`isNull("")`, "true"}, {`isNull(a / 0)`, "true"},
	{`isEmpty(missing)`, "true"}, {`isEmpty(ws)`, "false"}, {`isBlank(ws)`, "true"}, {`isBlank(sp)`, "false"},
	{`isBlank(missing)`, "true"}, {`isNumeric(a)`, "true"}, {`isNumeric(dec)`, "true"}, {`isNumeric(exp)`, "true"},
	{`isNumeric(c)`, "false"}, {`isNumeric(missing)`, "false"}, {`isNumeric(sp)`, "false"}, {`isNumeric("0x1F")`, "false"},
	{`isNumeric("NaN")`, "false"}, {`isNumeric(".5")`, "true"}, {`isNumeric("5.")`, "true"}, {`isNumeric("+5")`, "true"},
	{`isNumeric("1e")`, "false"}, {`isNumeric(1)`, "true"}, {`toString(1.50)`, "1.5"}, {`toString(a > 1)`, "true"},
	// string functions
	{`concat(a, "-", c)`, "10-abc"}, {`concat(c, missing, c)`, "abcabc"}, {`concat(missing)`, "null"},
	{`concat(a / 4, true)`, "2.5true"}, {`length(c)`, "3"}, {`length(uni)`, "11"}, {`length(missing)`, "null"},
	{`length(a)`, "2"}, {`substring(c, 1)`, "bc"}, {`substring(c, 0, 2)`, "ab"}, {`substring(c, 1, 100)`, "bc"},
	{`substring(c, 2, 1)`, "null"}, {`substring(c, -5, 1)`, "a"}, {`substring(uni, 1, 4)`, "éll"},
	{`substring(c, "x")`, "null"}, {`toLowerCase(upper)`, "mixed"}, {`toUpperCase(upper)`, "MIXED"},
	{`toUpperCase(uni)`, "HÉLLO WÖRLD"}, {`trim(sp)`, "padded"}, {`trim(ws)`, "null"},
	{`replace(c, "b", "X")`, "aXc"}, {`replace("aaa", "a", "bb")`, "bbbbbb"}, {`replace(c, "z", "X")`, "abc"},
	{`replace(ip, /(\d+)\.(\d+)/, "$2.$1")`, "1.10.3.2"}, {`replace(ip, /\./, "")`, "10123"},
	{`replace(c, /b/, "\$")`, "a$c"}, {`replace(c, /(?P<x>b)/, "[${x}]")`, "a[b]c"}, {`replace(c, /(b)/, "$1x")`, "abxc"},
	{`replace(missing, "a", "b")`, "null"}, {`replace(c, "b", missing)`, "ac"},
	{`indexOf(c, "c")`, "2"}, {`indexOf(c, "z")`, "-1"}, {`indexOf(uni, "w")`, "6"}, {`indexOf("abcabc", "b", 2)`, "4"},
	{`indexOf(c, "a", 10)`, "-1"}, {`contains(c, "bc")`, "true"}, {`contains(c, "BC")`, "false"}, {`contains(missing, "a")`, "false"},
	{`urlEncode(url)`, "a+b%26c%3Dd%2F%C3%A9"}, {`urlDecode("a+b%26c")`, "a b&c"}, {`urlDecode("%zz")`, "null"},
	{`base64Encode("hello")`, "aGVsbG8="}, {`base64Decode("aGVsbG8=")`, "hello"}, {`base64Decode("!!")`, "null"},
	{`hexToAscii(hexs)`, "Hello"}, {`hexToAscii("zz")`, "null"}, {`hexToDec("ff")`, "255"}, {`hexToDec("0x1F")`, "31"},
	{`hexToDec("FFFFFFFFFFFFFFFF")`, "-1"}, {`hexToDec("xyz")`, "null"}, {`parseHex("10")`, "16"},
	{`decToHex(255)`, "FF"}, {`decToHex(-1)`, "FFFFFFFFFFFFFFFF"}, {`decToHex(c)`, "null"},
	{`hash("hello")`, "5d41402abc4b2a76b9719d911017c592"}, {`hash("hello", "md5")`, "5d41402abc4b2a76b9719d911017c592"},
	{`hash("hello", "sha1")`, "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"},
	{`hash("hello", "SHA2_256")`, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"},
	{`hash(missing)`, "null"}, {`hash(c, "crc")`, `error: line 1, column 9: hash: unknown algorithm "crc"; use "md5", "sha1" or "sha2_256"`},
	{`luhn("4111 1111 1111 1111")`, "true"}, {`luhn("4111111111111112")`, "false"}, {`luhn("0")`, "false"},
	{`tourl("http://x", "X")`, "[X](http://x)"}, {`tourl("http://x")`, "[http://x](http://x)"},
	// format
	{`format("%s-%d", c, a)`, "abc-10"}, {`format("%.2f", dec)`, "2.50"}, {`format("%5d|%-5d|%05d", 42, 42, 42)`, "   42|42   |00042"},
	{`format("%,d", 1234567)`, "1,234,567"}, {`format("%,.2f", 1234567.891)`, "1,234,567.89"}, {`format("%x %X %o", 255, 255, 8)`, "ff FF 10"},
	{`format("%x", -1)`, "ffffffffffffffff"}, {`format("%e", 12345.678)`, "1.234568e+04"}, {`format("%g", 12345.678)`, "12345.7"},
	{`format("%g", 0.00001234)`, "1.23400e-05"}, {`format("%.3g", 1234567)`, "1.23e+06"}, {`format("%+d % d", 5, 5)`, "+5  5"},
	{`format("%2$s %1$s", "a", "b")`, "b a"}, {`format("%s %<s", "a")`, "a a"}, {`format("100%%")`, "100%"},
	{`format("%s", missing)`, "null"}, {`format("%b %b %b", true, missing, "x")`, "true false true"},
	{`format("%c%c", 72, "i")`, "Hi"}, {`format("%.2s", c)`, "ab"}, {`format("%S", c)`, "ABC"}, {`format("%d", c)`, "null"},
	{`format("%d", dec)`, "null"}, {`format("%d %d", 1)`, "null"}, {`format("%08.3f", -3.14159)`, "-003.142"},
	{`format("%q", 1)`, `error: line 1, column 8: format: unsupported conversion %q in the format`},
	// math
	{`num(a)`, "10"}, {`num(c)`, "null"}, {`num(dec) * 2`, "5"}, {`toLong(dec)`, "2"}, {`toLong("-2.9")`, "-2"},
	{`toLong(c)`, "null"}, {`toLong(1e30)`, "null"}, {`toDouble(a)`, "10"}, {`toDouble(a) / 4`, "2.5"},
	{`round(dec)`, "3"}, {`round(-2.5)`, "-2"}, {`round(2.4)`, "2"}, {`round(a)`, "10"}, {`round(2 / 3, 2)`, "0.67"},
	{`round(1.005, 2)`, "1.01"}, {`round(1234.5, -2)`, "1200"}, {`round(c)`, "null"},
	{`abs(neg)`, "3"}, {`abs(-2.5)`, "2.5"}, {`ceil(dec)`, "3"}, {`floor(dec)`, "2"}, {`floor(-2.5)`, "-3"},
	{`sqrt(16)`, "4"}, {`sqrt(-1)`, "null"}, {`isNaN(sqrt(-1))`, "true"}, {`isNaN(a)`, "false"}, {`isNaN(c)`, "false"},
	{`cbrt(27)`, "3"}, {`exp(0)`, "1"}, {`log(1)`, "0"}, {`log10(1000)`, "3"}, {`log(0)`, "null"},
	{`isInfinity(log(0))`, "true"}, {`isInfinity(a)`, "false"}, {`expm1(0)`, "0"}, {`log1p(0)`, "0"},
	{`sin(0)`, "0"}, {`cos(0)`, "1"}, {`tan(0)`, "0"}, {`asin(1) * 2 = acos(-1)`, "true"}, {`atan(0)`, "0"},
	{`atan2(0, 1)`, "0"}, {`sinh(0)`, "0"}, {`cosh(0)`, "1"}, {`tanh(0)`, "0"}, {`toDegrees(acos(-1))`, "180"},
	{`toRadians(180) = acos(-1)`, "true"}, {`hypot(3, 4)`, "5"}, {`pow(2, 10)`, "1024"},
	{`min(a, b)`, "4"}, {`max(a, b)`, "10"}, {`max(dec, 2)`, "2.5"}, {`min(a, c)`, "null"},
	// IP
	{`isValidIP(ip)`, "true"}, {`isValidIP(ip6)`, "true"}, {`isValidIP(c)`, "false"}, {`isValidIP("1.2.3.04")`, "false"},
	{`isValidIPv4(ip)`, "true"}, {`isValidIPv4(ip6)`, "false"}, {`isValidIPv6(ip6)`, "true"}, {`isValidIPv6(ip)`, "false"},
	{`isValidIP("256.1.1.1")`, "false"}, {`isValidIP(missing)`, "false"},
	{`isPrivateIP(ip)`, "true"}, {`isPrivateIP(pub)`, "false"}, {`isPrivateIP("172.16.0.1")`, "true"},
	{`isPrivateIP("172.32.0.1")`, "false"}, {`isPrivateIP("192.168.1.1")`, "true"}, {`isPrivateIP("fd00::1")`, "true"},
	{`isReservedIP("127.0.0.1")`, "true"}, {`isReservedIP(ip)`, "true"}, {`isReservedIP(pub)`, "false"},
	{`isReservedIP("224.0.0.1")`, "true"}, {`isReservedIP(ip6)`, "true"}, {`isPublicIP(pub)`, "true"},
	{`isPublicIP(ip)`, "false"}, {`isPublicIP(c)`, "false"}, {`isPublicIP("2606:4700::1")`, "true"},
	{`ipv4ToNumber("1.2.3.4")`, "16909060"}, {`ipv4ToNumber("255.255.255.255")`, "4294967295"}, {`ipv4ToNumber(ip6)`, "null"},
	{`getCIDRPrefix(ip, 16)`, "10.1.0.0"}, {`getCIDRPrefix(ip6, 32)`, "2001:db8::"}, {`getCIDRPrefix(ip, 33)`, "null"},
	{`maskFromCIDR(24)`, "255.255.255.0"}, {`maskFromCIDR(0)`, "0.0.0.0"}, {`maskFromCIDR(33)`, "null"},
	{`compareCIDRPrefix(ip, "10.1.9.9", 16)`, "true"}, {`compareCIDRPrefix(ip, "10.2.0.0", 16)`, "false"},
	// JSON
	{`jsonArraySize(arr)`, "5"}, {`jsonArraySize(c)`, "null"}, {`jsonArraySize("[]")`, "0"},
	{`jsonArrayContains(arr, "a")`, "true"}, {`jsonArrayContains(arr, 1)`, "true"}, {`jsonArrayContains(arr, "b")`, "false"},
	{`jsonArrayContains(arr, "{\"k\":\"v\"}")`, "true"}, {`jsonArrayContains(arr, true)`, "true"},
	{`jsonArrayContains(arr, missing)`, "false"}, {`jsonArrayContains(c, "a")`, "false"},
	// time
	{`now()`, "1700000000000"}, {`queryStartTime()`, "1699996400000"}, {`queryEndTime()`, "1700000000000"},
	{`queryTimeRange()`, "3600000"}, {`formatDate(_messageTime)`, "11/14/2023 22:13:20.123 +0000"},
	{`formatDate(_messageTime, "yyyy-MM-dd'T'HH:mm:ss.SSSXXX")`, "2023-11-14T22:13:20.123Z"},
	{`formatDate(_messageTime, "yyyy-MM-dd HH:mm z", "America/New_York")`, "2023-11-14 17:13 EST"},
	{`formatDate(_messageTime, "EEE, d MMM yy h:mm a Z", "Asia/Kolkata")`, "Wed, 15 Nov 23 3:43 AM +0530"},
	{`formatDate(_messageTime, "EEEE MMMM dd D u k K X XX", "+05:30")`, "Wednesday November 15 319 3 3 3 +05 +0530"},
	{`formatDate(_messageTime, "''yyyy'' 'o''clock'")`, "'2023' o'clock"}, {`formatDate(c)`, "null"},
	{`formatDate(1700000000123.9, "S SS SSSS")`, "123 123 0123"}, {`formatDate(0, "G yyyy")`, "AD 1970"},
	{`formatDate(_messageTime, "yyyy", "Nowhere/City")`, `error: line 1, column 34: formatDate: unknown time zone "Nowhere/City"; use a name such as America/New_York or an offset such as +05:30`},
	{`formatDate(_messageTime, "yyyy-qq")`, `error: line 1, column 26: formatDate: unsupported letter "q" in the date pattern "yyyy-qq"; quote literal text with '...'`},
	{`parseDate(date, "yyyy-MM-dd HH:mm:ss")`, "1700000000000"}, {`parseDate("2023-11-14", "yyyy-MM-dd")`, "1699920000000"},
	{`parseDate(date, "yyyy-MM-dd HH:mm:ss", "America/New_York")`, "1700018000000"},
	{`parseDate("2023-11-14T22:13:20.5+01:00", "yyyy-MM-dd'T'HH:mm:ss.SXXX")`, "1699996400005"},
	{`parseDate("14/Nov/2023:22:13:20 +0000", "dd/MMM/yyyy:HH:mm:ss Z")`, "1700000000000"},
	{`parseDate("20231114", "yyyyMMdd")`, "1699920000000"}, {`parseDate("11/14/23 10:13 PM", "MM/dd/yy hh:mm a")`, "1699999980000"},
	{`parseDate("Tue, 14 Nov 2023 22:13:20 GMT", "EEE, dd MMM yyyy HH:mm:ss z")`, "1700000000000"},
	{`parseDate("nope", "yyyy")`, "null"}, {`parseDate(missing, "yyyy")`, "null"}, {`parseDate("2023-13-01", "yyyy-MM-dd")`, "null"},
	{`formatDate(parseDate(date, "yyyy-MM-dd HH:mm:ss"), "yyyy-MM-dd HH:mm:ss")`, "2023-11-14 22:13:20"},
}

func TestEvaluate(t *testing.T) {
	for _, c := range evalCases {
		v, err := evalString(t, c.in, evalRow, evalCtx)
		got := ""
		switch {
		case err != nil:
			got = "error: " + err.Error()
		case v.String() == "":
			got = "null"
		default:
			got = v.String()
		}
		if got != c.want {
			t.Errorf("%s = %s, want %s", c.in, got, c.want)
		}
	}
	t.Logf("%d evaluation cases", len(evalCases))
}

func TestEvaluateWarnings(t *testing.T) {
	x := &runContext{warns: &warnings{}}
	e, _ := parseExpr("a / zero")
	ev, err := (&compiler{}).compileExpression(e, evalSchema)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if v := ev(x, evalRow); !v.IsNull() {
			t.Fatalf("a / zero = %v", v)
		}
	}
	e, _ = parseExpr(`format("%d", c)`)
	ev2, _ := (&compiler{}).compileExpression(e, evalSchema)
	ev2(x, evalRow)
	got := x.warningList()
	want := []string{`division by zero in "a / zero" gives null (3 times)`, `format in "format(\"%d\", c)": %d needs a number, found "abc"`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A nil context drops warnings and uses the real clock.
	if v := ev(nil, evalRow); !v.IsNull() {
		t.Error("nil context")
	}
	var w warnings
	for i := range maxWarnings + 5 {
		w.add(strings.Repeat("x", i+1))
	}
	if l := w.list(); len(l) != maxWarnings+1 || l[maxWarnings] != "5 more warnings of other kinds" {
		t.Errorf("warning bound: %d %q", len(l), l[len(l)-1])
	}
}

func TestValues(t *testing.T) {
	if FormatNumber(math.NaN()) != "" || FormatNumber(math.Inf(1)) != "" || FormatNumber(math.Copysign(0, -1)) != "0" ||
		FormatNumber(1e21) != "1000000000000000000000" || FormatNumber(0.000001) != "0.000001" || FormatNumber(2.50) != "2.5" {
		t.Error("FormatNumber")
	}
	for s, want := range map[string]string{"12": "12 long", "-0": "0 long", "1.0": "1 double", "1e2": "100 double",
		"99999999999999999999": "100000000000000000000 double", ".5": "0.5 double", "5.": "5 double"} {
		v, ok := ParseNumber(s)
		if got := v.String() + " " + v.FieldType(); !ok || got != want {
			t.Errorf("ParseNumber(%q) = %s %v, want %s", s, got, ok, want)
		}
	}
	for _, s := range []string{"", " 1", "1 ", "+", "-", ".", "e5", "1e", "1e+", "0x10", "NaN", "Inf", "1_000", "1.2.3", "١٢"} {
		if _, ok := ParseNumber(s); ok {
			t.Errorf("ParseNumber(%q) accepted", s)
		}
	}
	if StringValue("").Kind() != KindNull || !BoolValue(true).Bool() || BoolValue(false).Bool() || !StringValue("True").Bool() ||
		StringValue("yes").Bool() || IntValue(1).Bool() || BoolValue(true).FieldType() != "boolean" {
		t.Error("kinds and truth")
	}
	if i, ok := FloatValue(-2.9).Int(); !ok || i != -2 {
		t.Error("Int truncates")
	}
	if _, ok := FloatValue(math.NaN()).Int(); ok {
		t.Error("Int of NaN")
	}
}

func TestExpressionTypes(t *testing.T) {
	in := &schema{records: true, fields: []FieldInfo{{Name: "n", Type: "long"}, {Name: "d", Type: "double"}, {Name: "s", Type: "string"}}}
	cases := map[string]string{
		`n + 1`: "long", `n / 2`: "double", `n * d`: "double", `s`: "string", `n`: "long", `-n`: "long",
		`n > 1`: "boolean", `s matches "a"`: "boolean", `concat(n)`: "string", `if(n > 1, n, 2)`: "long",
		`if(n > 1, n, d)`: "double", `if(n > 1, n, s)`: "string", `n > 1 ? "a" : "b"`: "string", `round(d)`: "double",
		`toLong(d)`: "long", `abs(n)`: "long", `max(n, d)`: "double", `length(s)`: "long", `now()`: "long", `1.5`: "double",
	}
	c := &compiler{}
	for text, want := range cases {
		e, err := parseExpr(text)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.expressionType(e, in); got != want {
			t.Errorf("type of %s = %s, want %s", text, got, want)
		}
	}
}

func TestDatePatterns(t *testing.T) {
	for _, bad := range []string{"yyyy-'MM", "yyyy-qq", "W"} {
		if _, err := compileDatePattern(bad); err == nil {
			t.Errorf("pattern %q accepted", bad)
		}
	}
	for _, z := range []string{"UTC", "GMT", "Z", "+05:30", "-0800", "+5", "GMT+5", "UTC-03:00", "Europe/Paris", "America/New_York"} {
		if _, err := loadZone(z); err != nil {
			t.Errorf("zone %q: %v", z, err)
		}
	}
	for _, z := range []string{"+25:00", "Mars/Base", "+05:3", "GMT+x"} {
		if _, err := loadZone(z); err == nil {
			t.Errorf("zone %q accepted", z)
		}
	}
	// The query's zone is formatDate's default.
	x := &runContext{loc: mustZone(t, "Asia/Tokyo")}
	v, err := evalString(t, `formatDate(0, "yyyy-MM-dd HH:mm Z")`, nil, x)
	if err != nil || v.String() != "1970-01-01 09:00 +0900" {
		t.Errorf("formatDate in the query zone: %v %v", v, err)
	}
	v, _ = evalString(t, `parseDate("1970-01-01 09:00", "yyyy-MM-dd HH:mm")`, nil, x)
	if v.String() != "0" {
		t.Errorf("parseDate in the query zone: %v", v)
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
