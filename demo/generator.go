package demo

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// Stream is one of the demo's three log streams.
type Stream int

// The streams, each sent to its own HTTP source.
const (
	StreamWeb        Stream = iota // Apache access logs, category demo/web/access
	StreamApp                      // payments service logs, category demo/app/payments
	StreamCloudTrail               // CloudTrail records, category aws/cloudtrail
)

func (s Stream) String() string {
	switch s {
	case StreamWeb:
		return "web"
	case StreamApp:
		return "app"
	case StreamCloudTrail:
		return "cloudtrail"
	}
	return fmt.Sprintf("Stream(%d)", int(s))
}

// Suspicious activity the generator mixes into the normal traffic. The
// CloudTrail ones are what the CloudTrail app's dashboards and security
// checks (shared/spec/cloudtrail-app.md) look for.
const (
	// Failed ConsoleLogin burst from abroad: responseElements.ConsoleLogin
	// = "Failure", errorMessage "Failed authentication" (some with the
	// user name hidden), 6-13 attempts in a few minutes. (S2)
	ScenarioLoginFailures = "console-login-failures"
	// A successful ConsoleLogin with additionalEventData.MFAUsed = "No". (S7)
	ScenarioLoginNoMFA = "console-login-without-mfa"
	// A successful ConsoleLogin of a known user from a country never seen
	// for them. (S8)
	ScenarioLoginNewCountry = "console-login-new-country"
	// Root signs in and calls APIs, creating an access key. (S6)
	ScenarioRootUsage = "root-account-usage"
	// AuthorizeSecurityGroupIngress opening 22 to 0.0.0.0/0 and ::/0, then
	// 3389 (sometimes all ports). (S1)
	ScenarioSecurityGroupOpen = "security-group-open-to-world"
	// A stolen CI key used from abroad: CreateUser, CreateLoginProfile,
	// AttachUserPolicy AdministratorAccess, CreateAccessKey,
	// AddUserToGroup. (S4)
	ScenarioIAMBackdoor = "iam-admin-backdoor"
	// CreateUser followed by DeleteUser of the same user within minutes. (S9)
	ScenarioShortLivedUser = "short-lived-iam-user"
	// PutBucketAcl granting AllUsers READ and AuthenticatedUsers access. (S5)
	ScenarioS3PublicACL = "s3-bucket-acl-public"
	// PutObject with x-amz-grant-read AllUsers or x-amz-acl public-read,
	// PutObjectAcl granting AllUsers READ. (S5)
	ScenarioS3PublicObject = "s3-object-public"
	// PutBucketPolicy with Principal "*". (S5)
	ScenarioS3PublicPolicy = "s3-bucket-policy-public"
	// PutBucketPublicAccessBlock with every flag false, then
	// DeleteBucketPublicAccessBlock. (S5)
	ScenarioS3BlockPublicAccessOff = "s3-block-public-access-removed"
	// StopLogging then DeleteTrail from abroad. (S10)
	ScenarioCloudTrailTampering = "cloudtrail-tampering"
	// GuardDuty ListDetectors then DeleteDetector from abroad.
	ScenarioGuardDutyDisabled = "guardduty-detector-deleted"
	// A stolen role enumerating the account: a burst of AccessDenied and
	// Client.UnauthorizedOperation errors. (S3)
	ScenarioUnauthorizedCalls = "unauthorized-api-calls"
	// CreateNetworkAclEntry allowing all protocols from/to 0.0.0.0/0. (S11)
	ScenarioNACLAllowAll = "network-acl-allow-all"

	// A vulnerability scanner from abroad: a burst of 404/403/400 answers
	// on one web host.
	ScenarioWebScanner = "web-vulnerability-scan"
	// The card gateway times out for several minutes: 5xx answers on the
	// web tier, gateway timeouts and connection pool errors with stack
	// traces in the payments service.
	ScenarioPaymentsOutage = "payments-outage"
)

// CloudTrailScenarios lists the suspicious CloudTrail activities.
var CloudTrailScenarios = []string{
	ScenarioLoginFailures, ScenarioLoginNoMFA, ScenarioLoginNewCountry, ScenarioRootUsage,
	ScenarioSecurityGroupOpen, ScenarioIAMBackdoor, ScenarioShortLivedUser, ScenarioS3PublicACL,
	ScenarioS3PublicObject, ScenarioS3PublicPolicy, ScenarioS3BlockPublicAccessOff,
	ScenarioCloudTrailTampering, ScenarioGuardDutyDisabled, ScenarioUnauthorizedCalls, ScenarioNACLAllowAll,
}

// Scenarios lists every scenario: CloudTrail, web and app.
var Scenarios = append(append([]string(nil), CloudTrailScenarios...), ScenarioWebScanner, ScenarioPaymentsOutage)

// Event is one generated log event.
type Event struct {
	Stream Stream
	// Host is the host the event comes from (web-1..3, payments-1..2);
	// empty for CloudTrail.
	Host string
	// Time is the event's own time, as written in Raw.
	Time time.Time
	// Raw is the log message: an access log line, an application log
	// message (multi-line for errors with a stack trace) or a CloudTrail
	// record as one line of JSON.
	Raw string
	// Scenario names the suspicious activity the event belongs to; empty
	// for normal traffic.
	Scenario string
}

// Generator produces the demo traffic. Its output depends only on the seed
// and on the arguments of each call: the same calls on generators with the
// same seed give the same events.
type Generator struct {
	seed     uint64
	visitors []visitor
	people   map[string]*principal
}

// NewGenerator returns a generator; the seed fixes the visitors, the
// people and every random choice.
func NewGenerator(seed uint64) *Generator {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	g := &Generator{seed: seed}
	g.visitors = newVisitors(rng, 4000)
	g.people = newPrincipals(rng)
	return g
}

// RangeOptions says which suspicious activity Range mixes in.
type RangeOptions struct {
	// Incidents spreads suspicious activity over the range: about one
	// occurrence of every scenario per day (ranges shorter than a day get
	// each with a matching probability).
	Incidents bool
	// RecentWave adds one occurrence of every scenario within the last hour
	// before the end of the range (ranges of an hour or more).
	RecentWave bool
}

// Shares of the normal traffic per stream (the rest is CloudTrail).
const (
	webShare = 0.72
	appShare = 0.18
)

// Range generates about n events of normal traffic with times in
// [from, to), following a daily rhythm (busiest in the afternoon UTC, quieter
// at weekends), plus the suspicious activity opt asks for, and calls emit
// for each in time order. It stops at the first error emit returns.
func (g *Generator) Range(from, to time.Time, n int, opt RangeOptions, emit func(Event) error) error {
	if !to.After(from) {
		return nil
	}
	if n < 0 {
		n = 0
	}
	rng := g.rng("range", from.UnixNano(), to.UnixNano(), int64(n), boolInt(opt.Incidents), boolInt(opt.RecentWave))
	incidents := g.schedule(rng, from, to, opt)

	const slot = time.Minute
	total := 0.0
	for s := from; s.Before(to); s = s.Add(slot) {
		e := minTime(s.Add(slot), to)
		total += activity(s) * e.Sub(s).Seconds()
	}
	carry := 0.0
	next := 0
	var buf []Event
	for s := from; s.Before(to); s = s.Add(slot) {
		e := minTime(s.Add(slot), to)
		want := float64(n)*activity(s)*e.Sub(s).Seconds()/total + carry
		k := int(want)
		carry = want - float64(k)
		if e.Equal(to) && carry >= 0.5 {
			k++
		}
		buf = buf[:0]
		span := int64(e.Sub(s))
		for i := 0; i < k; i++ {
			t := s.Add(time.Duration(rng.Int64N(span)))
			buf = append(buf, g.normal(rng, t))
		}
		for next < len(incidents) && incidents[next].Time.Before(e) {
			buf = append(buf, incidents[next])
			next++
		}
		sort.SliceStable(buf, func(i, j int) bool { return buf[i].Time.Before(buf[j].Time) })
		for _, ev := range buf {
			if err := emit(ev); err != nil {
				return err
			}
		}
	}
	return nil
}

// Incident generates one occurrence of a scenario whose last event is at
// end (all events at or before end), as live traffic does.
func (g *Generator) Incident(kind string, end time.Time) ([]Event, error) {
	known := false
	for _, k := range Scenarios {
		known = known || k == kind
	}
	if !known {
		return nil, fmt.Errorf("demo: unknown scenario %q", kind)
	}
	h := fnv.New64a()
	h.Write([]byte(kind))
	seed := int64(h.Sum64())
	// A scenario's length depends only on its random draws: generate it once
	// to measure it, then again (same draws) so that it ends at end.
	evs := g.scenario(g.rng("incident", seed, end.UnixNano()), kind, end)
	last := end
	for _, ev := range evs {
		if ev.Time.After(last) {
			last = ev.Time
		}
	}
	if shift := last.Sub(end); shift > 0 {
		evs = g.scenario(g.rng("incident", seed, end.UnixNano()), kind, end.Add(-shift))
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
	return evs, nil
}

// schedule places the suspicious activity of a range, sorted by time.
func (g *Generator) schedule(rng *rand.Rand, from, to time.Time, opt RangeOptions) []Event {
	const maxSpan = 20 * time.Minute // every scenario fits in it
	var evs []Event
	d := to.Sub(from)
	if opt.Incidents && d > maxSpan {
		perDay := d.Hours() / 24
		for _, kind := range Scenarios {
			count := int(perDay)
			if rng.Float64() < perDay-float64(count) {
				count++
			}
			// One occurrence per equal slice of the range, at a random
			// place in its slice: spread out, never regular.
			for i := 0; i < count; i++ {
				slice := max((d-maxSpan)/time.Duration(count), 1)
				start := from.Add(time.Duration(i)*slice + time.Duration(rng.Int64N(int64(slice))))
				evs = append(evs, g.scenario(rng, kind, start)...)
			}
		}
	}
	if opt.RecentWave && d >= time.Hour {
		for _, kind := range Scenarios {
			start := to.Add(-55 * time.Minute).Add(time.Duration(rng.Int64N(int64(35 * time.Minute))))
			evs = append(evs, g.scenario(rng, kind, start)...)
		}
	}
	kept := evs[:0]
	for _, ev := range evs {
		if !ev.Time.Before(from) && ev.Time.Before(to) {
			kept = append(kept, ev)
		}
	}
	sort.SliceStable(kept, func(i, j int) bool { return kept[i].Time.Before(kept[j].Time) })
	return kept
}

// scenario generates one occurrence of a scenario starting at t.
func (g *Generator) scenario(rng *rand.Rand, kind string, t time.Time) []Event {
	switch kind {
	case ScenarioWebScanner:
		return g.scannerRequests(rng, t)
	case ScenarioPaymentsOutage:
		return g.outage(rng, t)
	}
	return g.ctScenario(rng, kind, t)
}

// outage is a few minutes of failing payments: 5xx answers on the web tier
// and errors with stack traces in the payments service.
func (g *Generator) outage(rng *rand.Rand, t time.Time) []Event {
	minutes := 6 + rng.IntN(7)
	end := t.Add(time.Duration(minutes) * time.Minute)
	var evs []Event
	app := func(at time.Time, raw string) {
		evs = append(evs, Event{Stream: StreamApp, Host: oneOf(rng, appHosts...), Time: at, Raw: raw, Scenario: ScenarioPaymentsOutage})
	}
	app(t, appLine(t, "WARN", thread(rng), "i.g.r.circuitbreaker.CircuitBreaker",
		"CircuitBreaker 'cardGateway' changed state from CLOSED to OPEN: failure rate 62.5% above threshold 50.0%"))
	for m := 0; m < minutes; m++ {
		base := t.Add(time.Duration(m) * time.Minute)
		webFails := 15 + rng.IntN(25)
		for i := 0; i < webFails; i++ {
			at := base.Add(time.Duration(rng.Int64N(int64(time.Minute))))
			for tries := 0; tries < 20; tries++ {
				req, failed := g.webRequest(rng, 1)
				if failed {
					evs = append(evs, Event{Stream: StreamWeb, Host: oneOf(rng, webHosts...), Time: at, Raw: req.format(at), Scenario: ScenarioPaymentsOutage})
					break
				}
			}
		}
		appFails := 6 + rng.IntN(10)
		for i := 0; i < appFails; i++ {
			at := base.Add(time.Duration(rng.Int64N(int64(time.Minute))))
			if rng.IntN(4) == 0 {
				app(at, g.poolExhausted(rng, at))
			} else {
				app(at, g.gatewayTimeout(rng, at, thread(rng), requestID(rng), oneOf(rng, gateways...)))
			}
		}
	}
	app(end, appLine(end, "INFO", thread(rng), "i.g.r.circuitbreaker.CircuitBreaker",
		"CircuitBreaker 'cardGateway' changed state from HALF_OPEN to CLOSED"))
	return evs
}

// normal generates one event of everyday traffic at t.
func (g *Generator) normal(rng *rand.Rand, t time.Time) Event {
	x := rng.Float64()
	switch {
	case x < webShare:
		req, _ := g.webRequest(rng, 0)
		return Event{Stream: StreamWeb, Host: webHosts[rng.IntN(len(webHosts))], Time: t, Raw: req.format(t)}
	case x < webShare+appShare:
		raw, _ := g.appEvent(rng, t, 0)
		return Event{Stream: StreamApp, Host: appHosts[rng.IntN(len(appHosts))], Time: t, Raw: raw}
	}
	return Event{Stream: StreamCloudTrail, Time: t, Raw: g.ctNormal(rng, t)}
}

// activity is the relative traffic level at t: lowest around 04:00 UTC,
// highest around 16:00 UTC (Europe's afternoon, America's morning), 30%
// lower at weekends.
func activity(t time.Time) float64 {
	u := t.UTC()
	h := float64(u.Hour()) + float64(u.Minute())/60
	day := 0.5 - 0.5*math.Cos(2*math.Pi*(h-4)/24)
	w := 0.3 + 0.7*day
	if wd := u.Weekday(); wd == time.Saturday || wd == time.Sunday {
		w *= 0.7
	}
	return w
}

// rng returns a random source for one call, derived from the seed and the
// call's arguments.
func (g *Generator) rng(what string, args ...int64) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(what))
	var b [8]byte
	for _, a := range args {
		for i := range b {
			b[i] = byte(uint64(a) >> (8 * i))
		}
		h.Write(b[:])
	}
	return rand.New(rand.NewPCG(g.seed, h.Sum64()))
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
