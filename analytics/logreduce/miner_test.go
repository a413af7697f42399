package logreduce

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sameResult reports how two results differ, "" if they are the same:
// clusters, ids, counts, templates, samples, scores and order.
func sameResult(a, b *Result) string {
	if a.Lines != b.Lines {
		return fmt.Sprintf("lines %d vs %d", a.Lines, b.Lines)
	}
	if len(a.Clusters) != len(b.Clusters) {
		return fmt.Sprintf("%d vs %d clusters", len(a.Clusters), len(b.Clusters))
	}
	for i := range a.Clusters {
		x, y := a.Clusters[i], b.Clusters[i]
		if x.ID != y.ID || x.Count != y.Count || x.Template != y.Template || x.Canonical != y.Canonical ||
			x.Score != y.Score || !slices.Equal(x.Samples, y.Samples) {
			return fmt.Sprintf("cluster %d: %s %d %q %v vs %s %d %q %v", i, x.ID, x.Count, x.Template, x.Samples, y.ID, y.Count, y.Template, y.Samples)
		}
	}
	return ""
}

func mine(lines []string, cfg Config) *Miner {
	m := New(cfg)
	for _, l := range lines {
		m.Add(l)
	}
	return m
}

// mineSplit mines lines shuffled and dealt to k workers, and merges them in
// a random order.
func mineSplit(lines []string, k int, r *rand.Rand, cfg Config) *Miner {
	ws := make([]*Miner, k)
	for i := range ws {
		ws[i] = New(cfg)
	}
	for _, i := range r.Perm(len(lines)) {
		ws[r.IntN(k)].Add(lines[i])
	}
	r.Shuffle(k, func(i, j int) { ws[i], ws[j] = ws[j], ws[i] })
	for _, w := range ws[1:] {
		if err := ws[0].Merge(w); err != nil {
			panic(err)
		}
	}
	return ws[0]
}

// TestMergeIdentity: merging the states of workers that saw disjoint parts
// of the input, in any order, gives exactly the state (hence the result) of
// one miner that saw everything.
func TestMergeIdentity(t *testing.T) {
	lines := syntheticLines(5000, 7)
	if dir := loghubDirOrEmpty(); dir != "" {
		for _, set := range loghubSets {
			raw, err := readLines(filepath.Join(dir, set, set+"_2k.log"))
			if err != nil {
				t.Fatal(err)
			}
			lines = append(lines, raw...)
		}
	}
	whole := mine(lines, Config{})
	want, _ := whole.MarshalBinary()
	wantRes := whole.Result()
	r := rand.New(rand.NewPCG(3, 4))
	for _, k := range []int{1, 2, 3, 8} {
		got := mineSplit(lines, k, r, Config{})
		b, _ := got.MarshalBinary()
		if !bytes.Equal(b, want) {
			t.Errorf("%d workers: merged state differs from the state of one miner", k)
		}
		if d := sameResult(wantRes, got.Result()); d != "" {
			t.Errorf("%d workers: %s", k, d)
		}
	}
}

// loghubDirOrEmpty is loghubDir without skipping.
func loghubDirOrEmpty() string {
	for _, d := range []string{"../../../shared/data/loghub_2k"} {
		if _, err := readLines(filepath.Join(d, "HDFS", "HDFS_2k.log")); err == nil {
			return d
		}
	}
	return ""
}

// syntheticLines generates n lines of a few templates with varying values.
func syntheticLines(n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, seed+1))
	users := []string{"alice", "bob", "carol", "dave", "erin"}
	out := make([]string, n)
	for i := range out {
		switch r.IntN(6) {
		case 0:
			out[i] = fmt.Sprintf("2024-05-%02d 10:%02d:%02d INFO [worker-%d] app.Server: accepted connection from 10.0.%d.%d:%d", r.IntN(28)+1, r.IntN(60), r.IntN(60), r.IntN(8), r.IntN(256), r.IntN(256), 1024+r.IntN(60000))
		case 1:
			out[i] = fmt.Sprintf("session opened for user %s by (uid=%d)", users[r.IntN(len(users))], r.IntN(1000))
		case 2:
			out[i] = fmt.Sprintf("ERROR failed to open /var/data/%x.db: permission denied", r.Uint32())
		case 3:
			out[i] = fmt.Sprintf("GET /api/v1/items/%d status=%d took %dms", r.IntN(1e6), []int{200, 404, 500}[r.IntN(3)], r.IntN(900))
		case 4:
			out[i] = fmt.Sprintf(`{"level":"info","msg":"cache refresh","entries":%d,"region":"%s"}`, r.IntN(1e5), []string{"us-east-1", "eu-west-1"}[r.IntN(2)])
		default:
			out[i] = fmt.Sprintf("job %08x finished in %d.%03d s", r.Uint32(), r.IntN(100), r.IntN(1000))
		}
	}
	return out
}

func TestMinerBasics(t *testing.T) {
	lines := syntheticLines(3000, 1)
	m := mine(lines, Config{})
	res := m.Result()
	if res.Lines != 3000 {
		t.Fatalf("Lines = %d", res.Lines)
	}
	var total int64
	ids := map[string]bool{}
	for _, c := range res.Clusters {
		total += c.Count
		if len(c.ID) != 16 || strings.Trim(c.ID, "0123456789abcdef") != "" {
			t.Errorf("bad id %q", c.ID)
		}
		if ids[c.ID] {
			t.Errorf("duplicate id %s", c.ID)
		}
		ids[c.ID] = true
		if c.ID != signatureID(c.Canonical) {
			t.Errorf("%s is not the hash of %q", c.ID, c.Canonical)
		}
		if len(c.Samples) == 0 || len(c.Samples) > 3 {
			t.Errorf("%s: %d samples", c.ID, len(c.Samples))
		}
		var text strings.Builder
		for _, p := range c.Parts {
			text.WriteString(p.Text)
		}
		if text.String() != c.Template {
			t.Errorf("parts %q do not make the template %q", text.String(), c.Template)
		}
		for _, s := range c.Samples {
			if got := res.Assign(s); got != c {
				t.Errorf("sample %q of %s assigned to %s", s, c.ID, got.ID)
			}
		}
	}
	if total != 3000 {
		t.Errorf("counts add up to %d", total)
	}
	// the six templates of syntheticLines, the user name a variable
	want := []string{
		"<*> INFO [worker-<*>] app.Server: accepted connection from <*>",
		"session opened for user <*> by (uid=<*>)",
		"ERROR failed to open <*>: permission denied",
		"GET <*> status=<*> took <*>",
		`{"level":"info","msg":"cache refresh","entries":<*>,"region":"<*>"}`,
		"job <*> finished in <*>",
	}
	var got []string
	for _, c := range res.Clusters {
		got = append(got, c.Template)
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("no template %q in\n%s", w, strings.Join(got, "\n"))
		}
	}
	if len(res.Clusters) != len(want) {
		t.Errorf("%d clusters, want %d", len(res.Clusters), len(want))
	}
	// the error template is the most interesting
	if !strings.HasPrefix(res.Clusters[0].Template, "ERROR") || res.Clusters[0].Severity != 2 {
		t.Errorf("first cluster %q (severity %d), want the error", res.Clusters[0].Template, res.Clusters[0].Severity)
	}
	// orders
	mc := res.Sorted(MostCommon)
	lc := res.Sorted(LeastCommon)
	for i := 1; i < len(mc); i++ {
		if mc[i].Count > mc[i-1].Count || lc[i].Count < lc[i-1].Count {
			t.Fatal("bad count order")
		}
	}
	if res.ByID(mc[0].ID) != mc[0] {
		t.Error("ByID")
	}
}

func TestAssignUnseen(t *testing.T) {
	m := mine([]string{
		"user alice logged in from 10.0.0.1",
		"user bob logged in from 10.0.0.2",
		"user carol logged in from 10.0.0.3",
		"disk /dev/sda1 is 91% full",
	}, Config{})
	res := m.Result()
	login := res.Assign("user bob logged in from 10.0.0.2")
	if login.Count != 3 || login.Template != "user <*> logged in from <*>" {
		t.Fatalf("got %q (%d)", login.Template, login.Count)
	}
	// a new user: a skeleton never seen, matched by the template
	if got := res.Assign("user zoe logged in from 192.168.1.1"); got != login {
		t.Errorf("unseen line assigned to %q", got.Template)
	}
	// nothing like it: the (empty) overflow cluster
	if got := res.Assign("kernel panic"); got.ID != OverflowID || got.Count != 0 {
		t.Errorf("unknown line assigned to %q", got.Template)
	}
}

func TestScore(t *testing.T) {
	if Score(1, 1000, 2) != 100 || Score(1000, 1000, 0) != 0 {
		t.Error("bounds")
	}
	if !(Score(1, 1000, 0) > Score(10, 1000, 0) && Score(10, 1000, 1) > Score(10, 1000, 0)) {
		t.Error("rarer or more severe must score higher")
	}
	for _, tc := range []struct {
		words []string
		want  int
	}{
		{[]string{"Connection", "refused"}, 2},
		{[]string{"ERROR:", "x"}, 2},
		{[]string{"Retrying", "connect"}, 1},
		{[]string{"error=<*>"}, 2},
		{[]string{"Started", "<*>"}, 0},
		{[]string{"terrorist"}, 0},
	} {
		if got := severity(tc.words); got != tc.want {
			t.Errorf("severity(%q) = %d, want %d", tc.words, got, tc.want)
		}
	}
}

// TestCap: past MaxSkeletons new skeletons go to the overflow cluster,
// memory stays bounded, and the counts still add up.
func TestCap(t *testing.T) {
	cfg := Config{MaxSkeletons: 50}
	m := New(cfg)
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 5000; i++ {
		// random words: every line its own template
		m.Add(fmt.Sprintf("%s %s %s", randWord(r), randWord(r), randWord(r)))
	}
	if m.Skeletons() > 50 {
		t.Fatalf("%d skeletons kept, cap 50", m.Skeletons())
	}
	res := m.Result()
	var total int64
	var ov *Cluster
	for _, c := range res.Clusters {
		total += c.Count
		if c.Overflow {
			ov = c
		}
	}
	if total != 5000 || ov == nil || ov.ID != OverflowID || ov.Count != 5000-50 {
		t.Fatalf("total %d, overflow %+v", total, ov)
	}
	// merging two capped miners keeps the cap and the total
	o := New(cfg)
	for i := 0; i < 500; i++ {
		o.Add(fmt.Sprintf("other %d %s", i, randWord(r)))
	}
	if err := m.Merge(o); err != nil {
		t.Fatal(err)
	}
	if m.Skeletons() > 50 || m.Lines() != 5500 {
		t.Fatalf("after merge: %d skeletons, %d lines", m.Skeletons(), m.Lines())
	}
	var sum int64
	for _, c := range m.Result().Clusters {
		sum += c.Count
	}
	if sum != 5500 {
		t.Fatalf("after merge counts add up to %d", sum)
	}
	if err := m.Merge(New(Config{MaxSkeletons: 51})); err == nil {
		t.Error("merging miners with different configurations must fail")
	}
}

func randWord(r *rand.Rand) string {
	b := make([]byte, 3+r.IntN(6))
	for i := range b {
		b[i] = 'a' + byte(r.IntN(26))
	}
	return string(b)
}

// TestRobustness: odd input never panics and stays bounded.
func TestRobustness(t *testing.T) {
	m := New(Config{MaxSkeletons: 100, MaxLineBytes: 4096})
	odd := []string{
		"", "\n", "\r\n", " ", "\t\t", "x", "1", "<*>", "[", "]", "[[[", `"`, `a="`, `a="b c`,
		"\xff\xfe\xfd", "ok \xc3\x28 bad utf8", strings.Repeat("a", 100000),
		strings.Repeat("word ", 10000), strings.Repeat("1 ", 10000), strings.Repeat("[a b ", 5000),
		strings.Repeat(`k="v `, 3000), "\x00\x00\x00", "a,b,c=1,d=2,,,", "{[{[{[",
	}
	for _, l := range odd {
		m.Add(l)
		m.AddBytes([]byte(l))
	}
	res := m.Result()
	for _, l := range odd {
		if c := res.Assign(l); c == nil {
			t.Fatalf("no cluster for %q", l)
		}
	}
	for _, c := range res.Clusters {
		for _, s := range c.Samples {
			if len(s) > m.Config().MaxSampleBytes {
				t.Errorf("sample of %d bytes", len(s))
			}
		}
		if len(c.Template) > 4096*4 {
			t.Errorf("template of %d bytes", len(c.Template))
		}
	}
}

// TestManyTemplates: a huge number of distinct templates stays bounded in
// memory and in the time of Result.
func TestManyTemplates(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	m := New(Config{})
	r := rand.New(rand.NewPCG(8, 9))
	for i := 0; i < 200000; i++ {
		n := 2 + r.IntN(12)
		w := make([]string, n)
		for k := range w {
			w[k] = randWord(r)
		}
		m.Add(strings.Join(w, " "))
	}
	if m.Skeletons() > m.Config().MaxSkeletons {
		t.Fatalf("%d skeletons", m.Skeletons())
	}
	res := m.Result()
	var total int64
	for _, c := range res.Clusters {
		total += c.Count
	}
	if total != 200000 {
		t.Fatalf("counts add up to %d", total)
	}
}

func TestStateRoundTrip(t *testing.T) {
	m := mine(syntheticLines(2000, 3), Config{MaxSamples: 2})
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var n Miner
	if err := n.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if d := sameResult(m.Result(), n.Result()); d != "" {
		t.Fatal(d)
	}
	// the decoded miner keeps mining
	n.Add("one more line")
	if n.Lines() != 2001 {
		t.Fatal("decoded miner does not mine")
	}
	// corrupt data is an error, never a panic
	for i := 0; i < len(b); i += 7 {
		c := bytes.Clone(b)
		c[i] ^= 0x5a
		_ = new(Miner).UnmarshalBinary(c)
		_ = new(Miner).UnmarshalBinary(b[:i])
	}
	if err := new(Miner).UnmarshalBinary([]byte("nope")); err == nil {
		t.Error("garbage accepted")
	}
}

// TestAssignConcurrent: a Result is safe for concurrent use.
func TestAssignConcurrent(t *testing.T) {
	lines := syntheticLines(2000, 9)
	res := mine(lines, Config{}).Result()
	done := make(chan bool)
	for w := 0; w < 4; w++ {
		go func() {
			defer func() { done <- true }()
			for _, l := range lines {
				if res.Assign(l) == nil {
					t.Error("no cluster")
					return
				}
			}
		}()
	}
	for w := 0; w < 4; w++ {
		<-done
	}
}
