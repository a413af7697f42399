package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

const sharedDataDir = "../../../shared/data"

func requireData(t *testing.T, sub string) string {
	t.Helper()
	p := filepath.Join(sharedDataDir, sub)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("real data not available (%v): the import tests need ../shared/data next to the checkout", err)
	}
	return p
}

// countRecords counts a file's CloudTrail records independently of the
// importer: json.Unmarshal of a {"Records":[...]} file, or non-empty lines
// of an NDJSON file. ok is false when the file is not valid JSON.
func countRecords(t *testing.T, path string) (n int, ok bool) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var whole struct{ Records []json.RawMessage }
	if strings.HasPrefix(strings.TrimSpace(string(data)), `{`) && strings.Contains(string(data[:min(len(data), 200)]), `"Records"`) {
		if err := json.Unmarshal(data, &whole); err != nil {
			return 0, false
		}
		return len(whole.Records), true
	}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			if !json.Valid([]byte(l)) {
				return 0, false
			}
			n++
		}
	}
	return n, true
}

func TestImportCloudTrailRealData(t *testing.T) {
	withEnv(t, nil)
	stratus := requireData(t, "cloudtrail_stratus_samples_cloudtrail2sightings")
	otrf := filepath.Join(requireData(t, "cloudtrail_otrf_security_datasets"), "ec2_proxy_s3_exfiltration_2020-09-14011940.json")

	// Expected records, counted independently.
	want := 0
	var malformed []string
	files, _ := filepath.Glob(filepath.Join(stratus, "*.json"))
	for _, f := range append(files, otrf) {
		n, ok := countRecords(t, f)
		if !ok {
			malformed = append(malformed, f)
			continue
		}
		want += n
	}
	if want != 12+103 || len(malformed) != 1 || filepath.Base(malformed[0]) != "aws.execution.ec2-user-data.json" {
		t.Fatalf("independent count: %d records, malformed %v (README: 15 stratus events, 3 in the malformed file; 103 OTRF)", want, malformed)
	}

	srv, _ := newFakeServer(t)
	url, id := createSource(t, srv, "cloudtrail")
	out, _, err := runCmd(t, newImportCmd(), "", "cloudtrail", "--url", url, "--category", "aws/cloudtrail", "--concurrency", "3", "--batch-bytes", "20000", stratus, otrf)
	if err == nil || !strings.Contains(err.Error(), "1 file failed to parse") {
		t.Fatalf("error %v, want the malformed file reported\n%s", err, out)
	}
	got := srv.Lines(id)
	if len(got) != want {
		t.Fatalf("server got %d records, want %d\n%s", len(got), want, out)
	}
	ids := map[string]bool{}
	for _, l := range got {
		var rec struct {
			EventID   string `json:"eventID"`
			EventName string `json:"eventName"`
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil || rec.EventName == "" {
			t.Fatalf("a line is not a CloudTrail record: %v: %.100s", err, l)
		}
		ids[rec.EventID] = true
	}
	// Nothing of the malformed file was sent, not even the record before
	// the error.
	raw, _ := os.ReadFile(malformed[0])
	for _, m := range regexp.MustCompile(`"eventID":\s*"([^"]+)"`).FindAllStringSubmatch(string(raw), -1) {
		if ids[m[1]] {
			t.Errorf("record %s of the malformed file was sent", m[1])
		}
	}
	for _, r := range srv.Requests() {
		if r.Category != "aws/cloudtrail" {
			t.Fatalf("category header %q", r.Category)
		}
	}
	for _, w := range []string{"4 files ok, 1 failed", "115 records read", "aws.execution.ec2-user-data.json: line 112, column 1", "no records of this file were sent"} {
		if !strings.Contains(out, w) {
			t.Errorf("summary lacks %q:\n%s", w, out)
		}
	}
}

func TestImportCloudTrailGoodFilesSucceed(t *testing.T) {
	withEnv(t, nil)
	stratus := requireData(t, "cloudtrail_stratus_samples_cloudtrail2sightings")
	srv, _ := newFakeServer(t)
	url, id := createSource(t, srv, "ct")
	files := []string{
		filepath.Join(stratus, "aws.credential-access.secretsmanager-retrieve-secrets.json"),
		filepath.Join(stratus, "aws.defense-evasion.cloudtrail-delete.json"),
	}
	out, _, err := runCmd(t, newImportCmd(), "", "cloudtrail", "--url", url, files[0], files[1])
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if n := len(srv.Lines(id)); n != 11 {
		t.Errorf("%d records, want 10 + 1", n)
	}
}

func TestImportBigFileIsCheckedBeforeSending(t *testing.T) {
	withEnv(t, nil)
	old := cfImportBufferBytes
	cfImportBufferBytes = 100 // force the two-pass path
	defer func() { cfImportBufferBytes = old }()
	dir := t.TempDir()
	var good, bad strings.Builder
	for i := 0; i < 50; i++ {
		good.WriteString(`{"eventName":"Good","eventTime":"2025-01-01T00:00:00Z","i":` + string(rune('0'+i%10)) + "}\n")
		bad.WriteString(`{"eventName":"Bad","eventTime":"2025-01-01T00:00:00Z"}` + "\n")
	}
	bad.WriteString(`{"eventName":"Bad",` + "\n")
	os.WriteFile(filepath.Join(dir, "good.json"), []byte(good.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "bad.json"), []byte(bad.String()), 0o644)
	srv, _ := newFakeServer(t)
	url, id := createSource(t, srv, "ct")
	out, _, err := runCmd(t, newImportCmd(), "", "cloudtrail", "--url", url, dir)
	if err == nil {
		t.Fatalf("no error for the malformed file\n%s", out)
	}
	got := srv.SortedLines(id)
	if len(got) != 50 || !sort.StringsAreSorted(got) || strings.Contains(strings.Join(got, ""), "Bad") {
		t.Errorf("sent %d records (bad ones included: %v)", len(got), strings.Contains(strings.Join(got, ""), "Bad"))
	}
	if !strings.Contains(out, "bad.json: line 51") {
		t.Errorf("summary:\n%s", out)
	}
}

func TestImportNoFiles(t *testing.T) {
	withEnv(t, nil)
	_, _, err := runCmd(t, newImportCmd(), "", "cloudtrail", "--url", "http://127.0.0.1:1/receiver/v1/http/t", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "no .json or .json.gz files") {
		t.Errorf("error %v", err)
	}
}
