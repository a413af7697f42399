package demo

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// The demo shop's web tier: Apache combined access logs of three hosts.

const shopHost = "shop.dohyo-demo.com"

var webHosts = []string{"web-1", "web-2", "web-3"}

// visitor is a returning client: one address, one browser.
type visitor struct {
	ip      string
	country string
	ua      string
	bot     bool
}

var browserAgents = []weighted[string]{
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", 24},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", 10},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", 8},
	{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", 16},
	{"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", 14},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", 6},
	{"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", 2},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", 7},
	{"Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1", 3},
}

var toolAgents = []string{
	"curl/8.5.0",
	"python-requests/2.32.3",
	"Go-http-client/1.1",
	"okhttp/4.12.0",
}

var scannerAgents = []string{
	"Mozilla/5.0 zgrab/0.x",
	"sqlmap/1.8.11#stable (https://sqlmap.org)",
	"Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)",
	"masscan/1.3 (https://github.com/robertdavidgraham/masscan)",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/74.0.3729.169 Safari/537.36",
}

var productSlugs = []string{
	"trail-runner-x2", "summit-shell-jacket", "merino-base-layer", "alpine-trek-poles", "ultralight-tent-2p",
	"down-sleeping-bag", "hydration-pack-12l", "approach-shoe-pro", "fleece-midlayer", "waterproof-gaiters",
	"headlamp-400", "camp-stove-mini", "insulated-bottle-750", "climbing-harness", "chalk-bag-classic",
	"rain-pants-lite", "wool-socks-3pack", "daypack-24l", "bivy-sack", "trekking-shorts",
}

var categories = []string{"footwear", "jackets", "camping", "climbing", "accessories", "sale"}

var searchTerms = []string{"tent", "rain+jacket", "boots", "sleeping+bag", "gore-tex", "headlamp", "trail+shoes", "backpack", "gift+card", "socks"}

// newVisitors builds the pool of returning visitors.
func newVisitors(rng *rand.Rand, n int) []visitor {
	vs := make([]visitor, 0, n)
	for i := 0; i < n; i++ {
		c := pick(rng, customerCountries)
		v := visitor{ip: addrIn(rng, customerRanges, c), country: c}
		switch x := rng.Float64(); {
		case x < 0.03:
			v.ip, v.ua, v.bot, v.country = randomAddr(rng, googlebotRange), "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", true, "US"
		case x < 0.045:
			v.ip, v.ua, v.bot, v.country = randomAddr(rng, bingbotRange), "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", true, "US"
		case x < 0.06:
			v.ua = oneOf(rng, toolAgents...)
		default:
			v.ua = pick(rng, browserAgents)
		}
		vs = append(vs, v)
	}
	return vs
}

// request is one line of the access log before formatting.
type request struct {
	ip, method, path, referer, ua string
	status                        int
	size                          int // 0 prints "-"
}

func apacheTime(t time.Time) string {
	return t.UTC().Format("02/Jan/2006:15:04:05 -0700")
}

func (r request) format(t time.Time) string {
	size := "-"
	if r.size > 0 {
		size = strconv.Itoa(r.size)
	}
	ref := r.referer
	if ref == "" {
		ref = "-"
	}
	return fmt.Sprintf(`%s - - [%s] "%s %s HTTP/1.1" %d %s "%s" "%s"`, r.ip, apacheTime(t), r.method, r.path, r.status, size, ref, r.ua)
}

// webRequest generates one ordinary request. outage is the share of
// dynamic requests failing with 5xx at this moment (0 normally).
func (g *Generator) webRequest(rng *rand.Rand, outage float64) (req request, failed bool) {
	// Popular visitors come back more often: a skewed pick.
	idx := int(float64(len(g.visitors)) * rng.Float64() * rng.Float64())
	v := g.visitors[idx]
	if rng.Float64() < 0.03 {
		// Load balancer health checks come from inside the VPC.
		return request{ip: fmt.Sprintf("10.0.%d.%d", rng.IntN(3)*16+1, 10+rng.IntN(200)), method: "GET", path: "/healthz", ua: "ELB-HealthChecker/2.0", status: 200, size: 2}, false
	}
	req = request{ip: v.ip, method: "GET", ua: v.ua}
	page := "https://" + shopHost + "/"
	internalRef := func() string {
		switch rng.IntN(4) {
		case 0:
			return page
		case 1:
			return page + "products?category=" + oneOf(rng, categories...)
		default:
			return page + "products/" + oneOf(rng, productSlugs...)
		}
	}
	dynamic := true
	switch k := pick(rng, webPaths); k {
	case "home":
		req.path, req.status, req.size = "/", 200, 18000+rng.IntN(6000)
		req.referer = oneOf(rng, "", "", "https://www.google.com/", "https://www.bing.com/", "https://duckduckgo.com/")
	case "list":
		req.path = "/products?category=" + oneOf(rng, categories...)
		if rng.IntN(3) == 0 {
			req.path += "&page=" + strconv.Itoa(2+rng.IntN(5))
		}
		req.status, req.size, req.referer = 200, 24000+rng.IntN(14000), internalRef()
	case "product":
		req.path = "/products/" + oneOf(rng, productSlugs...)
		req.status, req.size, req.referer = 200, 30000+rng.IntN(12000), internalRef()
		if rng.Float64() < 0.02 {
			req.path = "/products/" + oneOf(rng, "winter-parka-2019", "kids-boot-classic", "tent-footprint-old")
			req.status, req.size = 404, 5120+rng.IntN(200)
		}
	case "search":
		req.path, req.status, req.size, req.referer = "/search?q="+oneOf(rng, searchTerms...), 200, 16000+rng.IntN(20000), internalRef()
	case "cart":
		req.path, req.status, req.size, req.referer = "/cart", 200, 9000+rng.IntN(4000), internalRef()
	case "cart-add":
		req.method, req.path, req.status, req.size, req.referer = "POST", "/api/v1/cart/items", 201, 312+rng.IntN(120), internalRef()
	case "checkout":
		req.path, req.status, req.size, req.referer = "/checkout", 200, 14000+rng.IntN(3000), page+"cart"
	case "pay":
		req.method, req.path, req.referer = "POST", "/api/v1/payments", page+"checkout"
		req.status, req.size = 201, 412+rng.IntN(80)
		if rng.Float64() < 0.04 {
			req.status, req.size = 402, 188
		}
	case "orders":
		req.path, req.referer = "/account/orders", internalRef()
		if rng.Float64() < 0.3 {
			req.status, req.size = 302, 0
		} else {
			req.status, req.size = 200, 11000+rng.IntN(5000)
		}
	case "login-page":
		req.path, req.status, req.size, req.referer = "/login", 200, 7200+rng.IntN(300), internalRef()
	case "login":
		req.method, req.path, req.referer = "POST", "/login", page+"login"
		if rng.Float64() < 0.12 {
			req.status, req.size = 401, 7350
		} else {
			req.status, req.size = 302, 0
		}
	case "reviews":
		req.path = "/api/v1/products/" + oneOf(rng, productSlugs...) + "/reviews?page=1"
		req.status, req.size, req.referer = 200, 2200+rng.IntN(6000), internalRef()
	case "reco":
		req.path = "/api/v1/recommendations?limit=8"
		req.status, req.size, req.referer = 200, 3100+rng.IntN(900), internalRef()
	case "js":
		dynamic = false
		req.path, req.referer = oneOf(rng, "/static/js/app.3f9c2b1e.js", "/static/js/vendor.91ab77c0.js", "/static/js/checkout.5d2e8a4f.js"), internalRef()
		req.status, req.size = 200, 120000+rng.IntN(140000)
	case "css":
		dynamic = false
		req.path, req.referer = "/static/css/main.8a1d4c2b.css", internalRef()
		req.status, req.size = 200, 41000+rng.IntN(2000)
	case "img":
		dynamic = false
		req.path = fmt.Sprintf("/images/products/%s-%d.jpg", oneOf(rng, productSlugs...), 1+rng.IntN(4))
		req.status, req.size, req.referer = 200, 22000+rng.IntN(180000), internalRef()
	case "favicon":
		dynamic = false
		req.path, req.status, req.size = "/favicon.ico", 200, 15086
	case "robots":
		dynamic = false
		req.path, req.status, req.size = "/robots.txt", 200, 312
	case "sitemap":
		dynamic = false
		req.path, req.status, req.size = "/sitemap.xml", 200, 48211
	}
	if !dynamic && req.status == 200 && rng.Float64() < 0.3 {
		req.status, req.size = 304, 0
	}
	if v.bot && req.method == "POST" {
		req.method, req.path, req.status, req.size = "GET", "/products/"+oneOf(rng, productSlugs...), 200, 31000+rng.IntN(9000)
	}
	if dynamic {
		if outage > 0 && rng.Float64() < outage {
			req.status = oneOf(rng, 502, 503, 503, 504, 500)
			req.size = 299 + rng.IntN(40)
			failed = true
		} else if rng.Float64() < 0.0015 {
			req.status, req.size = 500, 531
		}
	}
	return req, failed
}

var webPaths = []weighted[string]{
	{"home", 8}, {"list", 9}, {"product", 16}, {"search", 5}, {"cart", 4}, {"cart-add", 3},
	{"checkout", 2}, {"pay", 1.5}, {"orders", 2}, {"login-page", 1.5}, {"login", 1.2},
	{"reviews", 3}, {"reco", 2.5}, {"js", 9}, {"css", 6}, {"img", 12}, {"favicon", 2},
	{"robots", 0.4}, {"sitemap", 0.2},
}

// scannerPaths are what vulnerability scanners probe for.
var scannerPaths = []string{
	"/wp-login.php", "/wp-admin/", "/xmlrpc.php", "/.env", "/.git/config", "/.aws/credentials",
	"/phpmyadmin/", "/pma/", "/admin", "/administrator/", "/server-status", "/actuator/env",
	"/actuator/health", "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
	"/cgi-bin/luci/;stok=/locale", "/boaform/admin/formLogin", "/HNAP1/", "/owa/auth/logon.aspx",
	"/products?id=1%27%20OR%20%271%27%3D%271", "/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
	"/..%2F..%2F..%2F..%2Fetc%2Fpasswd", "/index.php?s=/Index/think/app/invokefunction",
	"/config.json", "/backup.zip", "/db.sql", "/.DS_Store", "/api/v1/users?limit=100000",
}

// scannerRequests is a vulnerability scan from one foreign address: a burst
// of 404/403/400 answers.
func (g *Generator) scannerRequests(rng *rand.Rand, t time.Time) []Event {
	country := pick(rng, attackerCountries)
	ip := addrIn(rng, attackerRanges, country)
	ua := oneOf(rng, scannerAgents...)
	host := oneOf(rng, webHosts...)
	n := 60 + rng.IntN(120)
	dur := time.Duration(2+rng.IntN(6)) * time.Minute
	evs := make([]Event, 0, n)
	for i := 0; i < n; i++ {
		p := oneOf(rng, scannerPaths...)
		status, size := 404, 5120
		switch {
		case strings.Contains(p, "%27") || strings.Contains(p, "%3C") || strings.Contains(p, "etc%2Fpasswd"):
			status, size = 400, 226
		case strings.HasPrefix(p, "/server-status") || strings.HasPrefix(p, "/.git") || strings.HasPrefix(p, "/.env"):
			status, size = 403, 199
		case p == "/admin":
			status, size = 302, 0
		}
		method := "GET"
		if strings.HasSuffix(p, ".php") && rng.IntN(3) == 0 {
			method = "POST"
		}
		at := t.Add(time.Duration(rng.Int64N(int64(dur))))
		r := request{ip: ip, method: method, path: p, ua: ua, status: status, size: size}
		evs = append(evs, Event{Stream: StreamWeb, Host: host, Time: at, Raw: r.format(at), Scenario: ScenarioWebScanner})
	}
	return evs
}
