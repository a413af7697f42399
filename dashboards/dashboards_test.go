package dashboards

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dohyo/dohyo/search"
)

func TestParseTime(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/Paris")
	now := time.Date(2025, 11, 26, 15, 30, 45, 0, time.UTC) // a Wednesday
	cases := []struct {
		in   string
		want time.Time
		rel  bool
	}{
		{"now", now, true},
		{"-15m", now.Add(-15 * time.Minute), true},
		{"-1h30m", now.Add(-90 * time.Minute), true},
		{"-7d", now.Add(-7 * 24 * time.Hour), true},
		{"now-2w", now.Add(-14 * 24 * time.Hour), true},
		{"+10m", now.Add(10 * time.Minute), true},
		{"now/d", time.Date(2025, 11, 26, 0, 0, 0, 0, loc), true},
		{"now/w", time.Date(2025, 11, 24, 0, 0, 0, 0, loc), true},
		{"now-1d/d", time.Date(2025, 11, 25, 0, 0, 0, 0, loc), true},
		{"now/M", time.Date(2025, 11, 1, 0, 0, 0, 0, loc), true},
		{"now/h", time.Date(2025, 11, 26, 16, 0, 0, 0, loc), true},
		{"2025-11-24T10:00:00Z", time.Date(2025, 11, 24, 10, 0, 0, 0, time.UTC), false},
		{"2025-11-24 10:00", time.Date(2025, 11, 24, 10, 0, 0, 0, loc), false},
		{"1732442400000", time.UnixMilli(1732442400000), false},
	}
	for _, c := range cases {
		got, rel, err := ParseTime(c.in, now, loc)
		if err != nil || !got.Equal(c.want) || rel != c.rel {
			t.Errorf("ParseTime(%q) = %v, %v, %v; want %v, %v", c.in, got, rel, err, c.want, c.rel)
		}
	}
	for _, bad := range []string{"", "yesterday", "-5x", "now/q", "-", "now+", "123"} {
		if _, _, err := ParseTime(bad, now, loc); err == nil {
			t.Errorf("ParseTime(%q) did not fail", bad)
		}
	}
	if _, _, _, err := (TimeRange{From: "now", To: "-1h"}).Resolve(now, nil); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("an inverted range resolved: %v", err)
	}
}

func TestAlign(t *testing.T) {
	for _, c := range []struct {
		d, step time.Duration
	}{{15 * time.Minute, time.Second}, {time.Hour, 10 * time.Second}, {3 * time.Hour, 30 * time.Second}, {24 * time.Hour, time.Minute}, {7 * 24 * time.Hour, time.Minute}} {
		if got := alignStep(c.d); got != c.step {
			t.Errorf("alignStep(%s) = %s, want %s", c.d, got, c.step)
		}
	}
	to := time.Date(2025, 1, 1, 10, 0, 42, 5, time.UTC)
	f, tt := align(to.Add(-24*time.Hour), to)
	if tt != time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC) || tt.Sub(f) != 24*time.Hour {
		t.Errorf("align: %v %v", f, tt)
	}
}

func validDashboard() *Dashboard {
	return &Dashboard{
		Title:     "Web",
		Variables: []Variable{{Name: "host", Kind: VarList, Values: []string{"web-1", "web-2"}, AllowAll: true}},
		Panels: []Panel{
			{Title: "Errors", Query: "_sourceCategory=web error | count", Visualization: Visualization{Type: VizSingleValue}},
			{Title: "By host", Query: "_sourceCategory=web _sourceHost={{host}} | count by _sourceHost", Visualization: Visualization{Type: VizBar}},
			{Title: "Notes", Text: "# hello", Visualization: Visualization{Type: VizText}},
		},
	}
}

func TestNormalizeAndValidate(t *testing.T) {
	d := validDashboard()
	d.Panels[1].ID = "p1" // taken: the first panel gets the next free id
	Normalize(d)
	if err := Validate(d); err != nil {
		t.Fatal(err)
	}
	if d.TimeRange != DefaultTimeRange {
		t.Errorf("time range %+v", d.TimeRange)
	}
	if got := []string{d.Panels[0].ID, d.Panels[1].ID, d.Panels[2].ID}; strings.Join(got, ",") != "p2,p1,p3" {
		t.Errorf("ids %v", got)
	}
	if l := d.Panels[2].Layout; l != (Layout{X: 16, Y: 0, W: 8, H: 6}) {
		t.Errorf("layout %+v", l)
	}

	bad := validDashboard()
	bad.Title = ""
	bad.Panels[0].Query = "_sourceCategory=web\n| count by host | cout"
	bad.Panels[1].Query = "_sourceCategory=web {{site}} | count"
	bad.Panels = append(bad.Panels, Panel{Title: "Chart", Query: "* | count", Visualization: Visualization{Type: "donut"}, Layout: Layout{X: 20, W: 8, H: 4}})
	bad.Variables = append(bad.Variables, Variable{Name: "host", Kind: VarText}, Variable{Name: "q", Kind: VarQuery, Query: "* | count by"})
	Normalize(bad)
	err := Validate(bad)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a ValidationError, got %v", err)
	}
	want := []string{
		`title: a dashboard needs a title`,
		`variable "host": name: defined twice`,
		`panel 1 "Errors" (p1): query: line 2, column 19: unknown operator "cout"; did you mean "count"?`,
		`panel 2 "By host" (p2): query: uses {{site}}, which the dashboard does not define as a variable`,
		`panel 4 "Chart" (p4): visualization.type: "donut"`,
		`panel 4 "Chart" (p4): layout: x=20 y=0 w=8 h=4 does not fit the grid`,
	}
	got := make([]string, len(ve.Problems))
	for i, p := range ve.Problems {
		got[i] = p.String()
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			if strings.HasPrefix(g, w) {
				found = true
			}
		}
		if !found {
			t.Errorf("no problem %q in\n%s", w, strings.Join(got, "\n"))
		}
	}
	var varQuery *Problem
	for i := range ve.Problems {
		if ve.Problems[i].Variable == "q" {
			varQuery = &ve.Problems[i]
		}
	}
	if varQuery == nil || varQuery.Line != 1 || varQuery.Field != "query" {
		t.Errorf("the variable query's problem: %+v", varQuery)
	}
	p1 := ve.Problems[3]
	if p1.Panel != 1 || p1.PanelTitle != "Errors" || p1.Line != 2 || p1.Column != 19 {
		t.Errorf("panel problem %+v", p1)
	}

	// A query that parses with {{vars}} but not with their defaults.
	d2 := &Dashboard{Title: "x", Variables: []Variable{{Name: "n", Kind: VarText, Default: "a b"}},
		Panels: []Panel{{Title: "p", Query: "* | limit {{n}}", Visualization: Visualization{Type: VizTable}}}}
	Normalize(d2)
	if err := Validate(d2); err == nil || !strings.Contains(err.Error(), `{{n}} = "a b"`) {
		t.Errorf("defaults not checked: %v", err)
	}
}

func TestParseImport(t *testing.T) {
	for _, in := range []string{
		`{"format":"dohyo.dashboards/v1","dashboards":[{"title":"a","panels":[]}]}`,
		`{"title":"a","panels":[]}`,
		`[{"title":"a","panels":[]},{"title":"b","panels":[]}]`,
	} {
		if _, err := ParseImport([]byte(in)); err != nil {
			t.Errorf("ParseImport(%s): %v", in, err)
		}
	}
	for _, in := range []string{`{"format":"other/v1","dashboards":[]}`, `{"title":"a","panel":[]}`, `{"type":"DashboardV2SyncDefinition","panels":[]}`, `nope`} {
		if _, err := ParseImport([]byte(in)); err == nil {
			t.Errorf("ParseImport(%s) did not fail", in)
		}
	}
}

func TestDrillDown(t *testing.T) {
	cases := []struct {
		name string
		req  DrillDownRequest
		want string
		from int64
		to   int64
	}{
		{"group-by value", DrillDownRequest{Query: "_sourceCategory=web | parse \"user=*,\" as user | count by user | sort by _count", Values: map[string]string{"user": "al\"ice", "_count": "3"}, From: 1, To: 2},
			"_sourceCategory=web | parse \"user=*,\" as user\n| where user = \"al\\\"ice\"", 1, 2},
		{"metadata field", DrillDownRequest{Query: "* | count by _sourceCategory", Values: map[string]string{"_sourcecategory": "api/web"}, From: 1, To: 2},
			"*\n| where _sourceCategory = \"api/web\"", 1, 2},
		{"timeslice and transposed series", DrillDownRequest{
			Query:  "x | json \"r\" as result | timeslice 1h | count by _timeslice, result | transpose row _timeslice column result",
			Values: map[string]string{"_timeslice": "7200000"}, Series: "failure", From: 0, To: 86400000},
			"x | json \"r\" as result | timeslice 1h\n| where toLowerCase(result) = \"failure\"", 7200000, 10800000},
		{"variables", DrillDownRequest{Query: "_sourceCategory={{cat}} | count by host", Variables: map[string]string{"cat": "a b"}, Values: map[string]string{"host": "h1"}, From: 1, To: 2},
			"_sourceCategory=\"a b\"\n| where host = \"h1\"", 1, 2},
		{"messages", DrillDownRequest{Query: "error | parse \"code=*\" as code", Values: map[string]string{"code": "E1"}, From: 1, To: 2},
			"error | parse \"code=*\" as code\n| where code = \"E1\"", 1, 2},
		{"null group", DrillDownRequest{Query: "x | count by %\"odd name\"", Values: map[string]string{"odd name": ""}, From: 1, To: 2},
			"x\n| where isBlank(%\"odd name\")", 1, 2},
	}
	for _, c := range cases {
		got, err := DrillDown(c.req)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got.Query != c.want || got.From != c.from || got.To != c.to {
			t.Errorf("%s:\n got %q [%d, %d)\nwant %q [%d, %d)", c.name, got.Query, got.From, got.To, c.want, c.from, c.to)
		}
	}
	if _, err := DrillDown(DrillDownRequest{Query: "x | count by {{a}}"}); err == nil {
		t.Error("a missing variable did not fail")
	}
}

func TestResultCacheSingleFlight(t *testing.T) {
	now := time.Unix(1000, 0)
	var mu sync.Mutex
	c := newResultCache(time.Minute, 1<<20, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	var runs atomic.Int32
	release := make(chan struct{})
	fn := func(ctx context.Context) (*search.Result, error) {
		runs.Add(1)
		<-release
		return &search.Result{Query: "q", Records: []map[string]string{{"_count": "1"}}}, nil
	}
	var wg sync.WaitGroup
	hows := make([]int, 8)
	for i := range hows {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, how, err := c.get(context.Background(), "k", false, fn)
			if err != nil {
				t.Error(err)
			}
			hows[i] = how
		}(i)
	}
	for c.stats().Shared < 7 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if runs.Load() != 1 {
		t.Errorf("%d runs for 8 concurrent callers, want 1", runs.Load())
	}
	if _, how, _ := c.get(context.Background(), "k", false, fn); how != fromCache {
		t.Errorf("second get: how %d, want from cache", how)
	}
	st := c.stats()
	if st.Misses != 1 || st.Shared != 7 || st.Hits != 1 || st.Entries != 1 {
		t.Errorf("stats %+v", st)
	}
	// Expiry.
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	if _, how, _ := c.get(context.Background(), "k", false, fn); how != fromSearch {
		t.Errorf("after the TTL: how %d, want a new search", how)
	}
	// Errors are not cached; a caller going away does not cancel others'.
	boom := errors.New("boom")
	if _, _, err := c.get(context.Background(), "e", false, func(context.Context) (*search.Result, error) { return nil, boom }); err != boom {
		t.Errorf("err %v", err)
	}
	if st := c.stats(); st.Entries != 1 {
		t.Errorf("an error was cached: %+v", st)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancelled := make(chan error, 1)
	slow := make(chan struct{})
	go func() {
		_, _, err := c.get(ctx, "s", false, func(fctx context.Context) (*search.Result, error) {
			select {
			case <-slow:
				return &search.Result{}, nil
			case <-fctx.Done():
				return nil, fctx.Err()
			}
		})
		cancelled <- err
	}()
	for c.stats().Misses < 3 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-cancelled; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled caller: %v", err)
	}
	close(slow)
}
