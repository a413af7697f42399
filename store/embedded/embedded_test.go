package embedded

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/store"
)

func openTest(t *testing.T) *Store {
	t.Helper()
	st, err := Open(t.TempDir(), Config{Retention: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func testBatch(now time.Time, n int) *event.Batch {
	b := &event.Batch{
		ReceiptTime: now.UnixNano(),
		Source:      event.Source{ID: "src1", Name: "web", Category: "Prod/Web", Host: "host-1", Collector: "dohyo"},
		Fields:      []event.Field{{Name: "env", Value: "prod"}},
	}
	for i := range n {
		b.Events = append(b.Events, event.Event{
			Time:   now.Add(-time.Duration(i) * time.Second).UnixNano(),
			Raw:    fmt.Sprintf(`{"eventName":"Login%d","userIdentity":{"arn":"arn:aws:iam::1:user/u%d"}}`, i%3, i),
			Format: "json",
			Fields: []event.Field{
				{Name: event.JSONFieldPrefix + "eventName", Value: fmt.Sprintf("Login%d", i%3)},
				{Name: event.JSONFieldPrefix + "userIdentity.arn", Value: fmt.Sprintf("arn:aws:iam::1:user/u%d", i)},
			},
		})
	}
	return b
}

func collect(t *testing.T, st *Store, q store.Query) []map[string]string {
	t.Helper()
	var mu sync.Mutex
	var rows []map[string]string
	err := st.Query(context.Background(), q, func(b *store.Block) error {
		mu.Lock()
		defer mu.Unlock()
		for i := range b.Rows() {
			m := map[string]string{}
			for _, c := range b.Columns {
				if c.Values[i] != "" {
					m[c.Name] = c.Values[i]
				}
			}
			rows = append(rows, m)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Query(%q): %v", q.LogsQL, err)
	}
	return rows
}

func TestAddQueryRoundTrip(t *testing.T) {
	st := openTest(t)
	now := time.Now()
	if err := st.Add(context.Background(), 1, testBatch(now, 10), nil); err != nil {
		t.Fatal(err)
	}
	st.Flush()
	all := store.Query{LogsQL: "*", Start: now.Add(-time.Hour).UnixNano(), End: now.Add(time.Hour).UnixNano()}
	rows := collect(t, st, all)
	if len(rows) != 10 {
		t.Fatalf("got %d rows, want 10", len(rows))
	}
	for _, r := range rows {
		if r["_sourceCategory"] != "Prod/Web" || r["env"] != "prod" || r["_receiptTime"] == "" {
			t.Fatalf("metadata missing from row %v", r)
		}
		for name := range r {
			if strings.HasPrefix(name, event.InternalFieldPrefix) || strings.HasPrefix(name, event.JSONFieldPrefix) {
				t.Fatalf("hidden field %q visible in %v", name, r)
			}
		}
	}

	cases := []struct {
		logsql string
		want   int
	}{
		{`_sourceCategory:="Prod/Web"`, 10},
		{`{_sourceCategory="Prod/Web"}`, 10},
		{`_sourceCategory:~"(?i)^prod/web$"`, 10},
		{`i(login1)`, 3},
		{`"_json.eventName":=Login2`, 3},
		{`"_json.userIdentity.arn":="arn:aws:iam::1:user/u7"`, 1},
		{fmt.Sprintf(`%q:>=%d`, event.FieldRowID, event.RowID(1, 8)), 2},
	}
	for _, c := range cases {
		q := all
		q.LogsQL = c.logsql
		if got := len(collect(t, st, q)); got != c.want {
			t.Errorf("%s: %d rows, want %d", c.logsql, got, c.want)
		}
	}

	q := all
	q.LogsQL = "* | stats count() as n"
	if got := collect(t, st, q); len(got) != 1 || got[0]["n"] != "10" {
		t.Errorf("count: %v", got)
	}
}

func TestRowIDsAtOrAbove(t *testing.T) {
	st := openTest(t)
	now := time.Now()
	for seq := uint64(1); seq <= 3; seq++ {
		if err := st.Add(context.Background(), seq, testBatch(now, 4), nil); err != nil {
			t.Fatal(err)
		}
	}
	st.Flush()
	ids, err := st.RowIDsAtOrAbove(context.Background(), 0, event.RowID(2, 2), now.Add(-time.Hour).UnixNano(), now.Add(time.Hour).UnixNano())
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for id := range ids {
		got = append(got, id)
	}
	sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
	want := []uint64{event.RowID(2, 2), event.RowID(2, 3), event.RowID(3, 0), event.RowID(3, 1), event.RowID(3, 2), event.RowID(3, 3)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("ids = %v, want %v", got, want)
	}
}

func TestGuardKeepsRowsTheEngineWouldDrop(t *testing.T) {
	st := openTest(t)
	now := time.Now()
	b := &event.Batch{ReceiptTime: now.UnixNano(), Source: event.Source{Category: "c"}}
	longName := event.JSONFieldPrefix + strings.Repeat("k", 200)
	b.Events = []event.Event{
		{Time: now.Add(-400 * 24 * time.Hour).UnixNano(), Raw: "ancient"},
		{Time: now.Add(100 * 24 * time.Hour).UnixNano(), Raw: "future"},
		{Time: now.UnixNano(), Raw: strings.Repeat("x", 3<<20)},
		{Time: now.UnixNano(), Raw: "longname", Fields: []event.Field{{Name: longName, Value: "v"}}},
	}
	b.Fields = []event.Field{{Name: strings.Repeat("f", 150), Value: "custom"}}
	if err := st.Add(context.Background(), 1, b, nil); err != nil {
		t.Fatal(err)
	}
	st.Flush()
	adj := st.Stats().Adjustments
	if adj.TimeTooOld != 1 || adj.TimeTooNew != 1 || adj.Truncated != 1 || adj.FieldsDropped != 1 || adj.Renamed != 4 {
		t.Fatalf("adjustments = %+v", adj)
	}
	st.Flush()
	rows := collect(t, st, store.Query{LogsQL: "*", Start: now.Add(-time.Hour).UnixNano(), End: now.Add(time.Hour).UnixNano()})
	if len(rows) != 4 {
		t.Fatalf("%d rows kept, want 4", len(rows))
	}
	byMsg := map[string]map[string]string{}
	for _, r := range rows {
		msg := r["_msg"]
		if len(msg) > 100 {
			msg = "big"
		}
		byMsg[msg] = r
	}
	if byMsg["ancient"][event.FieldOriginalTime] == "" || byMsg["future"][event.FieldOriginalTime] == "" {
		t.Errorf("original time not kept: %v %v", byMsg["ancient"], byMsg["future"])
	}
	if byMsg["big"][event.FieldTruncated] != fmt.Sprint(3<<20) {
		t.Errorf("truncation marker = %q", byMsg["big"][event.FieldTruncated])
	}
	if len(byMsg["big"]["_msg"]) >= store.MaxRowSize {
		t.Errorf("big message not truncated: %d bytes", len(byMsg["big"]["_msg"]))
	}
	short := store.ShortenFieldName(strings.Repeat("f", 150))
	if byMsg["longname"][short] != "custom" {
		t.Errorf("renamed custom field %q missing: %v", short, byMsg["longname"])
	}
	if s := st.Stats(); s.DroppedTooOld != 0 || s.DroppedTooNew != 0 {
		t.Errorf("engine dropped rows: %+v", s)
	}
}

func TestSyncAndReopen(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := st.Add(context.Background(), 1, testBatch(now, 100), nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := st.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Logf("Sync took %v", time.Since(start))
	if _, err := Open(dir, Config{}); err == nil {
		t.Fatal("second Open of a locked directory succeeded")
	}
	st.Close()
	st2, err := Open(dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	rows := collect(t, st2, store.Query{LogsQL: "*", Start: now.Add(-time.Hour).UnixNano(), End: now.Add(time.Hour).UnixNano()})
	if len(rows) != 100 {
		t.Fatalf("%d rows after reopen, want 100", len(rows))
	}
}

// Writers hold rows while more chunks are queued and add them once the queue
// is empty: however batches arrive, every row is in the engine when Flush
// returns (it waits for them) and counted once, with its own row id.
func TestWritersAddEveryRowOnce(t *testing.T) {
	st := openTest(t)
	now := time.Now()
	ctx := context.Background()
	total, seq := 0, uint64(0)
	// Big batches back to back keep the queue full (rows are held); small
	// ones with pauses leave it empty (rows are added at once).
	for _, n := range []int{3*chunkEvents + 5, 4 * chunkEvents, 1, 7, chunkEvents, 2*chunkEvents - 1} {
		seq++
		if err := st.Add(ctx, seq, testBatch(now, n), nil); err != nil {
			t.Fatal(err)
		}
		total += n
		if n < 10 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	done := make(chan struct{})
	go func() { st.Flush(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Flush did not return: rows held by a writer were never added")
	}
	if got := st.Stats().RowsAdded; got != uint64(total) {
		t.Errorf("RowsAdded %d, want %d", got, total)
	}
	q := store.Query{LogsQL: "* | stats count() as n, count_uniq(" + fmt.Sprintf("%q", event.FieldRowID) + ") as ids",
		Start: now.Add(-3 * time.Hour).UnixNano(), End: now.Add(time.Hour).UnixNano()}
	rows := collect(t, st, q)
	if want := fmt.Sprint(total); len(rows) != 1 || rows[0]["n"] != want || rows[0]["ids"] != want {
		t.Errorf("stored %v, want %d rows with as many row ids", rows, total)
	}
}

// Stats reports the engine's parts and merges: rows flushed in separate
// steps make separate parts, and Sync writes them to disk by merging them,
// which the merge counters see.
func TestStatsPartsAndMerges(t *testing.T) {
	st := openTest(t)
	now := time.Now()
	ctx := context.Background()
	if s := st.Stats(); s.Parts != (store.PartCounts{}) || s.Merges != (store.PartCounts{}) || s.RowsMerged != (store.PartCounts{}) {
		t.Fatalf("empty store: parts %+v, merges %+v, rows merged %+v, want zero", s.Parts, s.Merges, s.RowsMerged)
	}
	const batches, per = 3, 500
	for i := range batches {
		if err := st.Add(ctx, uint64(i+1), testBatch(now, per), nil); err != nil {
			t.Fatal(err)
		}
		st.Flush()
	}
	s := st.Stats()
	if s.PendingRows != 0 {
		t.Errorf("PendingRows %d after Flush, want 0", s.PendingRows)
	}
	if n := s.Parts.InMemory + s.Parts.Small + s.Parts.Big; n == 0 {
		t.Errorf("no parts after %d flushed batches: %+v", batches, s.Parts)
	}
	if err := st.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	s = st.Stats()
	if s.Parts.InMemory != 0 || s.Parts.Small == 0 {
		t.Errorf("after Sync: parts %+v, want all on disk", s.Parts)
	}
	merged := s.RowsMerged.InMemory + s.RowsMerged.Small + s.RowsMerged.Big
	if s.Merges.InMemory+s.Merges.Small+s.Merges.Big == 0 || merged == 0 || merged > 2*batches*per {
		t.Errorf("after Sync: merges %+v, rows merged %+v (of %d rows)", s.Merges, s.RowsMerged, batches*per)
	}
}
