package query

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/store"
	"github.com/dohyo/dohyo/store/embedded"
)

// sharedData is ../shared/data, holding real log samples.
var sharedData = filepath.Join("..", "..", "shared", "data")

// syntheticLines exercise the scope rules: punctuation, unicode, mixed
// case, numbers, empty and odd messages.
var syntheticLines = []string{
	"Error: connection refused",
	"error connecting to db",
	"ERROR timeout after 30s",
	"errors: 3",
	"TestClientImpl started",
	"test passed",
	"TEST_CASE_1 failed",
	"user@example.com logged in",
	"User@Example.COM failed login",
	"failed login for admin",
	"Failed  login for bob",
	"failed\tlogin tab",
	"failed\nlogin newline",
	"GET /api/v1/login 200",
	"POST /api/v1/login?user=x 401",
	"/api/v1/logins 200",
	"10.1.2.3 - - request",
	"110.1.2.30 other",
	"10.1.2.34 near miss",
	"client=10.1.2.3:8080",
	"ip 192.168.0.1, 10.0.0.1",
	"café au lait",
	"CAFÉ crème",
	"Ünïcödé ΣΊΣΥΦΟΣ σίσυφος",
	"日本語のログ メッセージ",
	"ИСКЛЮЧЕНИЕ: ошибка",
	"İstanbul istanbul",
	"ſtrange long s",
	"Kelvin sign 5\u212a degree",
	"ȺȺ big lower",
	"ⱥⱥ small",
	"Ⱥ",
	"x\xffy invalid utf8",
	"replacement \ufffd char x\ufffd",
	"emoji 🔥 fire 🔥🔥",
	"key=value other_key=other_value",
	"status=500 latency_ms=1234",
	`{"eventName":"ConsoleLogin","responseElements":{"ConsoleLogin":"Failure"}}`,
	`{"level":"error","msg":"disk full"}`,
	"[ERROR] [main] something broke",
	"(paren) [bracket] {brace}",
	"a-b-c d_e_f g.h.i",
	"snake_case_word and kebab-case-word",
	"CamelCaseWord camelcaseword",
	"under_score_",
	"_leading underscore",
	"trailing dot.",
	"...ellipsis...",
	"--- dashes ---",
	`C:\Users\admin\file.txt`,
	"path /var/log/syslog.1",
	"/var/log/auth.log rotated",
	"access.log.gz",
	"mail.log",
	"order #12345 shipped",
	"price $9.99 total",
	"50% done",
	"a+b=c",
	"x^2 + y^2",
	"tag @here #channel",
	`quote "inner" quote`,
	"single 'quoted' text",
	"12345",
	"123",
	"3.14159",
	"1.5",
	"2024-01-02T03:04:05Z",
	"2024-01-02T03:04:05.123Z",
	"",
	" ",
	"      leading spaces",
	"MiXeD CaSe WoRdS",
	"mixed case words",
	"The quick brown fox",
	"the QUICK brown FOX jumps",
	"aaa aaaa aaaaa",
	"abcabc abc",
	"err",
	"e r r",
	"error42 42error",
	"v1.2.3-beta+build.5",
	"uuid 550e8400-e29b-41d4-a716-446655440000",
	"hex 0xDEADBEEF",
	"java.lang.NullPointerException at com.example.Foo.bar(Foo.java:42)",
	`Exception in thread "main"`,
	"WARN disk usage 91%",
	"warn: low memory",
	"INFO started in 1.2s",
	"debug healthcheck ok",
	"healthcheck failed",
	"multi\nline\nmessage with error",
	"a",
	"ab",
	"a_b",
	"error_code=E42",
	"prod/web is the category",
	"PROD/WEB upper",
	"the end",
}

// typedLines are batches whose messages are all numbers, addresses or
// timestamps, so that the engine stores _msg in a typed column.
var typedLines = [][]string{
	{"1", "22", "333", "4444", "55555", "123"},
	{"10.1.2.3", "192.168.1.1", "10.1.2.30", "8.8.8.8", "10.0.0.1"},
	{"1.5", "22.25", "0.5", "3.14159", "100.125"},
	{"2024-01-02T03:04:05Z", "2024-01-02T03:04:06.5Z", "2023-12-31T23:59:59Z"},
	{"-5", "12", "-300", "7", "0"},
}

// source is one batch template of the corpus.
type corpusSource struct {
	src    event.Source
	fields []event.Field
}

var corpusSources = []corpusSource{
	{event.Source{ID: "s1", Name: "web", Category: "Prod/Web", Host: "web-1", FileName: "/var/log/nginx/access.log", Collector: "dohyo"}, []event.Field{{Name: "env", Value: "prod"}, {Name: "team", Value: "Web Team"}}},
	{event.Source{ID: "s2", Name: "web", Category: "prod/web/nginx", Host: "WEB-2", FileName: "/var/log/nginx/error.log", Collector: "dohyo"}, []event.Field{{Name: "env", Value: "Prod"}, {Name: "region", Value: "us-east-1"}}},
	{event.Source{ID: "s3", Name: "payments", Category: "prod/payments", Host: "db.example.com", FileName: "payments.log", Collector: "edge-1"}, []event.Field{{Name: "env", Value: "PROD"}, {Name: "region", Value: "eu-west-1"}}},
	{event.Source{ID: "s4", Name: "dev", Category: "Dev/Web", Host: "dev-box", FileName: "/tmp/dev.log", Collector: "laptop"}, []event.Field{{Name: "env", Value: "dev"}}},
	{event.Source{ID: "s5", Name: "", Category: "", Host: "", FileName: "", Collector: ""}, nil},
	{event.Source{ID: "s6", Name: "trail", Category: "aws/cloudtrail", Host: "ip-10-0-0-1", FileName: "s3://bucket/key.json", Collector: "aws"}, []event.Field{{Name: "env", Value: ""}, {Name: "team", Value: "sec"}}},
	{event.Source{ID: "s7", Name: "ünï", Category: "Ünïcödé/Cat", Host: "hôte-1", FileName: "日本.log", Collector: "ΣΊΣ"}, []event.Field{{Name: "env", Value: "stagé"}}},
}

// corpusEvent is one stored event with what the tests need to know.
type corpusEvent struct {
	batch *event.Batch
	ev    *event.Event
	row   memRow
}

// memRow is an in-memory message for the pure Go matcher.
type memRow map[string]string

func (r memRow) fieldValue(name string) string { return r[name] }

func newMemRow(b *event.Batch, e *event.Event) memRow {
	r := memRow{
		event.FieldRaw:            e.Raw,
		event.FieldSourceCategory: b.Source.Category,
		event.FieldSourceHost:     b.Source.Host,
		event.FieldSourceName:     b.Source.FileName,
		event.FieldSource:         b.Source.Name,
		event.FieldCollector:      b.Source.Collector,
		event.FieldSourceID:       b.Source.ID,
		event.FieldFormat:         e.Format,
		event.FieldSize:           strconv.Itoa(len(e.Raw)),
		event.FieldReceiptTime:    strconv.FormatInt(b.ReceiptTime/int64(time.Millisecond), 10),
		event.FieldMessageTime:    strconv.FormatInt(time.Unix(0, e.Time).UnixMilli(), 10),
	}
	for _, f := range b.Fields {
		r[strings.ToLower(f.Name)] = f.Value
	}
	return r
}

// corpus is a store holding a varied set of events, shared by the tests.
type corpus struct {
	st     *embedded.Store
	events []corpusEvent
	rng    Range
	real   int // events from ../shared/data
}

var (
	corpusOnce sync.Once
	corpusVal  *corpus
	corpusErr  error
	corpusDir  string
)

// readLines returns up to n lines of a shared data file, every step-th.
func readLines(path string, n, step int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for i := 0; sc.Scan() && len(out) < n; i++ {
		if i%step == 0 {
			out = append(out, sc.Text())
		}
	}
	return out, sc.Err()
}

// getCorpus opens (once) the store with the corpus.
func getCorpus(t testing.TB) *corpus {
	t.Helper()
	corpusOnce.Do(func() {
		corpusDir, corpusErr = os.MkdirTemp("", "dohyo-query-corpus-")
		if corpusErr != nil {
			return
		}
		corpusVal, corpusErr = buildCorpus(corpusDir)
	})
	if corpusErr != nil {
		t.Fatalf("corpus: %v", corpusErr)
	}
	return corpusVal
}

func buildCorpus(dir string) (*corpus, error) {
	st, err := embedded.Open(dir, embedded.Config{Retention: 30 * 24 * time.Hour})
	if err != nil {
		return nil, err
	}
	c := &corpus{st: st}
	base := time.Now().Add(-3 * time.Hour).Truncate(time.Second)
	c.rng = Range{Start: base.Add(-time.Minute), End: base.Add(2 * time.Hour)}
	var batches []*event.Batch
	n := 0
	add := func(src corpusSource, lines []string, format string) {
		b := &event.Batch{ReceiptTime: base.Add(90 * time.Minute).UnixNano(), Source: src.src, Fields: src.fields}
		for _, l := range lines {
			// Unique millisecond times, a few nanoseconds apart within
			// some milliseconds' range to test ordering.
			ts := base.Add(time.Duration(n)*7*time.Second + time.Duration(n%5)*time.Millisecond + time.Duration(n%3))
			b.Events = append(b.Events, event.Event{Time: ts.UnixNano(), Raw: l, Format: format})
			n++
		}
		batches = append(batches, b)
	}
	for i, l := range syntheticLines {
		add(corpusSources[i%len(corpusSources)], []string{l}, "")
	}
	// The same lines once more from another source, in bigger batches.
	for i := 0; i < len(syntheticLines); i += 20 {
		add(corpusSources[(i/20+3)%len(corpusSources)], syntheticLines[i:min(i+20, len(syntheticLines))], "fmt")
	}
	for i, lines := range typedLines {
		add(corpusSource{src: event.Source{ID: "typed", Category: fmt.Sprintf("typed/%d", i), Host: "typed"}}, lines, "")
	}
	if apache, err := readLines(filepath.Join(sharedData, "apache_access_elastic_examples", "apache_logs"), 80, 97); err == nil {
		add(corpusSource{src: event.Source{ID: "apache", Name: "apache", Category: "prod/web/apache", Host: "www-1", FileName: "apache_logs", Collector: "dohyo"}, fields: []event.Field{{Name: "env", Value: "prod"}}}, apache, "apache")
		c.real += len(apache)
	}
	if auth, err := readLines(filepath.Join(sharedData, "syslog_authlog_elastic_examples", "auth.log"), 80, 89); err == nil {
		add(corpusSource{src: event.Source{ID: "auth", Name: "auth", Category: "security/auth", Host: "bastion", FileName: "/var/log/auth.log", Collector: "syslog"}, fields: []event.Field{{Name: "env", Value: "prod"}, {Name: "team", Value: "sec"}}}, auth, "syslog")
		c.real += len(auth)
	}
	for seq, b := range batches {
		if err := st.Add(context.Background(), uint64(seq+1), b, nil); err != nil {
			st.Close()
			return nil, err
		}
		for i := range b.Events {
			c.events = append(c.events, corpusEvent{batch: b, ev: &b.Events[i], row: newMemRow(b, &b.Events[i])})
		}
	}
	st.Flush()
	return c, nil
}

// cleanups run after all tests, in reverse order.
var cleanups []func()

func TestMain(m *testing.M) {
	code := m.Run()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	if corpusVal != nil {
		corpusVal.st.Close()
	}
	if corpusDir != "" {
		os.RemoveAll(corpusDir)
	}
	os.Exit(code)
}

// collectSink gathers what Execute delivers.
type collectSink struct {
	mu       sync.Mutex
	messages []Row
	calls    int
	fields   []FieldInfo
	records  []Row
	recCalls int
}

func (s *collectSink) Messages(rows []Row) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	s.messages = append(s.messages, rows...)
	return nil
}

func (s *collectSink) Records(fields []FieldInfo, rows []Row) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recCalls++
	s.fields, s.records = fields, rows
	return nil
}

// run parses, compiles and executes a query.
func run(t testing.TB, st store.Store, text string, push bool, opt ExecOptions) (*collectSink, Stats) {
	t.Helper()
	q, err := Parse(text)
	if err != nil {
		t.Fatalf("Parse(%q): %v", text, err)
	}
	p, err := Compile(q, CompileOptions{PushDown: push})
	if err != nil {
		t.Fatalf("Compile(%q): %v", text, err)
	}
	s := &collectSink{}
	stats, err := p.Execute(context.Background(), st, opt, s)
	if err != nil {
		t.Fatalf("Execute(%q, push=%v): %v\n%s", text, push, err, p.Explain())
	}
	return s, stats
}

// messageTimes returns the _messageTime values of rows, sorted.
func messageTimes(rows []Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Get(event.FieldMessageTime)
	}
	sort.Strings(out)
	return out
}

// recordsText renders records for comparison.
func recordsText(fields []FieldInfo, rows []Row) string {
	var b strings.Builder
	for _, f := range fields {
		fmt.Fprintf(&b, "%s:%s:%v ", f.Name, f.Type, f.KeyField)
	}
	b.WriteString("\n")
	for _, r := range rows {
		for _, f := range r {
			fmt.Fprintf(&b, "%s=%q ", f.Name, f.Value)
		}
		b.WriteString("\n")
	}
	return b.String()
}
