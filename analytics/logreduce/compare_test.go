package logreduce

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCompareBasics(t *testing.T) {
	base, target := New(Config{}), New(Config{})
	for i := 0; i < 100; i++ {
		base.Add(fmt.Sprintf("request %d served in %d ms", i, i%7))
		target.Add(fmt.Sprintf("request %d served in %d ms", i+1000, i%5))
	}
	for i := 0; i < 50; i++ {
		base.Add(fmt.Sprintf("cache miss for key k%d", i))
	}
	for i := 0; i < 10; i++ {
		target.Add(fmt.Sprintf("cache miss for key k%d", i))
		target.Add(fmt.Sprintf("ERROR connection to db-%d refused", i))
	}
	base.Add("shutting down")
	cmp, err := Compare(base, target)
	if err != nil {
		t.Fatal(err)
	}
	if cmp.BaselineLines != 151 || cmp.TargetLines != 120 {
		t.Fatalf("lines %d %d", cmp.BaselineLines, cmp.TargetLines)
	}
	by := map[string]*Change{}
	for _, ch := range cmp.Changes {
		by[ch.Cluster.Template] = ch
		t.Logf("%-5s %8.2f%% %.4f %s", ch.Status, ch.DeltaPercentage, ch.AnomalyScore, ch.Cluster.Template)
	}
	check := func(tmpl string, st Status, b, tg int64) *Change {
		ch := by[tmpl]
		if ch == nil {
			t.Fatalf("no change for %q", tmpl)
		}
		if ch.Status != st || ch.BaselineCount != b || ch.TargetCount != tg {
			t.Errorf("%q: %s %d->%d, want %s %d->%d", tmpl, ch.Status, ch.BaselineCount, ch.TargetCount, st, b, tg)
		}
		return ch
	}
	req := check("request <*> served in <*>", StatusMore, 100, 100)
	if want := (100.0/120 - 100.0/151) / (100.0 / 151) * 100; math.Abs(req.DeltaPercentage-want) > 1e-9 {
		t.Errorf("delta %f, want %f", req.DeltaPercentage, want)
	}
	check("cache miss for key <*>", StatusLess, 50, 10)
	if ch := check("ERROR connection to db-<*> refused", StatusNew, 0, 10); !math.IsInf(ch.DeltaPercentage, 1) {
		t.Error("a new signature has an infinite delta")
	}
	if ch := check("shutting down", StatusGone, 1, 0); ch.DeltaPercentage != -100 {
		t.Error("a gone signature has a delta of -100%")
	}
	for i := 1; i < len(cmp.Changes); i++ {
		if cmp.Changes[i].AnomalyScore > cmp.Changes[i-1].AnomalyScore {
			t.Fatal("changes are not sorted by anomaly score")
		}
	}
	if cmp.Changes[0].Cluster.Template != "cache miss for key <*>" {
		t.Errorf("first change %q", cmp.Changes[0].Cluster.Template)
	}
	// the joint ids are the ids of a miner that saw both sides
	joint := base.Clone()
	if err := joint.Merge(target); err != nil {
		t.Fatal(err)
	}
	for _, c := range joint.Result().Clusters {
		if cmp.Result.ByID(c.ID) == nil {
			t.Errorf("joint cluster %s %q missing from the comparison", c.ID, c.Template)
		}
	}
}

// TestCompareInjected: a Loghub set is the baseline; the target is a
// resample of it without two of its templates and with three new ones. The
// five injected changes must be the five first changes.
func TestCompareInjected(t *testing.T) {
	dir := loghubDir(t)
	injected := []struct {
		n      int
		format string
	}{
		{15, "ERROR replication of volume vol-%d to zone z%d failed: quota exceeded (%d bytes)"},
		{25, "WARN certificate for host web-%d.example.com expires in %d days (serial %d)"},
		{40, "disk sd%d on node-%d reported %d uncorrectable sectors"},
	}
	for _, set := range loghubSets {
		rows, err := readStructured(filepath.Join(dir, set, set+"_2k.log_structured.csv"))
		if err != nil {
			t.Fatal(err)
		}
		lines := make([]string, len(rows))
		for i, r := range rows {
			lines[i] = r.Content
		}
		base := mine(lines, Config{})
		res := base.Result()
		// drop two true templates of 8 to 150 lines that the miner found
		// exactly (one cluster, nothing else in it), the largest such
		byEvent := map[string][]int{}
		for i, r := range rows {
			byEvent[r.EventID] = append(byEvent[r.EventID], i)
		}
		var cands []string
		for ev, idx := range byEvent {
			if len(idx) < 8 || len(idx) > 150 {
				continue
			}
			c := res.Assign(lines[idx[0]])
			pure := c.Count == int64(len(idx))
			for _, i := range idx {
				pure = pure && res.Assign(lines[i]) == c
			}
			if pure {
				cands = append(cands, ev)
			}
		}
		slices.SortFunc(cands, func(a, b string) int {
			if d := len(byEvent[b]) - len(byEvent[a]); d != 0 {
				return d
			}
			return strings.Compare(a, b)
		})
		if len(cands) < 2 {
			t.Logf("%s: fewer than two templates of 8 to 150 lines, skipped", set)
			continue
		}
		dropped := cands[:2]
		var pool []string
		for i, r := range rows {
			if r.EventID != dropped[0] && r.EventID != dropped[1] {
				pool = append(pool, lines[i])
			}
		}
		r := rand.New(rand.NewPCG(11, 12))
		target := New(Config{})
		for range len(lines) {
			target.Add(pool[r.IntN(len(pool))])
		}
		for _, in := range injected {
			for k := 0; k < in.n; k++ {
				target.Add(fmt.Sprintf(in.format, r.IntN(1000), r.IntN(100), r.IntN(1e6)))
			}
		}
		cmp, err := Compare(base, target)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		for _, ev := range dropped {
			want[cmp.Result.Assign(lines[byEvent[ev][0]]).ID] = true
		}
		for _, in := range injected {
			want[cmp.Result.Assign(fmt.Sprintf(in.format, 1, 2, 3)).ID] = true
		}
		var top []string
		ok := true
		for i, ch := range cmp.Changes[:min(5, len(cmp.Changes))] {
			top = append(top, fmt.Sprintf("%d %s %.3f %s", i+1, ch.Status, ch.AnomalyScore, trimTo(ch.Cluster.Template, 60)))
			if !want[ch.Cluster.ID] || (ch.Status != StatusNew && ch.Status != StatusGone) {
				ok = false
			}
		}
		next := 0.0
		if len(cmp.Changes) > 5 {
			next = cmp.Changes[5].AnomalyScore
		}
		t.Logf("%s: top 5 of %d changes (next score %.4f):\n  %s", set, len(cmp.Changes), next, strings.Join(top, "\n  "))
		if !ok || len(want) != 5 {
			t.Errorf("%s: the injected new and dropped templates are not the first five changes", set)
		}
	}
}

func trimTo(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
