package demo

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

var testEnd = time.Date(2025, 11, 24, 12, 0, 0, 0, time.UTC)

func collect(t *testing.T, g *Generator, from, to time.Time, n int, opt RangeOptions) []Event {
	t.Helper()
	var evs []Event
	if err := g.Range(from, to, n, opt, func(e Event) error { evs = append(evs, e); return nil }); err != nil {
		t.Fatal(err)
	}
	return evs
}

// digest sums up a run of events.
func digest(evs []Event) uint64 {
	h := fnv.New64a()
	for _, e := range evs {
		fmt.Fprintf(h, "%d|%s|%d|%s|%s\n", e.Stream, e.Host, e.Time.UnixNano(), e.Scenario, e.Raw)
	}
	return h.Sum64()
}

func TestGeneratorIsDeterministic(t *testing.T) {
	from := testEnd.Add(-36 * time.Hour)
	opt := RangeOptions{Incidents: true, RecentWave: true}
	a := collect(t, NewGenerator(7), from, testEnd, 5000, opt)
	b := collect(t, NewGenerator(7), from, testEnd, 5000, opt)
	if len(a) != len(b) || digest(a) != digest(b) {
		t.Fatal("two generators with the same seed and arguments differ")
	}
	c := collect(t, NewGenerator(8), from, testEnd, 5000, opt)
	if digest(a) == digest(c) {
		t.Fatal("different seeds give the same events")
	}
	// A generator's output does not depend on earlier calls.
	g := NewGenerator(7)
	collect(t, g, from.Add(-time.Hour), from, 100, RangeOptions{})
	if d := collect(t, g, from, testEnd, 5000, opt); digest(a) != digest(d) {
		t.Fatal("an earlier call changed the output")
	}
	i1, _ := NewGenerator(7).Incident(ScenarioIAMBackdoor, testEnd)
	i2, _ := NewGenerator(7).Incident(ScenarioIAMBackdoor, testEnd)
	if !reflect.DeepEqual(i1, i2) {
		t.Fatal("Incident is not deterministic")
	}
	// Different ranges (a restart's gap) do not repeat event ids.
	ids := map[string]bool{}
	for _, evs := range [][]Event{a, collect(t, NewGenerator(7), testEnd, testEnd.Add(time.Hour), 2000, RangeOptions{Incidents: true})} {
		for _, e := range evs {
			if e.Stream != StreamCloudTrail {
				continue
			}
			var r struct{ EventID string }
			json.Unmarshal([]byte(e.Raw), &r)
			if ids[r.EventID] {
				t.Fatalf("eventID %s repeated", r.EventID)
			}
			ids[r.EventID] = true
		}
	}
}

func TestRangeShape(t *testing.T) {
	from := testEnd.Add(-7 * 24 * time.Hour)
	n := 50000
	evs := collect(t, NewGenerator(1), from, testEnd, n, RangeOptions{})
	if len(evs) < n-1 || len(evs) > n+1 {
		t.Fatalf("%d events, want about %d", len(evs), n)
	}
	streams := map[Stream]int{}
	byHour := map[int]int{}
	for i, e := range evs {
		if e.Time.Before(from) || !e.Time.Before(testEnd) {
			t.Fatalf("event at %v outside the range", e.Time)
		}
		if i > 0 && e.Time.Before(evs[i-1].Time) {
			t.Fatalf("events out of order at %d", i)
		}
		if e.Scenario != "" {
			t.Fatalf("scenario %q without Incidents", e.Scenario)
		}
		streams[e.Stream]++
		byHour[e.Time.UTC().Hour()]++
	}
	if f := float64(streams[StreamWeb]) / float64(n); f < 0.68 || f > 0.76 {
		t.Errorf("web share %.2f", f)
	}
	if f := float64(streams[StreamCloudTrail]) / float64(n); f < 0.08 || f > 0.12 {
		t.Errorf("CloudTrail share %.2f", f)
	}
	if byHour[16] < 2*byHour[4] {
		t.Errorf("no daily rhythm: %d events at 16h, %d at 4h", byHour[16], byHour[4])
	}
}

var (
	apacheRE = regexp.MustCompile(`^(\d+\.\d+\.\d+\.\d+) - - \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "(GET|POST|HEAD) (\S+) HTTP/1\.1" (\d{3}) (\d+|-) "([^"]*)" "([^"]+)"$`)
	appRE    = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} (TRACE|DEBUG|INFO |WARN |ERROR) \[[^\]]+\] \S+ - `)
	tsStart  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}`)
)

// ct is the part of a CloudTrail record the checks read.
type ct struct {
	EventVersion string `json:"eventVersion"`
	UserIdentity struct {
		Type        string `json:"type"`
		UserName    string `json:"userName"`
		PrincipalID string `json:"principalId"`
		ARN         string `json:"arn"`
		InvokedBy   string `json:"invokedBy"`
	} `json:"userIdentity"`
	EventTime           string          `json:"eventTime"`
	EventSource         string          `json:"eventSource"`
	EventName           string          `json:"eventName"`
	AWSRegion           string          `json:"awsRegion"`
	SourceIPAddress     string          `json:"sourceIPAddress"`
	UserAgent           string          `json:"userAgent"`
	ErrorCode           string          `json:"errorCode"`
	ErrorMessage        string          `json:"errorMessage"`
	RequestParameters   json.RawMessage `json:"requestParameters"`
	ResponseElements    json.RawMessage `json:"responseElements"`
	AdditionalEventData json.RawMessage `json:"additionalEventData"`
	EventID             string          `json:"eventID"`
	EventType           string          `json:"eventType"`
	RecipientAccountID  string          `json:"recipientAccountId"`
}

func TestEventFormats(t *testing.T) {
	evs := collect(t, NewGenerator(3), testEnd.Add(-48*time.Hour), testEnd, 20000, RangeOptions{Incidents: true, RecentWave: true})
	ids := map[string]bool{}
	traces := 0
	for _, e := range evs {
		switch e.Stream {
		case StreamWeb:
			m := apacheRE.FindStringSubmatch(e.Raw)
			if m == nil {
				t.Fatalf("not an Apache combined log line: %q", e.Raw)
			}
			if !strings.Contains(e.Raw, e.Time.UTC().Format("02/Jan/2006:15:04:05")) {
				t.Fatalf("line time differs from %v: %q", e.Time, e.Raw)
			}
			if c := countryOf(m[1]); c == "" && !strings.HasPrefix(m[1], "10.") {
				t.Fatalf("address %s is in no known country range", m[1])
			}
			if e.Host != "web-1" && e.Host != "web-2" && e.Host != "web-3" {
				t.Fatalf("web host %q", e.Host)
			}
		case StreamApp:
			lines := strings.Split(e.Raw, "\n")
			if !appRE.MatchString(lines[0]) || !strings.HasPrefix(lines[0], e.Time.UTC().Format("2006-01-02 15:04:05.000")) {
				t.Fatalf("app event first line %q", lines[0])
			}
			for _, l := range lines[1:] {
				// Continuation lines never look like the start of a message.
				if tsStart.MatchString(l) || l == "" {
					t.Fatalf("continuation line %q in %q", l, e.Raw)
				}
			}
			if len(lines) > 1 {
				traces++
				if !strings.HasPrefix(lines[2], "\tat ") {
					t.Fatalf("stack trace without frames: %q", e.Raw)
				}
			}
		case StreamCloudTrail:
			var r ct
			if err := json.Unmarshal([]byte(e.Raw), &r); err != nil {
				t.Fatalf("record is not JSON: %v: %s", err, e.Raw)
			}
			if strings.Contains(e.Raw, "\n") {
				t.Fatal("record spans lines")
			}
			et, err := time.Parse(time.RFC3339, r.EventTime)
			if err != nil || !et.Equal(e.Time.Truncate(time.Second)) {
				t.Fatalf("eventTime %q vs %v", r.EventTime, e.Time)
			}
			if r.EventVersion == "" || r.UserIdentity.Type == "" || r.EventSource == "" || r.EventName == "" || r.AWSRegion == "" ||
				r.SourceIPAddress == "" || r.UserAgent == "" || r.EventType == "" || r.RecipientAccountID != accountID || len(r.EventID) != 36 {
				t.Fatalf("record lacks fields: %s", e.Raw)
			}
			if ids[r.EventID] {
				t.Fatalf("duplicate eventID %s", r.EventID)
			}
			ids[r.EventID] = true
			if r.ErrorCode != "" && r.ErrorMessage == "" {
				t.Fatalf("error without message: %s", e.Raw)
			}
		}
	}
	if traces < 20 {
		t.Errorf("only %d app events with stack traces", traces)
	}
}

// detections finds each scenario in the events from their content (not from
// the Scenario tag), the way the CloudTrail app's checks would.
func detections(t *testing.T, evs []Event) map[string][]time.Time {
	t.Helper()
	found := map[string][]time.Time{}
	hit := func(kind string, e Event) {
		if e.Scenario != kind {
			t.Errorf("event matching %s is tagged %q: %.300s", kind, e.Scenario, e.Raw)
		}
		found[kind] = append(found[kind], e.Time)
	}
	created := map[string]time.Time{}
	failuresByIP := map[string][]time.Time{}
	deniedBy := map[string][]time.Time{}
	for _, e := range evs {
		switch e.Stream {
		case StreamWeb:
			m := apacheRE.FindStringSubmatch(e.Raw)
			if m[4] >= "500" && e.Scenario == ScenarioPaymentsOutage {
				hit(ScenarioPaymentsOutage, e)
			}
			if strings.Contains(m[3], ".env") || strings.Contains(m[3], "wp-login") || strings.Contains(m[3], "etc%2Fpasswd") {
				hit(ScenarioWebScanner, e)
			}
			continue
		case StreamApp:
			if strings.Contains(e.Raw, "GatewayTimeoutException") || strings.Contains(e.Raw, "HikariPool-1 - Connection is not available") {
				hit(ScenarioPaymentsOutage, e)
			}
			continue
		}
		var r ct
		if err := json.Unmarshal([]byte(e.Raw), &r); err != nil {
			t.Fatal(err)
		}
		params, resp, extra := string(r.RequestParameters), string(r.ResponseElements), string(r.AdditionalEventData)
		switch r.EventName {
		case "ConsoleLogin":
			switch {
			case strings.Contains(resp, `"ConsoleLogin":"Failure"`):
				if r.ErrorMessage != "Failed authentication" && r.ErrorMessage != "No username found in supplied account" {
					t.Errorf("failed login with errorMessage %q", r.ErrorMessage)
				}
				if countryOf(r.SourceIPAddress) == "US" {
					t.Errorf("failed login burst from the US: %s", r.SourceIPAddress)
				}
				failuresByIP[r.SourceIPAddress] = append(failuresByIP[r.SourceIPAddress], e.Time)
			case strings.Contains(extra, `"MFAUsed":"No"`) && (r.UserIdentity.Type == "IAMUser" || r.UserIdentity.Type == "Root"):
				hit(ScenarioLoginNoMFA, e)
			case e.Scenario == ScenarioLoginNewCountry:
				if c := countryOf(r.SourceIPAddress); c != "CN" && c != "RU" && c != "VN" && c != "NG" && c != "RO" {
					t.Errorf("new-country login from %s (%s)", r.SourceIPAddress, c)
				}
				hit(ScenarioLoginNewCountry, e)
			}
		case "AuthorizeSecurityGroupIngress":
			world := strings.Contains(params, `"cidrIp":"0.0.0.0/0"`)
			if world && (strings.Contains(params, `"fromPort":22,`) || strings.Contains(params, `"fromPort":3389,`) || strings.Contains(params, `"ipProtocol":"-1"`)) {
				hit(ScenarioSecurityGroupOpen, e)
			}
		case "AttachUserPolicy":
			if strings.Contains(params, "arn:aws:iam::aws:policy/AdministratorAccess") {
				hit(ScenarioIAMBackdoor, e)
			}
		case "CreateUser":
			var p struct{ UserName string }
			json.Unmarshal(r.RequestParameters, &p)
			created[p.UserName] = e.Time
		case "DeleteUser":
			var p struct{ UserName string }
			json.Unmarshal(r.RequestParameters, &p)
			if c, ok := created[p.UserName]; ok && e.Time.Sub(c) <= 10*time.Minute {
				hit(ScenarioShortLivedUser, e)
			}
		case "PutBucketAcl":
			if strings.Contains(params, "acs.amazonaws.com/groups/global/AllUsers") || strings.Contains(params, "acs.amazonaws.com/groups/global/AuthenticatedUsers") {
				hit(ScenarioS3PublicACL, e)
			}
		case "PutObject", "PutObjectAcl":
			if strings.Contains(params, "groups/global/AllUsers") || strings.Contains(params, `"x-amz-acl":"public-read"`) {
				hit(ScenarioS3PublicObject, e)
			}
		case "PutBucketPolicy":
			if strings.Contains(params, `"Principal":"*"`) {
				hit(ScenarioS3PublicPolicy, e)
			}
		case "DeleteBucketPublicAccessBlock":
			hit(ScenarioS3BlockPublicAccessOff, e)
		case "PutBucketPublicAccessBlock":
			if strings.Contains(params, `"BlockPublicPolicy":false`) {
				hit(ScenarioS3BlockPublicAccessOff, e)
			}
		case "StopLogging", "DeleteTrail":
			hit(ScenarioCloudTrailTampering, e)
		case "DeleteDetector":
			if r.EventSource == "guardduty.amazonaws.com" {
				hit(ScenarioGuardDutyDisabled, e)
			}
		case "CreateNetworkAclEntry":
			if strings.Contains(params, `"ruleAction":"allow"`) && strings.Contains(params, `"aclProtocol":"-1"`) && strings.Contains(params, `"cidrBlock":"0.0.0.0/0"`) {
				hit(ScenarioNACLAllowAll, e)
			}
		}
		if r.UserIdentity.Type == "Root" && r.UserIdentity.InvokedBy == "" && r.EventType != "AwsServiceEvent" {
			hit(ScenarioRootUsage, e)
		}
		if r.ErrorCode == "AccessDenied" || r.ErrorCode == "Client.UnauthorizedOperation" {
			deniedBy[r.UserIdentity.ARN] = append(deniedBy[r.UserIdentity.ARN], e.Time)
		}
	}
	// Bursts: at least 5 failures from one address, or 10 denials of one
	// principal, within 15 minutes.
	burst := func(times []time.Time, n int) []time.Time {
		var out []time.Time
		for i := 0; i+n-1 < len(times); i++ {
			if times[i+n-1].Sub(times[i]) <= 15*time.Minute {
				out = append(out, times[i+n-1])
			}
		}
		return out
	}
	for _, ts := range failuresByIP {
		found[ScenarioLoginFailures] = append(found[ScenarioLoginFailures], burst(ts, 5)...)
	}
	for _, ts := range deniedBy {
		found[ScenarioUnauthorizedCalls] = append(found[ScenarioUnauthorizedCalls], burst(ts, 10)...)
	}
	return found
}

func TestBackfillHasEveryScenario(t *testing.T) {
	from := testEnd.Add(-7 * 24 * time.Hour)
	evs := collect(t, NewGenerator(1), from, testEnd, 20000, RangeOptions{Incidents: true, RecentWave: true})
	found := detections(t, evs)
	for _, kind := range Scenarios {
		ts := found[kind]
		if len(ts) == 0 {
			t.Errorf("scenario %s not found in a 7-day backfill", kind)
			continue
		}
		days := map[int]bool{}
		var lastHour, lastDay bool
		for _, x := range ts {
			days[int(testEnd.Sub(x).Hours()/24)] = true
			lastHour = lastHour || testEnd.Sub(x) <= time.Hour
			lastDay = lastDay || testEnd.Sub(x) <= 24*time.Hour
		}
		if len(days) < 4 {
			t.Errorf("scenario %s on %d of 7 days only: not spread over the backfill", kind, len(days))
		}
		if !lastHour || !lastDay {
			t.Errorf("scenario %s: in the last hour %v, in the last day %v", kind, lastHour, lastDay)
		}
	}
	// Normal traffic must not trip the checks: no detection without a tag.
	normal := collect(t, NewGenerator(1), from, testEnd, 20000, RangeOptions{})
	for kind, ts := range detections(t, normal) {
		if kind != ScenarioUnauthorizedCalls || len(ts) > 0 {
			t.Errorf("normal traffic looks like %s %d times", kind, len(ts))
		}
	}
}

func TestIncidentEndsAtEnd(t *testing.T) {
	g := NewGenerator(1)
	for _, kind := range Scenarios {
		evs, err := g.Incident(kind, testEnd)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			t.Errorf("%s: no events", kind)
			continue
		}
		last := evs[len(evs)-1].Time
		if !last.Equal(testEnd) || testEnd.Sub(evs[0].Time) > 20*time.Minute {
			t.Errorf("%s spans %v .. %v, want to end at %v within 20 minutes", kind, evs[0].Time, last, testEnd)
		}
		if found := detections(t, evs); len(found[kind]) == 0 {
			t.Errorf("%s: Incident does not produce a detectable %s", kind, kind)
		}
	}
	if _, err := g.Incident("nope", testEnd); err == nil {
		t.Error("unknown scenario accepted")
	}
}

func TestCountryRanges(t *testing.T) {
	g := NewGenerator(1)
	for _, v := range g.visitors {
		if c := countryOf(v.ip); c != v.country {
			t.Fatalf("visitor %s: country %q, table says %q", v.ip, v.country, c)
		}
	}
	countries := map[string]bool{}
	for _, v := range g.visitors {
		countries[v.country] = true
	}
	if len(countries) < 8 {
		t.Errorf("visitors from %d countries", len(countries))
	}
	// No two table entries overlap.
	var all []ipRange
	for _, m := range []map[string][]ipRange{customerRanges, attackerRanges} {
		for _, rs := range m {
			all = append(all, rs...)
		}
	}
	all = append(all, googlebotRange, bingbotRange, awsUSEast1Range)
	for i := range all {
		for j := i + 1; j < len(all); j++ {
			if all[i].prefix.Overlaps(all[j].prefix) {
				t.Errorf("%v overlaps %v", all[i].prefix, all[j].prefix)
			}
		}
		if !all[i].prefix.Addr().IsGlobalUnicast() || all[i].prefix.Addr().IsPrivate() {
			t.Errorf("%v is not public", all[i].prefix)
		}
	}
}
