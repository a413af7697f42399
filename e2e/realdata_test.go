package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// sharedData returns ../shared/data next to the repository, or skips.
func sharedData(t *testing.T) string {
	t.Helper()
	dir, _ := os.Getwd()
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		p := filepath.Join(d, "shared", "data")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
	}
	t.Skip("../shared/data is not present (it sits beside the repository in CI): skipping the real-data test")
	return ""
}

type trailRecord struct {
	EventID   string `json:"eventID"`
	EventTime string `json:"eventTime"`
	// The OTRF export went through Logstash, which moved eventTime here.
	Timestamp string `json:"@timestamp"`
}

// expectedRecords reads the CloudTrail files the way an independent reader
// would: whole-file JSON for delivery files, one record per line for NDJSON.
// Malformed files are skipped and reported.
func expectedRecords(t *testing.T, files []string) (map[string]time.Time, []string) {
	t.Helper()
	want := map[string]time.Time{}
	var malformed []string
	add := func(r trailRecord) {
		when := r.EventTime
		if when == "" {
			when = r.Timestamp
		}
		ts, err := time.Parse(time.RFC3339, when)
		if err != nil {
			t.Fatalf("record %s: time %q: %v", r.EventID, when, err)
		}
		want[r.EventID] = ts
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Records []trailRecord `json:"Records"`
		}
		if strings.HasPrefix(strings.TrimSpace(string(b)), `{"Records"`) || strings.Contains(string(b[:min(len(b), 200)]), `"Records"`) {
			if err := json.Unmarshal(b, &doc); err != nil {
				malformed = append(malformed, filepath.Base(f))
				continue
			}
			for _, r := range doc.Records {
				add(r)
			}
			continue
		}
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var r trailRecord
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			add(r)
		}
	}
	return want, malformed
}

// TestImportRealCloudTrail imports the public CloudTrail data sets with the
// CLI, then searches every record back with its eventTime as _messageTime.
func TestImportRealCloudTrail(t *testing.T) {
	data := sharedData(t)
	dirs := []string{
		filepath.Join(data, "cloudtrail_stratus_samples_cloudtrail2sightings"),
		filepath.Join(data, "cloudtrail_otrf_security_datasets"),
	}
	var files []string
	for _, d := range dirs {
		m, _ := filepath.Glob(filepath.Join(d, "*.json"))
		files = append(files, m...)
	}
	want, malformed := expectedRecords(t, files)
	if len(want) != 115 || len(malformed) != 1 || malformed[0] != "aws.execution.ec2-user-data.json" {
		t.Fatalf("the data sets changed: %d records, malformed %v", len(want), malformed)
	}

	// The records are from 2020-2022: keep them at their own times.
	p := startServer(t, "", "--retention", "3650d")
	src := p.createSource("trail", "aws/cloudtrail", nil)
	cmd := exec.Command(binary, append([]string{"import", "cloudtrail", "--url", src.URL}, dirs...)...)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("import reported success although one file is malformed:\n%s", out)
	}
	if !strings.Contains(string(out), "aws.execution.ec2-user-data.json") || !strings.Contains(string(out), "line 112") {
		t.Errorf("import output does not name the malformed file and where:\n%s", out)
	}

	from := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Now().Add(time.Hour)
	if n := p.waitCount("_sourceCategory=aws/cloudtrail", from, to, len(want)); n != len(want) {
		t.Fatalf("%d records stored, want %d\nimport output:\n%s", n, len(want), out)
	}
	p.waitMessages("_sourceCategory=aws/cloudtrail", from, to, len(want))
	res := p.search("_sourceCategory=aws/cloudtrail", from, to)
	idRE := regexp.MustCompile(`"eventID"\s*:\s*"([^"]+)"`)
	seen := map[string]bool{}
	for _, m := range res.messages {
		sm := idRE.FindStringSubmatch(m["_raw"])
		if sm == nil {
			t.Fatalf("stored message without eventID: %.200s", m["_raw"])
		}
		id := sm[1]
		wt, ok := want[id]
		if !ok {
			t.Errorf("unexpected record %s", id)
			continue
		}
		if seen[id] {
			t.Errorf("record %s stored twice", id)
		}
		seen[id] = true
		if got := m["_messagetime"]; got != formatMs(wt) {
			t.Errorf("record %s: _messagetime %s, want its eventTime %s (%s)", id, got, formatMs(wt), wt.Format(time.RFC3339))
		}
	}
	if len(seen) != len(want) {
		t.Errorf("%d distinct records found, want %d", len(seen), len(want))
	}
}

func formatMs(t time.Time) string { return strings.TrimSpace(jsonNumber(t.UnixMilli())) }

func jsonNumber(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
