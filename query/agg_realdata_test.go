package query

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/store/embedded"
)

// Aggregates over real data (../shared/data): the Apache access log of the
// Elastic examples (10,000 lines) and CloudTrail records of the OTRF
// security data sets, run pushed down and all-Go, and checked against
// sums computed here.

func readAllLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}

func realDataStore(t *testing.T, category string, lines []string) (*embedded.Store, Range) {
	t.Helper()
	st, err := embedded.Open(t.TempDir(), embedded.Config{Retention: 30 * 24 * time.Hour}) // a day's retention would move the events of yesterday (before 02:00 UTC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	base := time.Now().Add(-3 * time.Hour).Truncate(time.Second)
	b := &event.Batch{ReceiptTime: base.UnixNano(), Source: event.Source{Category: category}}
	for i, l := range lines {
		b.Events = append(b.Events, event.Event{Time: base.Add(time.Duration(i) * time.Second).UnixNano(), Raw: l, Fields: goldenJSONFields(l, nil)})
	}
	if err := st.Add(context.Background(), 1, b, nil); err != nil {
		t.Fatal(err)
	}
	st.Flush()
	return st, Range{Start: base.Add(-time.Minute), End: base.Add(3 * time.Hour)}
}

// checkBothWays runs q pushed and all-Go, demands the same records and
// returns them as "name=value ..." lines.
func checkBothWays(t *testing.T, st *embedded.Store, rng Range, q string) []string {
	t.Helper()
	pushed, ps := run(t, st, q, true, ExecOptions{Range: rng})
	goRun, gs := run(t, st, q, false, ExecOptions{Range: rng})
	if !sameRecords(pushed.records, goRun.records) {
		t.Errorf("%q: pushed and all-Go differ\npushed:\n%s\nGo:\n%s", q, dumpRecords(pushed.records), dumpRecords(goRun.records))
	}
	if ps.MessagesMatched != gs.MessagesMatched {
		t.Errorf("%q: MessagesMatched pushed %d, Go %d", q, ps.MessagesMatched, gs.MessagesMatched)
	}
	var out []string
	for _, r := range goRun.records {
		parts := make([]string, len(r))
		for i, f := range r {
			parts[i] = f.Name + "=" + f.Value
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

func TestAggregateApacheLog(t *testing.T) {
	lines, err := readAllLines(filepath.Join(sharedData, "apache_access_elastic_examples", "apache_logs"))
	if err != nil {
		t.Skipf("skipping: the Apache log of %s is absent (%v)", sharedData, err)
	}
	st, rng := realDataStore(t, "prod/web/apache", lines)
	re := regexp.MustCompile(`^(\S+) \S+ \S+ \[[^\]]*\] "(\S+) [^"]*" (\d+) (\S+)`)
	count := map[string]int64{}
	bytes := map[string]int64{}
	hasBytes := map[string]bool{} // a status whose sizes are all "-" sums to null
	ips := map[string]int64{}
	for _, l := range lines {
		m := re.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		count[m[3]]++
		if n, err := strconv.ParseInt(m[4], 10, 64); err == nil {
			bytes[m[3]] += n
			hasBytes[m[3]] = true
		}
		ips[m[1]]++
	}
	var want []string
	var statuses []string
	for s := range count {
		statuses = append(statuses, s)
	}
	sort.Strings(statuses)
	for _, s := range statuses {
		sum := ""
		if hasBytes[s] {
			sum = strconv.FormatInt(bytes[s], 10)
		}
		want = append(want, fmt.Sprintf("status=%s _count=%d _sum=%s", s, count[s], sum))
	}
	parse := `_sourceCategory=prod/web/apache | parse regex "^(?<ip>\S+) \S+ \S+ \[[^\]]*\] \"(?<method>\S+) [^\"]*\" (?<status>\d+) (?<bytes>\S+)"`
	got := checkBothWays(t, st, rng, parse+" | count, sum(bytes) by status")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("count and bytes by status:\n got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The ten most frequent clients, ties by address.
	type ipc struct {
		ip string
		n  int64
	}
	var all []ipc
	for ip, n := range ips {
		all = append(all, ipc{ip, n})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].n != all[j].n {
			return all[i].n > all[j].n
		}
		return all[i].ip < all[j].ip
	})
	var wantTop []string
	for _, c := range all[:10] {
		wantTop = append(wantTop, fmt.Sprintf("ip=%s _count=%d", c.ip, c.n))
	}
	got = checkBothWays(t, st, rng, parse+" | top 10 ip")
	if strings.Join(got, "\n") != strings.Join(wantTop, "\n") {
		t.Errorf("top 10 ip:\n got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantTop, "\n"))
	}
	got = checkBothWays(t, st, rng, parse+" | count_distinct(ip) as clients")
	if w := fmt.Sprintf("clients=%d", len(ips)); len(got) != 1 || got[0] != w {
		t.Errorf("count_distinct(ip) = %v, want %s", got, w)
	}
	for _, q := range []string{
		" | avg(bytes), min(bytes), max(bytes), count(bytes) by method",
		" | timeslice 1h | count by _timeslice, status | transpose row _timeslice column status",
		" | count_frequent method, status",
		" | pct(bytes, 50, 95, 99), stddev(bytes) by status",
		" | where status = \"404\" | values(method), count by ip | top 3 ip by sum(_count)",
		" | timeslice 30m | sum(bytes) as b by _timeslice | fillmissing timeslice",
	} {
		if got := checkBothWays(t, st, rng, parse+q); len(got) == 0 {
			t.Errorf("%s: no records", q)
		}
	}
}

func TestAggregateCloudTrail(t *testing.T) {
	lines, err := readAllLines(filepath.Join(sharedData, "cloudtrail_otrf_security_datasets", "ec2_proxy_s3_exfiltration_2020-09-14011940.json"))
	if err != nil {
		t.Skipf("skipping: the CloudTrail records of %s are absent (%v)", sharedData, err)
	}
	st, rng := realDataStore(t, "aws/cloudtrail", lines)
	names := map[string]int{}
	users := map[string]bool{}
	for _, l := range lines {
		var rec struct {
			EventName    string `json:"eventName"`
			UserIdentity struct {
				Arn string `json:"arn"`
			} `json:"userIdentity"`
		}
		if json.Unmarshal([]byte(l), &rec) != nil {
			continue
		}
		names[rec.EventName]++
		if rec.UserIdentity.Arn != "" {
			users[rec.UserIdentity.Arn] = true
		}
	}
	var keys []string
	for k := range names {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var want []string
	for _, k := range keys {
		want = append(want, fmt.Sprintf("eventname=%s _count=%d", k, names[k]))
	}
	got := checkBothWays(t, st, rng, `_sourceCategory=aws/cloudtrail | json "eventName" | count by eventname`)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("count by eventName:\n got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	got = checkBothWays(t, st, rng, `_sourceCategory=aws/cloudtrail | json "userIdentity.arn" as arn nodrop | count_distinct(arn) as users`)
	if w := fmt.Sprintf("users=%d", len(users)); len(got) != 1 || got[0] != w {
		t.Errorf("count_distinct(arn) = %v, want %s", got, w)
	}
	for _, q := range []string{
		`_sourceCategory=aws/cloudtrail | json "eventName", "eventSource" as name, source | top 5 name, source`,
		`_sourceCategory=aws/cloudtrail | json "sourceIPAddress" as ip | count by ip | sort by _count | limit 5`,
		`_sourceCategory=aws/cloudtrail | json "userIdentity.type", "errorCode" as type, err nodrop | count, count(err) as errors, values(err) by type`,
		`_sourceCategory=aws/cloudtrail | json "eventName" | timeslice 5m | count by _timeslice, eventname | transpose row _timeslice column eventname`,
	} {
		if got := checkBothWays(t, st, rng, q); len(got) == 0 {
			t.Errorf("%s: no records", q)
		}
	}
}
