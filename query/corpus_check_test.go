package query

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The query corpus (testdata/corpus/*.txt) holds realistic Sumo Logic
// queries of the kind users bring — CloudTrail security, web access logs,
// application logs, VPC flow logs, ALB and S3 access logs — in the format
// of "dohyo query check" (queries separated by blank lines). TestQueryCorpus
// checks every one (Check: parse and plan, without running) and compares the
// outcomes with testdata/corpus/results.golden, one line per query:
//
//	cloudtrail.txt:5 ok
//	cloudtrail.txt:12 error 3:3 not supported yet: threatip | operator "threatip" is not supported yet
//
// The corpus doubles as a progress gauge: the header of the golden file
// counts the queries that pass. When an operator lands and more queries
// pass (or an error message changes), record the new outcomes with
//
//	go test ./query -run TestQueryCorpus -update-corpus
//
// and check the diff: a query that stopped passing is a regression.

var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/corpus/results.golden from the current outcomes")

const corpusGolden = "testdata/corpus/results.golden"

// corpusOutcomes checks the corpus and returns the golden file's text and
// the counts.
func corpusOutcomes(t *testing.T) (text string, ok, total int, kinds map[string]int) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files: %v", err)
	}
	sort.Strings(files)
	var lines []string
	kinds = map[string]int{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range SplitQueries(string(data)) {
			total++
			res := Check(q.Text)
			where := fmt.Sprintf("%s:%d", filepath.Base(f), q.Line)
			if res.Err == nil {
				ok++
				lines = append(lines, where+" ok")
				continue
			}
			kind, _ := ErrorKind(res.Err)
			kinds[kind]++
			msg := strings.ReplaceAll(res.Err.Msg, "\n", " ")
			lines = append(lines, fmt.Sprintf("%s error %d:%d %s | %s", where, res.Err.Pos.Line, res.Err.Pos.Column, kind, msg))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Outcomes of Check over testdata/corpus/*.txt (see corpus_check_test.go).\n")
	fmt.Fprintf(&b, "# Regenerate: go test ./query -run TestQueryCorpus -update-corpus\n")
	fmt.Fprintf(&b, "# ok: %d of %d\n", ok, total)
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	return b.String(), ok, total, kinds
}

var corpusOKLine = regexp.MustCompile(`(?m)^# ok: (\d+) of (\d+)$`)

func TestQueryCorpus(t *testing.T) {
	got, ok, total, kinds := corpusOutcomes(t)
	if total < 150 {
		t.Errorf("the corpus has %d queries; keep at least 150", total)
	}
	var ks []string
	for k, n := range kinds {
		ks = append(ks, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(ks)
	t.Logf("corpus: %d of %d queries pass; failures by kind: %s", ok, total, strings.Join(ks, ", "))
	if *updateCorpus {
		if err := os.WriteFile(corpusGolden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	wantB, err := os.ReadFile(corpusGolden)
	if err != nil {
		t.Fatalf("%v (create it with -update-corpus)", err)
	}
	want := string(wantB)
	if got == want {
		return
	}
	if m := corpusOKLine.FindStringSubmatch(want); m != nil {
		t.Errorf("the corpus outcomes changed: %d of %d queries pass now, the golden file says %s of %s", ok, total, m[1], m[2])
	}
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	wantBy := map[string]string{}
	for _, l := range wl {
		if k, _, found := strings.Cut(l, " "); found && !strings.HasPrefix(l, "#") {
			wantBy[k] = l
		}
	}
	shown := 0
	for _, l := range gl {
		if strings.HasPrefix(l, "#") || l == "" {
			continue
		}
		k, _, _ := strings.Cut(l, " ")
		if w := wantBy[k]; w != l && shown < 30 {
			shown++
			t.Errorf("%s\n   was: %s\n   now: %s", k, strings.TrimPrefix(w, k+" "), strings.TrimPrefix(l, k+" "))
		}
	}
	t.Errorf("if the changes are intended, run: go test ./query -run TestQueryCorpus -update-corpus")
}
