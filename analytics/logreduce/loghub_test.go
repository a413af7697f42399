package logreduce

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The Loghub 2k data sets (../shared/data/loghub_2k, see its README): 2,000
// labelled lines per system. They are research data, read in place and never
// copied into the repository.

var loghubSets = []string{
	"Android", "Apache", "HDFS", "HPC", "Hadoop", "HealthApp",
	"Linux", "OpenStack", "Spark", "Windows", "Zookeeper",
}

// loghubDir returns the folder of the Loghub 2k sets, or skips the test when
// the shared data is absent.
func loghubDir(tb testing.TB) string {
	tb.Helper()
	for _, d := range []string{
		os.Getenv("DOHYO_SHARED_DATA"),
		"../../../shared/data",
	} {
		if d == "" {
			continue
		}
		p := filepath.Join(d, "loghub_2k")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
	}
	tb.Skip("Loghub 2k data not found (../shared/data/loghub_2k relative to the repository; set DOHYO_SHARED_DATA to its parent folder)")
	return ""
}

// structuredRow is one row of a <Set>_2k.log_structured*.csv file.
type structuredRow struct {
	Content, EventID, Template string
}

// readStructured reads a Loghub structured CSV file (standard CSV with a
// header row; quoted fields may hold commas, quotes and spaces) and returns
// its Content, EventId and EventTemplate columns.
func readStructured(path string) ([]structuredRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimPrefix(h, "\ufeff")] = i
	}
	ci, ok1 := col["Content"]
	ei, ok2 := col["EventId"]
	ti, ok3 := col["EventTemplate"]
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("%s: missing Content, EventId or EventTemplate column", path)
	}
	var rows []structuredRow
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(rec) <= max(ci, ei, ti) {
			return nil, fmt.Errorf("%s: short row %q", path, rec)
		}
		rows = append(rows, structuredRow{rec[ci], rec[ei], rec[ti]})
	}
	return rows, nil
}

// readLines reads a raw log file, one entry per line.
func readLines(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := strings.TrimRight(string(b), "\n")
	return strings.Split(s, "\n"), nil
}

// groupingAccuracy is the Loghub benchmark's GA: the fraction of lines whose
// predicted group holds exactly the same lines as their true group.
func groupingAccuracy(truth, pred []string) float64 {
	if len(truth) != len(pred) || len(truth) == 0 {
		return 0
	}
	type pair struct{ t, p string }
	tCount := map[string]int{}
	pCount := map[string]int{}
	both := map[pair]int{}
	for i := range truth {
		tCount[truth[i]]++
		pCount[pred[i]]++
		both[pair{truth[i], pred[i]}]++
	}
	right := 0
	for pr, n := range both {
		if n == tCount[pr.t] && n == pCount[pr.p] {
			right += n
		}
	}
	return float64(right) / float64(len(truth))
}

// assign mines lines with one Miner and returns each line's signature id.
func assign(lines []string) ([]string, *Result) {
	m := New(Config{})
	for _, l := range lines {
		m.Add(l)
	}
	res := m.Result()
	ids := make([]string, len(lines))
	for i, l := range lines {
		ids[i] = res.Assign(l).ID
	}
	return ids, res
}

// TestGroupingAccuracy mines each Loghub 2k set with the default
// configuration (no per-set settings) and reports the grouping accuracy:
//
//   - content/orig: the Content column, against the original ground truth
//     (EventId of <Set>_2k.log_structured.csv), as in published results;
//   - content/corr: the Content column, against the corrected ground truth
//     (EventId of <Set>_2k.log_structured_corrected.csv);
//   - raw/orig, raw/corr: the whole raw lines of <Set>_2k.log, headers
//     included, as users feed them, against both.
//
// It asserts the targets on content/orig (mean >= 0.95, every set >= 0.90)
// and regression floors on the others. The two ground truths disagree on
// booleans: the original splits "isOverlap:true" from "isOverlap:false"
// (Android) and so does the miner; the corrected one merges them, which
// costs Android about 0.1 there. Raw lines carry header fields that the
// ground truth ignores (OpenStack's component, HPC's node state), so a raw
// template can be split by them.
func TestGroupingAccuracy(t *testing.T) {
	dir := loghubDir(t)
	cols := []string{"content/orig", "content/corr", "raw/orig", "raw/corr"}
	sums := make([]float64, len(cols))
	mins := []float64{1, 1, 1, 1}
	var table strings.Builder
	fmt.Fprintf(&table, "%-10s", "set")
	for _, c := range cols {
		fmt.Fprintf(&table, " %12s", c)
	}
	fmt.Fprintf(&table, " %9s\n", "clusters")
	for _, set := range loghubSets {
		orig, err := readStructured(filepath.Join(dir, set, set+"_2k.log_structured.csv"))
		if err != nil {
			t.Fatal(err)
		}
		corr, err := readStructured(filepath.Join(dir, set, set+"_2k.log_structured_corrected.csv"))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := readLines(filepath.Join(dir, set, set+"_2k.log"))
		if err != nil {
			t.Fatal(err)
		}
		if len(orig) != len(corr) || len(orig) != len(raw) {
			t.Fatalf("%s: %d structured rows, %d corrected rows, %d raw lines", set, len(orig), len(corr), len(raw))
		}
		content := make([]string, len(orig))
		truthOrig := make([]string, len(orig))
		truthCorr := make([]string, len(orig))
		for i := range orig {
			content[i] = orig[i].Content
			truthOrig[i] = orig[i].EventID
			truthCorr[i] = corr[i].EventID
		}
		ids, res := assign(content)
		rawIDs, _ := assign(raw)
		ga := []float64{
			groupingAccuracy(truthOrig, ids),
			groupingAccuracy(truthCorr, ids),
			groupingAccuracy(truthOrig, rawIDs),
			groupingAccuracy(truthCorr, rawIDs),
		}
		fmt.Fprintf(&table, "%-10s", set)
		for k, g := range ga {
			sums[k] += g
			mins[k] = min(mins[k], g)
			fmt.Fprintf(&table, " %12.4f", g)
		}
		fmt.Fprintf(&table, " %9d\n", len(res.Clusters))
		if ga[0] < 0.90 {
			t.Errorf("%s: grouping accuracy %.4f on Content (original ground truth), want >= 0.90", set, ga[0])
		}
	}
	n := float64(len(loghubSets))
	fmt.Fprintf(&table, "%-10s", "mean")
	for _, s := range sums {
		fmt.Fprintf(&table, " %12.4f", s/n)
	}
	table.WriteString("\n")
	t.Logf("grouping accuracy on the Loghub 2k sets:\n%s", table.String())
	floors := []struct{ mean, min float64 }{{0.95, 0.90}, {0.95, 0.85}, {0.90, 0.50}, {0.90, 0.50}}
	for k, f := range floors {
		if sums[k]/n < f.mean || mins[k] < f.min {
			t.Errorf("%s: mean %.4f, min %.4f; want mean >= %.2f and min >= %.2f", cols[k], sums[k]/n, mins[k], f.mean, f.min)
		}
	}
}
