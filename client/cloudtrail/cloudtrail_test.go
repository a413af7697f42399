package cloudtrail

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// sharedData is where the project's real data sets live.
const sharedData = "../../../shared/data"

func dataDir(t *testing.T, sub string) string {
	t.Helper()
	dir := filepath.Join(sharedData, sub)
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("real data not available (%v): run from a checkout next to shared/data", err)
	}
	return dir
}

func readAll(t *testing.T, path string) ([]string, error) {
	t.Helper()
	var recs []string
	_, err := ReadFile(path, func(rec []byte) error {
		recs = append(recs, string(rec))
		return nil
	})
	return recs, err
}

// TestStratusSamples checks the {"Records":[...]} files against an
// independent count (json.Unmarshal of the whole file) and the malformed
// file's error position.
func TestStratusSamples(t *testing.T) {
	dir := dataDir(t, "cloudtrail_stratus_samples_cloudtrail2sightings")
	files, err := FindFiles([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 4 {
		t.Fatalf("found %v, want the 4 .json files", files)
	}
	total := 0
	for _, f := range files {
		recs, err := readAll(t, f)
		raw, rerr := os.ReadFile(f)
		if rerr != nil {
			t.Fatal(rerr)
		}
		var whole struct{ Records []json.RawMessage }
		if uerr := json.Unmarshal(raw, &whole); uerr != nil {
			// Malformed upstream: the reader must fail too, with a position.
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Errorf("%s: json.Unmarshal fails (%v) but ReadFile returned %v", f, uerr, err)
				continue
			}
			if filepath.Base(f) != "aws.execution.ec2-user-data.json" {
				t.Errorf("unexpected malformed file %s", f)
			}
			if se.Line != 112 || se.Column != 1 || se.File != f || !strings.Contains(err.Error(), f+": line 112, column 1") {
				t.Errorf("position: %+v (%v)", se, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if len(recs) != len(whole.Records) {
			t.Errorf("%s: %d records, want %d", f, len(recs), len(whole.Records))
		}
		for i, rec := range recs {
			var want bytes.Buffer
			if err := json.Compact(&want, whole.Records[i]); err != nil {
				t.Fatal(err)
			}
			if rec != want.String() {
				t.Errorf("%s record %d is not the original compacted", f, i)
			}
			if strings.ContainsAny(rec, "\n") {
				t.Errorf("%s record %d spans lines", f, i)
			}
		}
		total += len(recs)
	}
	// The README: 15 events in 4 files, 3 of them in the malformed file.
	if total != 15-3 {
		t.Errorf("%d records in the well-formed files, want 12", total)
	}
}

// TestOTRFNDJSON reads the NDJSON export (one record per line) and checks
// it against a line count.
func TestOTRFNDJSON(t *testing.T) {
	dir := dataDir(t, "cloudtrail_otrf_security_datasets")
	path := filepath.Join(dir, "ec2_proxy_s3_exfiltration_2020-09-14011940.json")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	recs, err := readAll(t, path)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(lines) || len(recs) != 103 {
		t.Fatalf("%d records, %d lines, want 103", len(recs), len(lines))
	}
	for i := range recs {
		if recs[i] != lines[i] {
			t.Errorf("record %d differs from line %d", i, i+1)
		}
	}
}

func TestGzipAndLayouts(t *testing.T) {
	dir := t.TempDir()
	rec1 := `{"eventVersion":"1.08","eventName":"A","eventTime":"2025-01-01T00:00:00Z"}`
	rec2 := `{"eventVersion":"1.08","eventName":"B","nested":{"x":[1,2]}}`
	pretty := "{\n  \"Records\": [\n    {\"eventVersion\": \"1.08\", \"eventName\": \"A\", \"eventTime\": \"2025-01-01T00:00:00Z\"},\n    {\"eventVersion\":\"1.08\",\n \"eventName\":\"B\",\"nested\":{\"x\":[1, 2]}}\n  ]\n}\n"
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.Bytes()
	}
	cases := map[string][]byte{
		"AWSLogs/1/CloudTrail/us-east-1/2025/01/01/a.json.gz": gz(pretty),
		"AWSLogs/1/CloudTrail/us-east-1/2025/01/01/b.json":    []byte(pretty),
		"records-not-first.json":                              []byte(`{"other":1,"Records":[` + rec1 + "," + rec2 + `]}`),
		"ndjson.json":                                         []byte(rec1 + "\n\n" + rec2 + "\n"),
		"array.json":                                          []byte("[" + rec1 + ",\n" + rec2 + "]"),
		"concatenated.json":                                   []byte(`{"Records":[` + rec1 + `]}{"Records":[` + rec2 + `]}`),
	}
	for name, data := range cases {
		p := write(name, data)
		recs, err := readAll(t, p)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(recs) != 2 || recs[0] != rec1 || recs[1] != rec2 {
			t.Errorf("%s: got %q", name, recs)
		}
	}
	write("AWSLogs/1/CloudTrail-Digest/us-east-1/2025/01/01/d.json.gz", gz(`{"digestStartTime":"x"}`))
	write("notes.txt", []byte("hello"))
	files, err := FindFiles([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(cases) {
		t.Errorf("FindFiles: %v (digest files and non-JSON files must be skipped)", files)
	}

	for name, content := range map[string]string{
		"not-records.json": `{"name":"my-package","version":"1.0.0"}`,
		"truncated.json":   `{"Records":[` + rec1 + `,`,
		"scalar.json":      `{"Records":[` + rec1 + `,42]}`,
		"records-obj.json": `{"Records":{"a":1}}`,
		"text.json":        `hello`,
	} {
		p := write("bad/"+name, []byte(content))
		n, err := ReadFile(p, func([]byte) error { return nil })
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%s: error %v (%d records), want a SyntaxError", name, err, n)
			continue
		}
		if !strings.Contains(err.Error(), p) || se.Line == 0 {
			t.Errorf("%s: error %q lacks the file or line", name, err)
		}
	}
}

func TestCallbackErrorStopsReading(t *testing.T) {
	stop := errors.New("enough")
	n, err := Read(strings.NewReader(`{"Records":[{"eventName":"a"},{"eventName":"b"}]}`), func([]byte) error { return stop })
	if err != stop || n != 0 {
		t.Errorf("n %d err %v", n, err)
	}
	p := filepath.Join(t.TempDir(), "f.json")
	os.WriteFile(p, []byte(`{"Records":[{"eventName":"a"},{"eventName":"b"}]}`), 0o644)
	n, err = ReadFile(p, func([]byte) error { return stop })
	if err != stop || n != 0 {
		t.Errorf("ReadFile: n %d err %v", n, err)
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing.json"), func([]byte) error { return nil }); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.json.gz")
	os.WriteFile(bad, []byte{0x1f, 0x8b, 1, 2, 3}, 0o644)
	if _, err := ReadFile(bad, func([]byte) error { return nil }); err == nil || !strings.Contains(err.Error(), "bad.json.gz") || !strings.Contains(err.Error(), "gzip") {
		t.Errorf("corrupt gzip: %v", err)
	}
}

func TestEmptyInputs(t *testing.T) {
	for _, in := range []string{"", "  \n", `{"Records":[]}`, `{"Records":null}`} {
		n, err := Read(strings.NewReader(in), func([]byte) error { return nil })
		if n != 0 || err != nil {
			t.Errorf("%q: n %d err %v", in, n, err)
		}
	}
}
