// Package cttest loads the labelled CloudTrail events of the shared data
// folder (../shared/data: Panther's rule tests, OTRF Security-Datasets,
// Stratus Red Team samples) and ingests them into an embedded store, for
// the tests of the detections (package monitors) and of the Sigma
// converter (package sigma). Tests skip when the data is absent.
package cttest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/ingest"
	"github.com/dohyo/dohyo/store"
	"github.com/dohyo/dohyo/store/embedded"
)

// Event is one labelled CloudTrail record.
type Event struct {
	// Set names the data set: panther, otrf or stratus.
	Set string
	// RuleID, Expected and TestName are Panther's labels (panther only):
	// the rule the event tests and whether that rule should alert.
	RuleID   string
	Expected bool
	TestName string
	// Raw is the record, compact JSON.
	Raw []byte
}

// SharedData returns the shared data folder, found by walking up from the
// working directory looking for shared/data.
func SharedData() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		p := filepath.Join(dir, "shared", "data")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

func compact(b []byte) ([]byte, error) {
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Panther reads cloudtrail_panther_rule_tests/panther_cloudtrail_rule_tests.jsonl.
func Panther(data string) ([]Event, error) {
	f, err := os.Open(filepath.Join(data, "cloudtrail_panther_rule_tests", "panther_cloudtrail_rule_tests.jsonl"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var l struct {
			RuleID   string          `json:"rule_id"`
			Expected bool            `json:"expected_result"`
			TestName string          `json:"test_name"`
			Log      json.RawMessage `json:"log"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, err
		}
		raw, err := compact(l.Log)
		if err != nil {
			return nil, err
		}
		out = append(out, Event{Set: "panther", RuleID: l.RuleID, Expected: l.Expected, TestName: l.TestName, Raw: raw})
	}
	return out, sc.Err()
}

// OTRF reads the OTRF Security-Datasets CloudTrail events (NDJSON).
func OTRF(data string) ([]Event, error) {
	files, _ := filepath.Glob(filepath.Join(data, "cloudtrail_otrf_security_datasets", "*.json"))
	sort.Strings(files)
	var out []Event
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		for _, line := range bytes.Split(b, []byte("\n")) {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			raw, err := compact(line)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			out = append(out, Event{Set: "otrf", Raw: raw})
		}
	}
	return out, nil
}

// Stratus reads the Stratus Red Team samples ({"Records":[...]} files).
// One file is malformed upstream (records without a comma between them);
// its records are cut out by matching braces.
func Stratus(data string) ([]Event, error) {
	files, _ := filepath.Glob(filepath.Join(data, "cloudtrail_stratus_samples_cloudtrail2sightings", "*.json"))
	sort.Strings(files)
	var out []Event
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		recs, err := records(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		for _, r := range recs {
			raw, err := compact(r)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			out = append(out, Event{Set: "stratus", Raw: raw})
		}
	}
	return out, nil
}

// records returns the objects of the "Records" array, tolerating missing
// commas between them.
func records(b []byte) ([][]byte, error) {
	i := bytes.Index(b, []byte(`"Records"`))
	if i < 0 {
		return nil, fmt.Errorf("no Records")
	}
	j := bytes.IndexByte(b[i:], '[')
	if j < 0 {
		return nil, fmt.Errorf("no Records array")
	}
	s := b[i+j+1:]
	var out [][]byte
	depth, start, inStr, esc := 0, -1, false, false
	for k := 0; k < len(s); k++ {
		c := s[k]
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{':
			if depth == 0 {
				start = k
			}
			depth++
		case '}':
			depth--
			if depth == 0 && start >= 0 {
				out = append(out, s[start:k+1])
				start = -1
			}
		case ']':
			if depth == 0 {
				return out, nil
			}
		}
	}
	return out, nil
}

// All returns the Panther, OTRF and Stratus events.
func All(data string) ([]Event, error) {
	var out []Event
	for _, f := range []func(string) ([]Event, error){Panther, OTRF, Stratus} {
		evs, err := f(data)
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
	}
	return out, nil
}

// Store is an embedded store holding events, each under its own source
// category (Category(i)), so that a query scoped to one category sees one
// event.
type Store struct {
	St store.Store
	// Range covers every event's time.
	Start, End time.Time
}

// Category is the source category of event i.
func Category(i int) string { return fmt.Sprintf("ct/%d", i) }

// Ingest parses every event as the HTTP source does (its time from
// eventTime, its JSON fields) and adds it to a new embedded store in dir,
// event i under Category(i).
func Ingest(dir string, evs []Event) (*Store, error) {
	cats := make([]string, len(evs))
	raws := make([][]byte, len(evs))
	for i, e := range evs {
		cats[i], raws[i] = Category(i), e.Raw
	}
	return IngestCategories(dir, cats, raws)
}

// IngestCategories adds raw event i under category cats[i] to a new
// embedded store in dir, parsed as the HTTP source does.
func IngestCategories(dir string, cats []string, raws [][]byte) (*Store, error) {
	st, err := embedded.Open(dir, embedded.Config{Retention: 3650 * 24 * time.Hour})
	if err != nil {
		return nil, err
	}
	now := time.Now()
	s := &Store{St: st, Start: now, End: now}
	for i, raw := range raws {
		parsed, _, err := ingest.Parse(raw, ingest.Options{Multiline: ingest.MultilineOnePerRequest, ReceiptTime: now}, ingest.Limits{})
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		b := &event.Batch{ReceiptTime: now.UnixNano(), Source: event.Source{ID: "ct", Name: "cloudtrail", Category: cats[i], Host: "ct", Collector: "cttest"}, Events: parsed}
		if err := st.Add(context.Background(), uint64(i+1), b, nil); err != nil {
			st.Close()
			return nil, err
		}
		for _, p := range parsed {
			t := time.Unix(0, p.Time)
			if t.Before(s.Start) {
				s.Start = t
			}
			if t.After(s.End) {
				s.End = t
			}
		}
	}
	st.Flush()
	s.Start = s.Start.Add(-time.Hour)
	s.End = s.End.Add(time.Hour)
	return s, nil
}

// Close closes the store.
func (s *Store) Close() error { return s.St.Close() }

// Substitute replaces ${name} in an app file's text (a plain replacement:
// the values tests use are plain terms).
func Substitute(text string, params map[string]string) string {
	for k, v := range params {
		text = strings.ReplaceAll(text, "${"+k+"}", v)
	}
	return text
}
