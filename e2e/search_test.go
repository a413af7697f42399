package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ingestSpread sends n events to a source, spread evenly over [from, to)
// (newest last), in gzip batches, and waits until they are searchable.
func (p *proc) ingestSpread(t *testing.T, url, marker string, n int, from, to time.Time) {
	t.Helper()
	step := to.Sub(from) / time.Duration(n)
	const batch = 20000
	for start := 0; start < n; start += batch {
		var b bytes.Buffer
		for i := start; i < min(start+batch, n); i++ {
			ts := from.Add(time.Duration(i) * step).UTC().Format("2006-01-02T15:04:05.000Z")
			fmt.Fprintf(&b, "%s INFO %s event %07d host=h%d\n", ts, marker, i, i%7)
		}
		if code, body := post(t, url, gz(t, b.Bytes()), map[string]string{"Content-Encoding": "gzip"}); code != 200 {
			t.Fatalf("upload: %d %s", code, body)
		}
	}
	if got := p.waitCount(marker, from.Add(-time.Minute), to.Add(time.Minute), n); got != n {
		t.Fatalf("%d events searchable, want %d", got, n)
	}
	p.waitMessages(marker, from.Add(-time.Minute), to.Add(time.Minute), n)
}

// streamEvent is any event of the NDJSON search stream.
type streamEvent struct {
	Type           string              `json:"type"`
	Aggregate      bool                `json:"aggregate"`
	State          string              `json:"state"`
	MessageCount   int64               `json:"messageCount"`
	RecordCount    int64               `json:"recordCount"`
	HistogramCount int64               `json:"histogramCount"`
	Truncated      bool                `json:"truncated"`
	Messages       []map[string]string `json:"messages"`
	Records        []map[string]string `json:"records"`
	Buckets        []struct {
		StartTimestamp int64 `json:"startTimestamp"`
		Count          int64 `json:"count"`
	} `json:"buckets"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// stream runs a search through POST /api/v1/search/stream and returns its
// events as they were read, line by line.
func (p *proc) stream(body map[string]any) []streamEvent {
	p.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", p.url+"/api/v1/search/stream", bytes.NewReader(b))
	req.SetBasicAuth(testAccessID, testAccessKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := testClient.Do(req)
	if err != nil {
		p.t.Fatalf("stream: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		p.t.Fatalf("stream: status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var events []streamEvent
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var ev streamEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			p.t.Fatalf("stream line %.200q: %v", sc.Bytes(), err)
		}
		events = append(events, ev)
	}
	if err := sc.Err(); err != nil {
		p.t.Fatalf("stream: %v", err)
	}
	if len(events) < 2 || events[0].Type != "meta" || events[len(events)-1].Type != "done" {
		p.t.Fatalf("stream of %d events without meta first and done last", len(events))
	}
	return events
}

// The streaming endpoint against the real binary: messages newest first in
// batches, the histogram, records, limits; and the CLI, which uses it.
func TestSearchStream(t *testing.T) {
	p := startServer(t, "", "--max-groups", "5", "--search-timeout", "2m", "--max-concurrent-searches", "2")
	src := p.createSource("stream", "e2e/stream", nil)
	now := time.Now().UTC().Truncate(time.Second)
	from, to := now.Add(-time.Hour), now
	const n = 2500
	p.ingestSpread(t, src.URL, "streammarker", n, from, to)
	rng := map[string]any{"from": fmt.Sprint(from.Add(-time.Minute).UnixMilli()), "to": fmt.Sprint(to.Add(time.Minute).UnixMilli()), "timeZone": "UTC"}
	body := func(q string, extra map[string]any) map[string]any {
		m := map[string]any{"query": q}
		for k, v := range rng {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}

	events := p.stream(body("streammarker", nil))
	var msgs []map[string]string
	batches := 0
	var hist int64
	for _, ev := range events {
		switch ev.Type {
		case "messages":
			batches++
			if len(ev.Messages) > 1000 {
				t.Errorf("a batch of %d messages", len(ev.Messages))
			}
			msgs = append(msgs, ev.Messages...)
		case "histogram":
			for _, b := range ev.Buckets {
				hist += b.Count
			}
		case "error", "warning":
			t.Errorf("%s: %s", ev.Type, ev.Message)
		}
	}
	if len(msgs) != n || batches < 3 || hist != n {
		t.Fatalf("%d messages in %d batches, histogram %d; want %d in at least 3 batches", len(msgs), batches, hist, n)
	}
	for i, m := range msgs {
		if want := fmt.Sprintf("event %07d", n-1-i); !strings.Contains(m["_raw"], want) {
			t.Fatalf("message %d: %q, want %s (newest first)", i, m["_raw"], want)
		}
	}
	if done := events[len(events)-1]; done.State != "DONE GATHERING RESULTS" || done.MessageCount != n || done.Truncated {
		t.Errorf("done %+v", done)
	}

	// A limit stops the search early and says there was more.
	events = p.stream(body("streammarker", map[string]any{"limit": 10}))
	if done := events[len(events)-1]; done.MessageCount != 10 || !done.Truncated || done.HistogramCount != n || done.State != "DONE GATHERING RESULTS" {
		t.Errorf("with limit 10: done %+v", done)
	}

	// An aggregate streams its records.
	events = p.stream(body("streammarker | count by _sourceCategory", nil))
	var recs []map[string]string
	for _, ev := range events {
		recs = append(recs, ev.Records...)
	}
	if len(recs) != 1 || recs[0]["_count"] != strconv.Itoa(n) || recs[0]["_sourcecategory"] != "e2e/stream" || !events[0].Aggregate {
		t.Errorf("records %v", recs)
	}
	if done := events[len(events)-1]; done.RecordCount != 1 || done.MessageCount != n {
		t.Errorf("aggregate done %+v", done)
	}

	// --max-groups: a group-by over more groups stops with an error
	// naming the limit.
	events = p.stream(body("streammarker | count by _raw", nil))
	var errs []streamEvent
	for _, ev := range events {
		if ev.Type == "error" {
			errs = append(errs, ev)
		}
	}
	if len(errs) != 1 || errs[0].Code != "searchjob.too.many.groups" || !strings.Contains(errs[0].Message, "more than 5 groups") {
		t.Errorf("errors %+v, want one naming the limit of 5 groups", errs)
	}

	// The CLI streams: it prints the newest messages and the total.
	cmd := exec.Command(binary, "search", "--api", p.url, "--access-id", testAccessID, "--access-key", testAccessKey,
		"--from", "-2h", "--limit", "5", "--output", "json", "streammarker")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("dohyo search: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 5 || !strings.Contains(lines[0], fmt.Sprintf("event %07d", n-1)) {
		t.Errorf("dohyo search printed:\n%s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "2,500 messages, showing 5") {
		t.Errorf("dohyo search stderr: %s", stderr.String())
	}
}

// A search job over a large data set shows its progress while it runs:
// messageCount grows over the polls until DONE.
func TestSearchJobProgress(t *testing.T) {
	p := startServer(t, "")
	src := p.createSource("progress", "e2e/progress", nil)
	now := time.Now().UTC().Truncate(time.Second)
	from, to := now.Add(-4*time.Hour), now
	const n = 80000
	p.ingestSpread(t, src.URL, "progressmarker", n, from, to)

	// The job gathers the messages newest first, time window by time
	// window. Whether a poll lands between two windows depends on the
	// machine's speed, so a few attempts are allowed; every attempt must
	// be monotonic and end right.
	observed := false
	for attempt := 0; attempt < 3 && !observed; attempt++ {
		var created struct {
			ID string `json:"id"`
		}
		body := map[string]any{"query": "progressmarker", "from": fmt.Sprint(from.Add(-time.Minute).UnixMilli()), "to": fmt.Sprint(to.Add(time.Minute).UnixMilli()), "timeZone": "UTC"}
		if code := p.api("POST", "/api/v1/search/jobs", body, &created); code != 202 {
			t.Fatalf("create job: %d", code)
		}
		var counts []int
		var states []string
		deadline := time.Now().Add(120 * time.Second)
		var last jobStatus
		for {
			var st jobStatus
			if code := p.api("GET", "/api/v1/search/jobs/"+created.ID, nil, &st); code != 200 {
				t.Fatalf("status: %d", code)
			}
			if len(st.PendingErrors) > 0 {
				t.Fatalf("errors %v", st.PendingErrors)
			}
			if len(counts) > 0 && st.MessageCount < counts[len(counts)-1] {
				t.Fatalf("messageCount went down: %v then %d", counts, st.MessageCount)
			}
			counts, states, last = append(counts, st.MessageCount), append(states, st.State), st
			if st.State != "GATHERING RESULTS" && st.State != "NOT STARTED" {
				break
			}
			if st.MessageCount > 0 && st.MessageCount < n {
				observed = true
			}
			if time.Now().After(deadline) {
				t.Fatalf("job not done after 120s: %+v", st)
			}
			time.Sleep(2 * time.Millisecond)
		}
		if states[0] != "GATHERING RESULTS" && states[0] != "NOT STARTED" || last.State != "DONE GATHERING RESULTS" || last.MessageCount != n {
			t.Fatalf("final status %+v", last)
		}
		t.Logf("attempt %d: %d polls, states %s ... %s, messageCount %v ... %v", attempt, len(counts), states[0], states[len(states)-1], counts[:min(len(counts), 5)], counts[len(counts)-1])
		var page resultPage
		p.api("GET", "/api/v1/search/jobs/"+created.ID+"/messages?offset=0&limit=1", nil, &page)
		if len(page.Messages) != 1 || !strings.Contains(page.Messages[0].Map["_raw"], fmt.Sprintf("event %07d", n-1)) {
			t.Errorf("first message %v, want the newest", page.Messages)
		}
		var fields struct {
			Rows   int64 `json:"rows"`
			Fields []struct {
				Name  string `json:"name"`
				Count int64  `json:"count"`
			} `json:"fields"`
		}
		if code := p.api("GET", "/api/v1/search/jobs/"+created.ID+"/fields", nil, &fields); code != 200 || fields.Rows != n {
			t.Errorf("fields: %d, %d rows", code, fields.Rows)
		}
		p.api("DELETE", "/api/v1/search/jobs/"+created.ID, nil, nil)
	}
	if !observed {
		t.Errorf("no poll saw the job between 0 and %d messages in 3 attempts", n)
	}

	// An aggregate over all of it: the count of input messages grows too,
	// and ends at every match.
	res := p.search("progressmarker | count", from.Add(-time.Minute), to.Add(time.Minute))
	if res.status.MessageCount != n || len(res.records) != 1 || res.records[0]["_count"] != strconv.Itoa(n) {
		t.Errorf("count: %+v %v", res.status, res.records)
	}
}
