package monitors_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dohyo/dohyo/demo"
	"github.com/dohyo/dohyo/geoip"
	"github.com/dohyo/dohyo/geoip/geoiptest"
	"github.com/dohyo/dohyo/internal/cttest"
	"github.com/dohyo/dohyo/monitors"
	"github.com/dohyo/dohyo/query"
)

// demoExpected lists, per demo attack scenario (demo/generator.go), the
// detections that must fire on it. Others may fire too when the scenario
// also matches them (the test reports them); none may fire on normal
// traffic.
var demoExpected = map[string][]string{
	demo.ScenarioLoginFailures:          {"s02b-console-login-failures-per-ip"},
	demo.ScenarioLoginNoMFA:             {"s07-console-login-without-mfa"},
	demo.ScenarioRootUsage:              {"s06-root-account-usage"},
	demo.ScenarioSecurityGroupOpen:      {"s01-security-group-open-to-world"},
	demo.ScenarioIAMBackdoor:            {"s04a-iam-principal-created", "s04b-iam-admin-policy-attached"},
	demo.ScenarioShortLivedUser:         {"s09-short-lived-iam-principal"},
	demo.ScenarioS3PublicACL:            {"s05-s3-public-bucket-or-object"},
	demo.ScenarioS3PublicObject:         {"s05-s3-public-bucket-or-object"},
	demo.ScenarioS3PublicPolicy:         {"s05-s3-public-bucket-or-object"},
	demo.ScenarioS3BlockPublicAccessOff: {"s05-s3-public-bucket-or-object"},
	demo.ScenarioCloudTrailTampering:    {"s10-cloudtrail-tampering"},
	demo.ScenarioGuardDutyDisabled:      {"s12-guardduty-disabled"},
	demo.ScenarioUnauthorizedCalls:      {"s03-unauthorized-api-calls"},
	demo.ScenarioNACLAllowAll:           {"s11a-network-acl-open"},
	// The new country needs a GeoIP database (TestNewCountryDetection).
	demo.ScenarioLoginNewCountry: nil,
}

// evalOver runs a detection (category substituted) over a range and
// returns the groups that triggered.
func evalOver(t *testing.T, r monitors.Runner, d detection, category string, rng query.Range) []*monitors.GroupOutcome {
	t.Helper()
	sp := d.spec(t, category)
	res, err := r.Run(context.Background(), monitors.RunRequest{Query: sp.Query, Range: rng, Now: rng.End})
	if err != nil {
		t.Fatalf("%s over %s: %v", d.key, category, err)
	}
	var out []*monitors.GroupOutcome
	for _, g := range monitors.Decide(sp, res, nil).Groups {
		if g.Severity != "" {
			out = append(out, g)
		}
	}
	return out
}

// TestDetectionsOnDemoScenarios: each attack scenario of the demo traffic
// fires its detections (with their real thresholds); six hours of the
// demo's normal CloudTrail traffic fire none.
func TestDetectionsOnDemoScenarios(t *testing.T) {
	g := demo.NewGenerator(7)
	end := time.Now().Truncate(time.Minute)
	var cats []string
	var raws [][]byte
	err := g.Range(end.Add(-6*time.Hour), end, 40000, demo.RangeOptions{}, func(e demo.Event) error {
		if e.Stream == demo.StreamCloudTrail {
			cats, raws = append(cats, "demo/normal"), append(raws, []byte(e.Raw))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	normal := len(raws)
	for _, kind := range demo.CloudTrailScenarios {
		evs, err := g.Incident(kind, end.Add(-time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			cats, raws = append(cats, "demo/"+kind), append(raws, []byte(e.Raw))
		}
	}
	st, err := cttest.IngestCategories(t.TempDir(), cats, raws)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// The demo's CI role provisions preview environments (CreateRole): an
	// administrator as far as the app's admin_users table goes.
	r := &monitors.EngineRunner{Store: st.St, Env: &query.Env{Lookups: adminTable{"GitHubActions"}}}
	rng := query.Range{Start: end.Add(-7 * time.Hour), End: end.Add(time.Hour)}
	dets := loadDetections(t)
	var lines []string
	// Normal traffic, evaluated as the scheduler would: every window of
	// the detection's length, ending every 5 minutes.
	for _, d := range dets {
		if d.key == "s08-login-from-new-country" || d.key == "s14-threat-intel-source-ip" {
			continue
		}
		w := d.spec(t, "x").Window.D()
		for e := end.Add(-6 * time.Hour).Add(w); !e.After(end); e = e.Add(5 * time.Minute) {
			if fired := evalOver(t, r, d, "demo/normal", query.Range{Start: e.Add(-w), End: e}); len(fired) > 0 {
				t.Errorf("%s fires on normal traffic in the window ending %s: %+v", d.key, e.Format("15:04"), fired[0])
				break
			}
		}
	}
	kinds := append([]string(nil), demo.CloudTrailScenarios...)
	sort.Strings(kinds)
	for _, kind := range kinds {
		var got []string
		for _, d := range dets {
			if d.key == "s08-login-from-new-country" || d.key == "s14-threat-intel-source-ip" {
				continue
			}
			if fired := evalOver(t, r, d, "demo/"+kind, rng); len(fired) > 0 {
				got = append(got, d.key)
			}
		}
		for _, want := range demoExpected[kind] {
			if !contains(got, want) {
				t.Errorf("scenario %s: %s does not fire (fired: %v)", kind, want, got)
			}
		}
		lines = append(lines, fmt.Sprintf("| %s | %s |", kind, strings.Join(got, ", ")))
	}
	t.Logf("demo scenarios and the detections they fire (%d events of normal traffic fire none):\n| scenario | detections fired |\n|---|---|\n%s", normal, strings.Join(lines, "\n"))
}

// ct builds a CloudTrail record.
func ct(at time.Time, source, name, ip string, user string, req any, extra map[string]any) []byte {
	r := map[string]any{
		"eventVersion": "1.08", "eventTime": at.UTC().Format(time.RFC3339), "eventSource": source, "eventName": name,
		"awsRegion": "us-east-1", "sourceIPAddress": ip, "userAgent": "aws-cli/2.15.0", "eventType": "AwsApiCall",
		"userIdentity":      map[string]any{"type": "IAMUser", "userName": user, "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::111122223333:user/" + user, "accountId": "111122223333"},
		"requestParameters": req, "recipientAccountId": "111122223333",
	}
	for k, v := range extra {
		r[k] = v
	}
	b, _ := json.Marshal(r)
	return b
}

type craftedCase struct {
	name string
	raw  []byte
	want bool
}

func runCrafted(t *testing.T, detKey string, cases []craftedCase, env *query.Env) {
	t.Helper()
	var d detection
	for _, x := range loadDetections(t) {
		if x.key == detKey {
			d = x
		}
	}
	cats := make([]string, len(cases))
	raws := make([][]byte, len(cases))
	for i, c := range cases {
		cats[i], raws[i] = fmt.Sprintf("case/%d", i), c.raw
	}
	st, err := cttest.IngestCategories(t.TempDir(), cats, raws)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := &monitors.EngineRunner{Store: st.St, Env: env}
	rng := query.Range{Start: st.Start, End: st.End}
	for i, c := range cases {
		fired := evalOver(t, r, d, cats[i], rng)
		if (len(fired) > 0) != c.want {
			t.Errorf("%s: %s: fired %v, want %v", detKey, c.name, len(fired) > 0, c.want)
		}
	}
}

func perm(proto string, from, to int, cidrs []string, cidrs6 []string) map[string]any {
	p := map[string]any{"ipProtocol": proto, "fromPort": from, "toPort": to, "groups": map[string]any{}, "prefixListIds": map[string]any{}}
	var r, r6 []any
	for _, c := range cidrs {
		r = append(r, map[string]any{"cidrIp": c})
	}
	for _, c := range cidrs6 {
		r6 = append(r6, map[string]any{"cidrIpv6": c})
	}
	p["ipRanges"] = map[string]any{"items": r}
	p["ipv6Ranges"] = map[string]any{"items": r6}
	return p
}

// TestSecurityGroupDetection: every permission of the request is
// examined, in the old and new API shapes.
func TestSecurityGroupDetection(t *testing.T) {
	at := time.Now().Add(-10 * time.Minute)
	sg := func(perms ...map[string]any) map[string]any {
		items := make([]any, len(perms))
		for i, p := range perms {
			items[i] = p
		}
		return map[string]any{"groupId": "sg-0123", "ipPermissions": map[string]any{"items": items}}
	}
	ingress := func(req any, extra map[string]any) []byte {
		return ct(at, "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", "198.51.100.4", "dave", req, extra)
	}
	runCrafted(t, "s01-security-group-open-to-world", []craftedCase{
		{"ssh to the world", ingress(sg(perm("tcp", 22, 22, []string{"0.0.0.0/0"}, nil)), nil), true},
		{"rdp to ::/0", ingress(sg(perm("tcp", 3389, 3389, nil, []string{"::/0"})), nil), true},
		{"all traffic", ingress(sg(perm("-1", -1, -1, []string{"0.0.0.0/0"}, nil)), nil), true},
		{"a port range covering 22", ingress(sg(perm("tcp", 0, 65535, []string{"0.0.0.0/0"}, nil)), nil), true},
		{"the second permission", ingress(sg(perm("tcp", 22, 22, []string{"10.0.0.0/8"}, nil), perm("tcp", 443, 443, []string{"0.0.0.0/0"}, nil), perm("tcp", 3389, 3389, []string{"0.0.0.0/0", "10.0.0.0/8"}, nil)), nil), true},
		{"ports as strings", ingress(map[string]any{"groupId": "sg-1", "ipPermissions": map[string]any{"items": []any{map[string]any{"ipProtocol": "tcp", "fromPort": "22", "toPort": "22", "ipRanges": map[string]any{"items": []any{map[string]any{"cidrIp": "0.0.0.0/0"}}}}}}}, nil), true},
		{"new API shape", ct(at, "ec2.amazonaws.com", "ModifySecurityGroupRules", "198.51.100.4", "dave", map[string]any{"ModifySecurityGroupRulesRequest": map[string]any{"GroupId": "sg-9",
			"SecurityGroupRule": map[string]any{"SecurityGroupRuleId": "sgr-1", "SecurityGroupRule": map[string]any{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv4": "0.0.0.0/0"}}}}, nil), true},
		{"ssh from one network", ingress(sg(perm("tcp", 22, 22, []string{"203.0.113.0/24"}, nil)), nil), false},
		{"https to the world", ingress(sg(perm("tcp", 443, 443, []string{"0.0.0.0/0"}, []string{"::/0"})), nil), false},
		{"0.0.0.0/16 is not the world", ingress(sg(perm("tcp", 22, 22, []string{"0.0.0.0/16"}, nil)), nil), false},
		{"a port range not covering 22", ingress(sg(perm("tcp", 23, 3388, []string{"0.0.0.0/0"}, nil)), nil), false},
		{"a failed call", ingress(sg(perm("tcp", 22, 22, []string{"0.0.0.0/0"}, nil)), map[string]any{"errorCode": "Client.UnauthorizedOperation"}), false},
		{"egress", ct(at, "ec2.amazonaws.com", "AuthorizeSecurityGroupEgress", "198.51.100.4", "dave", sg(perm("-1", -1, -1, []string{"0.0.0.0/0"}, nil)), nil), false},
	}, &query.Env{Lookups: adminTable(nil)})
}

// TestS3PublicDetection: the ways a bucket or object becomes public.
func TestS3PublicDetection(t *testing.T) {
	at := time.Now().Add(-10 * time.Minute)
	s3 := func(name string, req any, extra map[string]any) []byte {
		return ct(at, "s3.amazonaws.com", name, "198.51.100.4", "bob", req, extra)
	}
	grant := func(uri, perm string) map[string]any {
		return map[string]any{"bucketName": "b", "AccessControlPolicy": map[string]any{"AccessControlList": map[string]any{"Grant": []any{
			map[string]any{"Grantee": map[string]any{"xsi:type": "CanonicalUser", "ID": "abc"}, "Permission": "FULL_CONTROL"},
			map[string]any{"Grantee": map[string]any{"xsi:type": "Group", "URI": uri}, "Permission": perm}}}}}
	}
	policy := func(principal any, cond bool) map[string]any {
		st := map[string]any{"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
		if cond {
			st["Condition"] = map[string]any{"IpAddress": map[string]any{"aws:SourceIp": "10.0.0.0/8"}}
		}
		return map[string]any{"bucketName": "b", "bucketPolicy": map[string]any{"Version": "2012-10-17", "Statement": []any{st}}}
	}
	pab := func(v bool) map[string]any {
		return map[string]any{"bucketName": "b", "PublicAccessBlockConfiguration": map[string]any{"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": v, "RestrictPublicBuckets": true}}
	}
	runCrafted(t, "s05-s3-public-bucket-or-object", []craftedCase{
		{"bucket ACL to AllUsers (second grant)", s3("PutBucketAcl", grant("http://acs.amazonaws.com/groups/global/AllUsers", "READ"), nil), true},
		{"bucket ACL to AuthenticatedUsers WRITE", s3("PutBucketAcl", grant("http://acs.amazonaws.com/groups/global/AuthenticatedUsers", "WRITE"), nil), true},
		{"object ACL to AllUsers", s3("PutObjectAcl", grant("http://acs.amazonaws.com/groups/global/AllUsers", "READ_ACP"), nil), true},
		{"object upload with a grant header", s3("PutObject", map[string]any{"bucketName": "b", "key": "k", "x-amz-grant-read": "uri=http://acs.amazonaws.com/groups/global/AllUsers"}, nil), true},
		{"canned ACL public-read", s3("PutObject", map[string]any{"bucketName": "b", "key": "k", "x-amz-acl": "public-read"}, nil), true},
		{"canned ACL in a list", s3("PutBucketAcl", map[string]any{"bucketName": "b", "x-amz-acl": []any{"public-read-write"}}, nil), true},
		{"policy Principal *", s3("PutBucketPolicy", policy("*", false), nil), true},
		{"policy Principal AWS *", s3("PutBucketPolicy", policy(map[string]any{"AWS": "*"}, false), nil), true},
		{"block public access deleted", s3("DeleteBucketPublicAccessBlock", map[string]any{"bucketName": "b"}, nil), true},
		{"block public access turned off", s3("PutBucketPublicAccessBlock", pab(false), nil), true},
		{"bucket ACL to a user", s3("PutBucketAcl", grant("", "READ"), nil), false},
		{"canned ACL private", s3("PutObject", map[string]any{"bucketName": "b", "key": "k", "x-amz-acl": "private"}, nil), false},
		{"policy with a condition", s3("PutBucketPolicy", policy("*", true), nil), false},
		{"policy to an account", s3("PutBucketPolicy", policy(map[string]any{"AWS": "arn:aws:iam::111122223333:root"}, false), nil), false},
		{"block public access on", s3("PutBucketPublicAccessBlock", pab(true), nil), false},
		{"denied", s3("PutBucketPolicy", policy("*", false), map[string]any{"errorCode": "AccessDenied"}), false},
	}, &query.Env{})
}

// TestNewCountryDetection: a login from a country not seen for the user in
// 30 days fires (GeoIP from a test database).
func TestNewCountryDetection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "geo.mmdb")
	if err := geoiptest.Write(path); err != nil {
		t.Fatal(err)
	}
	db, err := geoip.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now().Truncate(time.Minute)
	login := func(at time.Time, user, ip, result string) []byte {
		return ct(at, "signin.amazonaws.com", "ConsoleLogin", ip, user, nil, map[string]any{"eventType": "AwsConsoleSignIn",
			"responseElements": map[string]any{"ConsoleLogin": result}, "additionalEventData": map[string]any{"MFAUsed": "Yes"}})
	}
	var raws [][]byte
	var cats []string
	add := func(b []byte) { cats, raws = append(cats, "aws/cloudtrail"), append(raws, b) }
	add(login(now.Add(-20*24*time.Hour), "alice", "216.160.83.10", "Success")) // US
	add(login(now.Add(-2*24*time.Hour), "alice", "216.160.83.11", "Success"))
	add(login(now.Add(-5*time.Minute), "alice", "175.16.199.5", "Success"))  // CN: new
	add(login(now.Add(-4*time.Minute), "alice", "216.160.83.12", "Success")) // US: known
	add(login(now.Add(-3*24*time.Hour), "bob", "81.2.69.7", "Success"))      // GB
	add(login(now.Add(-3*time.Minute), "bob", "81.2.69.8", "Success"))       // GB: known
	add(login(now.Add(-2*time.Minute), "bob", "89.160.20.9", "Failure"))     // SE, failed: ignored
	add(login(now.Add(-40*time.Minute), "carol", "89.160.20.1", "Success"))  // SE, first seen 40 minutes ago: old news
	st, err := cttest.IngestCategories(t.TempDir(), cats, raws)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var d detection
	for _, x := range loadDetections(t) {
		if x.key == "s08-login-from-new-country" {
			d = x
		}
	}
	sp := d.spec(t, "aws/cloudtrail")
	r := &monitors.EngineRunner{Store: st.St, Env: &query.Env{GeoIP: db}}
	fired := evalOver(t, r, d, "aws/cloudtrail", query.Range{Start: now.Add(-sp.Window.D()), End: now})
	var got []string
	for _, g := range fired {
		got = append(got, g.Group["user"]+"/"+g.Group["country_code"])
	}
	if strings.Join(got, " ") != "alice/CN" {
		t.Errorf("new countries %v, want alice/CN", got)
	}
	// Without a GeoIP database the monitor fails, saying why.
	_, err = (&monitors.EngineRunner{Store: st.St, Env: &query.Env{}}).Run(context.Background(), monitors.RunRequest{Query: sp.Query, Range: query.Range{Start: now.Add(-time.Hour), End: now}})
	if err == nil || !strings.Contains(err.Error(), query.GeoIPNotConfigured) {
		t.Errorf("without GeoIP: %v", err)
	}
}

type fixedThreats struct{ set *query.ThreatIndicators }

func (f fixedThreats) ThreatIndicators(context.Context) (*query.ThreatIndicators, error) {
	return f.set, nil
}

// TestThreatIntelDetection: any API call from a listed address fires.
func TestThreatIntelDetection(t *testing.T) {
	at := time.Now().Add(-2 * time.Minute)
	env := &query.Env{ThreatIntel: fixedThreats{query.NewThreatIndicators([]query.ThreatIndicator{
		{Indicator: "203.0.113.0/24", Type: "ipv4-cidr", Actor: "FANCY BEAR", MaliciousConfidence: "high"},
		{Indicator: "2001:db8::66", Type: "ipv6", Actor: "x", MaliciousConfidence: "low"},
	})}}
	runCrafted(t, "s14-threat-intel-source-ip", []craftedCase{
		{"listed network", ct(at, "s3.amazonaws.com", "ListBuckets", "203.0.113.7", "bob", nil, nil), true},
		{"listed IPv6", ct(at, "iam.amazonaws.com", "ListUsers", "2001:db8::66", "bob", nil, nil), true},
		{"not listed", ct(at, "s3.amazonaws.com", "ListBuckets", "198.51.100.1", "bob", nil, nil), false},
		{"a service", ct(at, "s3.amazonaws.com", "ListBuckets", "ec2.amazonaws.com", "bob", nil, nil), false},
	}, env)
}
