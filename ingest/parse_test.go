package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/dohyo/dohyo/event"
)

func parseOK(t *testing.T, body string, opt Options, lim Limits) ([]event.Event, Stats) {
	t.Helper()
	if opt.ReceiptTime.IsZero() {
		opt.ReceiptTime = testReceipt
	}
	evs, st, err := Parse([]byte(body), opt, lim)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if st.Events != len(evs) {
		t.Fatalf("Stats.Events = %d, %d events", st.Events, len(evs))
	}
	return evs, st
}

func raws(evs []event.Event) []string {
	out := []string{}
	for _, e := range evs {
		out = append(out, e.Raw)
	}
	return out
}

func formats(evs []event.Event) []string {
	out := []string{}
	for _, e := range evs {
		out = append(out, e.Format)
	}
	return out
}

func TestParseLines(t *testing.T) {
	stack := "2025-01-02 03:04:05,678 ERROR [main] request failed\n" +
		"java.lang.IllegalStateException: boom\n" +
		"\tat com.example.Foo.bar(Foo.java:12)\n" +
		"\n" +
		"\tat com.example.Foo.main(Foo.java:5)\n" +
		"2025-01-02 03:04:06,001 INFO [main] recovered\n"
	tests := []struct {
		name    string
		body    string
		opt     Options
		want    []string
		formats []string
	}{
		{name: "one per line", body: "a\nb\nc", want: []string{"a", "b", "c"}},
		{name: "crlf", body: "a\r\nb\r\n", want: []string{"a", "b"}},
		{name: "blank lines", body: "\n\na\n   \n\t\nb\n\n", want: []string{"a", "b"}},
		{name: "unicode blank lines", body: "a\n\u00a0\u3000\n \u2003\nb", want: []string{"a", "b"}},
		{name: "trailing spaces kept", body: "a  \n", want: []string{"a  "}},
		{name: "lone CR kept inside", body: "a\rb\n", want: []string{"a\rb"}},
		{name: "final CR stripped", body: "a\r", want: []string{"a"}},
		{name: "empty body", body: "", want: []string{}},
		{name: "only blanks", body: " \n\r\n\t", want: []string{}},
		{name: "multiline auto: stack trace", body: stack, want: []string{
			"2025-01-02 03:04:05,678 ERROR [main] request failed\njava.lang.IllegalStateException: boom\n\tat com.example.Foo.bar(Foo.java:12)\n\n\tat com.example.Foo.main(Foo.java:5)",
			"2025-01-02 03:04:06,001 INFO [main] recovered",
		}, formats: []string{FormatISO8601Comma, FormatISO8601Comma}},
		{name: "multiline auto: crlf inside an event", body: strings.ReplaceAll(stack, "\n", "\r\n"), want: []string{
			"2025-01-02 03:04:05,678 ERROR [main] request failed\njava.lang.IllegalStateException: boom\n\tat com.example.Foo.bar(Foo.java:12)\n\n\tat com.example.Foo.main(Foo.java:5)",
			"2025-01-02 03:04:06,001 INFO [main] recovered",
		}},
		{name: "multiline auto: lines before the first timestamp", body: "header one\nheader two\n\nJun 14 15:16:01 host a\n cont\nJun 14 15:16:02 host b",
			want:    []string{"header one\nheader two", "Jun 14 15:16:01 host a\n cont", "Jun 14 15:16:02 host b"},
			formats: []string{"", FormatSyslog3164, FormatSyslog3164}},
		{name: "multiline auto: no timestamps at all", body: "alpha\n  beta\ngamma\n", want: []string{"alpha", "  beta", "gamma"}},
		{name: "multiline auto: timestamp later in the line is not a boundary", body: "host 2015-01-01 12:00:00 a\nhost b", want: []string{"host 2015-01-01 12:00:00 a", "host b"}},
		{name: "multiline auto: json lines are never continuations",
			body: "2025-01-02 03:04:05 start\n{\"a\":1}\ncontinues nothing\nmore\n{\"b\":2}\n2025-01-02 03:04:06 end\n",
			want: []string{"2025-01-02 03:04:05 start", `{"a":1}`, "continues nothing\nmore", `{"b":2}`, "2025-01-02 03:04:06 end"}},
		{name: "multiline auto: invalid json line is a continuation",
			body: "2025-01-02 03:04:05 start\n{\"a\":\n", want: []string{"2025-01-02 03:04:05 start\n{\"a\":"}},
		{name: "multiline off", body: stack, opt: Options{Multiline: MultilineOff}, want: []string{
			"2025-01-02 03:04:05,678 ERROR [main] request failed", "java.lang.IllegalStateException: boom",
			"\tat com.example.Foo.bar(Foo.java:12)", "\tat com.example.Foo.main(Foo.java:5)", "2025-01-02 03:04:06,001 INFO [main] recovered"}},
		{name: "multiline regex", body: "BEGIN 1\nx\nBEGIN 2\ny\nz\nnot BEGIN\n",
			opt:  Options{Multiline: MultilineRegex, Boundary: regexp.MustCompile(`BEGIN \d+`)},
			want: []string{"BEGIN 1\nx", "BEGIN 2\ny\nz\nnot BEGIN"}},
		{name: "multiline regex must match the whole line", body: "BEGIN 1 and more\nBEGIN 2\nx",
			opt:  Options{Multiline: MultilineRegex, Boundary: regexp.MustCompile(`BEGIN \d`)},
			want: []string{"BEGIN 1 and more", "BEGIN 2\nx"}},
		{name: "multiline regex alternation is anchored as a whole", body: "ab\nc\na\nd",
			opt:  Options{Multiline: MultilineRegex, Boundary: regexp.MustCompile(`a|ab`)},
			want: []string{"ab\nc", "a\nd"}},
		{name: "multiline regex without any match", body: "x\ny\n",
			opt: Options{Multiline: MultilineRegex, Boundary: regexp.MustCompile(`BEGIN`)}, want: []string{"x", "y"}},
		{name: "multiline regex: timestamps still parsed", body: "> 2025-01-02 03:04:05 a\nb\n",
			opt:  Options{Multiline: MultilineRegex, Boundary: regexp.MustCompile(`>.*`)},
			want: []string{"> 2025-01-02 03:04:05 a\nb"}, formats: []string{FormatISO8601Space}},
		{name: "one per request", body: "\nline 1\n\nline 2\r\nline 3\n\n",
			opt: Options{Multiline: MultilineOnePerRequest}, want: []string{"\nline 1\n\nline 2\nline 3"}},
		{name: "one per request: blank", body: " \n \n", opt: Options{Multiline: MultilineOnePerRequest}, want: []string{}},
		{name: "multiline without timestamp parsing", body: "2025-01-02 03:04:05 a\n b\n",
			opt: Options{NoTimestampParse: true}, want: []string{"2025-01-02 03:04:05 a\n b"}, formats: []string{""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, _ := parseOK(t, tc.body, tc.opt, DefaultLimits())
			if got := raws(evs); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("events:\n got %q\nwant %q", got, tc.want)
			}
			if tc.formats != nil && !reflect.DeepEqual(formats(evs), tc.formats) {
				t.Errorf("formats = %q, want %q", formats(evs), tc.formats)
			}
		})
	}
}

func TestParseStats(t *testing.T) {
	body := "2025-01-02 03:04:05 a\nno time\n{\"ts\":1700000000,\"x\":1}\n\nbad \xff\xfe byte\n"
	evs, st := parseOK(t, body, Options{Multiline: MultilineOff}, DefaultLimits())
	want := Stats{Events: 4, Lines: 5, InvalidUTF8: 2, TimestampsFound: 2, JSONEvents: 1}
	if st != want {
		t.Errorf("stats = %+v, want %+v", st, want)
	}
	if evs[3].Raw != "bad \uFFFD\uFFFD byte" {
		t.Errorf("invalid UTF-8 not replaced: %q", evs[3].Raw)
	}
}

func TestParseTimestamps(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip(err)
	}
	body := "2015-07-01 12:00:00 local\nno time here\n"
	evs, _ := parseOK(t, body, Options{TimeZone: ny, Multiline: MultilineOff}, DefaultLimits())
	if got, want := evs[0].Time, utc(2015, 7, 1, 16, 0, 0, 0).UnixNano(); got != want || evs[0].Format != FormatISO8601Space {
		t.Errorf("zone-less time in New York: %v %q, want %v", time.Unix(0, got).UTC(), evs[0].Format, time.Unix(0, want).UTC())
	}
	if evs[1].Time != testReceipt.UnixNano() || evs[1].Format != "" {
		t.Errorf("no timestamp: %v %q, want the receipt time and no format", time.Unix(0, evs[1].Time).UTC(), evs[1].Format)
	}
	evs, st := parseOK(t, body, Options{NoTimestampParse: true}, DefaultLimits())
	for _, e := range evs {
		if e.Time != testReceipt.UnixNano() || e.Format != "" {
			t.Errorf("NoTimestampParse: %q got %v %q", e.Raw, time.Unix(0, e.Time).UTC(), e.Format)
		}
	}
	if st.TimestampsFound != 0 {
		t.Errorf("NoTimestampParse: TimestampsFound = %d", st.TimestampsFound)
	}
}

func TestParseJSONEvents(t *testing.T) {
	tests := []struct {
		line   string
		time   time.Time
		format string
	}{
		{`{"timestamp":"2020-09-14T01:19:40Z","time":"2001-01-01T00:00:00Z"}`, utc(2020, 9, 14, 1, 19, 40, 0), "json:timestamp"},
		{`{"time":"2001-01-01T00:00:00Z","@timestamp":"2020-09-14T01:19:40Z"}`, utc(2020, 9, 14, 1, 19, 40, 0), "json:@timestamp"},
		{`{"ts":1700000000.5}`, time.Unix(1700000000, 5e8), "json:ts"},
		{`{"ts":1700000000123}`, time.Unix(1700000000, 123e6), "json:ts"},
		{`{"eventTime":"2022-07-20T20:57:15Z"}`, utc(2022, 7, 20, 20, 57, 15, 0), "json:eventTime"},
		{`{"EventTime":"Mon, 02 Jan 2006 15:04:05 GMT"}`, utc(2006, 1, 2, 15, 4, 5, 0), "json:EventTime"},
		{`{"date":"17/06/09 20:10:40"}`, utc(2017, 6, 9, 20, 10, 40, 0), "json:date"},
		// A first key that does not read as a time gives way to the next.
		{`{"timestamp":"soon","_time":"2020-01-01 00:00:00"}`, utc(2020, 1, 1, 0, 0, 0, 0), "json:_time"},
		// A nested key is not a time key; the text scan still finds the string.
		{`{"log":{"timestamp":"2020-01-01T00:00:00Z"}}`, utc(2020, 1, 1, 0, 0, 0, 0), FormatRFC3339},
		{`{"msg":"nothing"}`, time.Time{}, ""},
		{`{"time":null,"timestamp":[1]}`, time.Time{}, ""},
	}
	for _, tc := range tests {
		evs, st := parseOK(t, tc.line, Options{}, DefaultLimits())
		if len(evs) != 1 || st.JSONEvents != 1 {
			t.Fatalf("%s: %d events, %d JSON", tc.line, len(evs), st.JSONEvents)
		}
		want := tc.time
		if want.IsZero() {
			want = testReceipt
		}
		if evs[0].Time != want.UnixNano() || evs[0].Format != tc.format {
			t.Errorf("%s: %v %q, want %v %q", tc.line, time.Unix(0, evs[0].Time).UTC(), evs[0].Format, want.UTC(), tc.format)
		}
	}
	evs, _ := parseOK(t, `{"a":{"b":"c"},"n":1}`+"\nnot json {\n", Options{JSONMaxFields: 1}, DefaultLimits())
	if got := fieldsOf(evs[0].Fields); !reflect.DeepEqual(got, []string{"a.b=c"}) {
		t.Errorf("fields = %q (JSONMaxFields 1)", got)
	}
	if evs[1].Fields != nil {
		t.Errorf("a text line got fields %v", evs[1].Fields)
	}
}

func TestParsePrettyJSON(t *testing.T) {
	pretty := "{\n  \"level\": \"info\",\n  \"time\": \"2024-01-02T03:04:05Z\",\n  \"req\": {\"id\": 7}\n}\n"
	evs, st := parseOK(t, "\n  "+pretty, Options{}, DefaultLimits())
	if len(evs) != 1 || evs[0].Raw != strings.TrimSpace(pretty) || st.JSONEvents != 1 {
		t.Fatalf("events %q", raws(evs))
	}
	if evs[0].Format != "json:time" || !reflect.DeepEqual(fieldsOf(evs[0].Fields), []string{"level=info", "time=2024-01-02T03:04:05Z", "req.id=7"}) {
		t.Errorf("format %q fields %q", evs[0].Format, fieldsOf(evs[0].Fields))
	}
	// Several pretty-printed objects, as jq prints them: one event each.
	evs, _ = parseOK(t, pretty+pretty+`{"one":"line"}`, Options{}, DefaultLimits())
	if len(evs) != 3 || evs[2].Raw != `{"one":"line"}` {
		t.Errorf("jq stream: %q", raws(evs))
	}
	// A pretty object followed by text is not JSON: lines.
	evs, _ = parseOK(t, pretty+"trailing text\n", Options{Multiline: MultilineOff}, DefaultLimits())
	if len(evs) != 6 || evs[0].Raw != "{" {
		t.Errorf("pretty + text: %q", raws(evs))
	}
	// NDJSON stays one event per line (the first line is valid alone).
	evs, _ = parseOK(t, "{\"a\":1}\n{\"a\":2}\n", Options{}, DefaultLimits())
	if !reflect.DeepEqual(raws(evs), []string{`{"a":1}`, `{"a":2}`}) {
		t.Errorf("ndjson: %q", raws(evs))
	}
	// A body that only starts like JSON.
	evs, _ = parseOK(t, "{not json}\nsecond\n", Options{}, DefaultLimits())
	if !reflect.DeepEqual(raws(evs), []string{"{not json}", "second"}) {
		t.Errorf("not json: %q", raws(evs))
	}
	// One per request keeps the body whole, and still extracts its fields.
	evs, _ = parseOK(t, pretty, Options{Multiline: MultilineOnePerRequest}, DefaultLimits())
	if len(evs) != 1 || len(evs[0].Fields) != 3 || evs[0].Format != "json:time" {
		t.Errorf("one per request: %+v", evs)
	}
}

const trailRecord1 = `{
      "eventVersion": "1.08",
      "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/alice"},
      "eventTime": "2022-07-20T20:57:15Z",
      "eventName": "GetSecretValue",
      "requestParameters": {"secretId": "prod/db"},
      "resources": [{"ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db"}],
      "time": "1999-01-01T00:00:00Z"
    }`

const trailRecord2 = `{"eventTime":"2022-07-20T20:58:00Z","eventName":"ListBuckets","responseElements":null}`

func TestParseCloudTrail(t *testing.T) {
	body := "  {\"Records\": [\n    " + trailRecord1 + ",\n    " + trailRecord2 + "\n  ]}\n"
	evs, st := parseOK(t, body, Options{}, DefaultLimits())
	if !reflect.DeepEqual(raws(evs), []string{trailRecord1, trailRecord2}) {
		t.Fatalf("raws = %q", raws(evs))
	}
	if st.CloudTrailRecords != 2 || st.JSONEvents != 2 || st.TimestampsFound != 2 {
		t.Errorf("stats = %+v", st)
	}
	// eventTime wins over time in a CloudTrail record.
	if evs[0].Time != utc(2022, 7, 20, 20, 57, 15, 0).UnixNano() || evs[0].Format != "json:eventTime" {
		t.Errorf("time %v %q", time.Unix(0, evs[0].Time).UTC(), evs[0].Format)
	}
	wantFields := []string{"eventVersion=1.08", "userIdentity.type=IAMUser", "userIdentity.arn=arn:aws:iam::123456789012:user/alice",
		"eventTime=2022-07-20T20:57:15Z", "eventName=GetSecretValue", "requestParameters.secretId=prod/db",
		`resources=[{"ARN":"arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db"}]`, "time=1999-01-01T00:00:00Z"}
	if got := fieldsOf(evs[0].Fields); !reflect.DeepEqual(got, wantFields) {
		t.Errorf("fields:\n got %q\nwant %q", got, wantFields)
	}

	// Other keys around Records, an empty Records, concatenated files.
	for _, tc := range []struct {
		body string
		n    int
	}{
		{`{"Digest":{"x":[1,2]},"Records":[` + trailRecord2 + `],"After":true}`, 1},
		{`{"Records":[]}`, 0},
		{`{"Records":[` + trailRecord2 + `]}` + "\n" + `{"Records":[` + trailRecord2 + `,` + trailRecord2 + `]}`, 3},
	} {
		evs, st := parseOK(t, tc.body, Options{}, DefaultLimits())
		if len(evs) != tc.n || st.CloudTrailRecords != tc.n {
			t.Errorf("%.60s: %d events, %d records; want %d", tc.body, len(evs), st.CloudTrailRecords, tc.n)
		}
	}
	// Records that are not objects: not a delivery file, one JSON event.
	evs, _ = parseOK(t, `{"Records":[1,2]}`, Options{}, DefaultLimits())
	if len(evs) != 1 || evs[0].Raw != `{"Records":[1,2]}` {
		t.Errorf("records of numbers: %q", raws(evs))
	}
}

func wantParseError(t *testing.T, body string, opt Options, lim Limits, status int, msg string) {
	t.Helper()
	opt.ReceiptTime = testReceipt
	evs, _, err := Parse([]byte(body), opt, lim)
	if err == nil {
		t.Fatalf("no error; %d events", len(evs))
	}
	if evs != nil {
		t.Errorf("events returned with an error")
	}
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not *Error", err, err)
	}
	if ce.Status != status || ce.Msg != msg {
		t.Errorf("error = %d %q\n         want %d %q", ce.Status, ce.Msg, status, msg)
	}
}

func TestParseErrors(t *testing.T) {
	lim := Limits{MaxLineBytes: 10, MaxEvents: 3}
	tests := []struct {
		name   string
		body   string
		opt    Options
		status int
		msg    string
	}{
		{"long line", "short\n12345678901\n", Options{Multiline: MultilineOff}, 413,
			"line 2 is 11 B, over the 10 B line limit"},
		{"long line in multiline mode", "Jun 1 1:\n123456789012\n", Options{Multiline: MultilineRegex, Boundary: regexp.MustCompile(`Jun.*`)}, 413,
			"line 2 is 12 B, over the 10 B line limit"},
		{"long multiline event", "Jun 14 1:\nabcdef\nghijkl\n", Options{Multiline: MultilineRegex, Boundary: regexp.MustCompile(`Jun.*`)}, 413,
			"the event starting at line 1 is 23 B, over the 10 B line limit"},
		{"too many events", "a\nb\nc\nd\n", Options{}, 413,
			"the request has more than 3 events, over the limit; send smaller batches"},
		{"one per request too long", "0123456789\nabc", Options{Multiline: MultilineOnePerRequest}, 413,
			"the request body, as one event, is 14 B, over the 10 B line limit"},
		{"pretty json too long", "{\n\"a\": 12345\n}", Options{}, 413,
			"the JSON object starting at line 1 is 14 B, over the 10 B line limit"},
		{"cloudtrail record too long", `{"Records":[{"a":1},` + "\n" + `{"abcdefgh":1}]}`, Options{}, 413,
			"CloudTrail record 2 (Records[1], line 2) is 14 B, over the 10 B line limit"},
		{"cloudtrail too many records", `{"Records":[{},{},{},{}]}`, Options{}, 413,
			"the request has more than 3 events, over the limit; send smaller batches"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantParseError(t, tc.body, tc.opt, lim, tc.status, tc.msg)
		})
	}
}

func TestParseMalformedCloudTrail(t *testing.T) {
	tests := []struct {
		body string
		msg  string
	}{
		{"{\"Records\": [\n  {\"a\": 1}\n  {\"b\": 2}\n]}",
			`malformed CloudTrail JSON at line 3, column 3 (byte 27): expected ',' or ']' after Records[0], found '{'`},
		{`{"Records": [{"a": 1}, {"b": tru}]}`,
			`malformed CloudTrail JSON at line 1, column 30 (byte 29): expected the beginning of a value, found 't'`},
		{`{"Records": [{"a": 1}, 7]}`,
			`malformed CloudTrail JSON at line 1, column 24 (byte 23): expected an object for Records[1], found '7'`},
		{`{"Records": [{"a": "é"}, {"b"`,
			`malformed CloudTrail JSON at line 1, column 30 (byte 30): unexpected end of input, expected ':' after an object key`},
		{`{"Records": [{"a": 1}]} trailing`,
			`malformed CloudTrail JSON at line 1, column 25 (byte 24): expected the end of the file or another {"Records":[...]} object, found 't'`},
		{`{"Records": [{"a": 1}], "x": }`,
			`malformed CloudTrail JSON at line 1, column 30 (byte 29): expected the beginning of a value, found '}'`},
		{`{"Records": [{"a": 1}]}` + "\n" + `{"other": 1}`,
			`malformed CloudTrail file: the object at line 2, column 1 (byte 24) has no "Records" array of objects`},
	}
	for _, tc := range tests {
		wantParseError(t, tc.body, Options{}, DefaultLimits(), http.StatusBadRequest, tc.msg)
	}
}

func TestParseRegexWithoutBoundary(t *testing.T) {
	_, _, err := Parse([]byte("x"), Options{Multiline: MultilineRegex}, DefaultLimits())
	if !errors.Is(err, ErrNoBoundary) {
		t.Fatalf("error = %v, want ErrNoBoundary", err)
	}
}

// The real CloudTrail delivery files: every record becomes an event whose
// _raw is exactly the record, and the known-malformed file is refused with
// the place of its problem.
func TestParseCloudTrailSamples(t *testing.T) {
	dir := sharedData(t, "cloudtrail_stratus_samples_cloudtrail2sightings")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) == 0 {
		t.Skip("no sample files in " + dir)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var want struct{ Records []json.RawMessage }
			jsonErr := json.Unmarshal(body, &want)
			evs, st, err := Parse(body, Options{ReceiptTime: testReceipt}, DefaultLimits())
			if filepath.Base(f) == "aws.execution.ec2-user-data.json" {
				if jsonErr == nil {
					t.Fatal("the sample is expected to be malformed")
				}
				var ce *Error
				if !errors.As(err, &ce) || ce.Status != 400 ||
					ce.Msg != `malformed CloudTrail JSON at line 112, column 1 (byte 3327): expected ',' or ']' after Records[0], found '{'` {
					t.Fatalf("error = %v", err)
				}
				return
			}
			if jsonErr != nil || err != nil {
				t.Fatalf("encoding/json: %v; Parse: %v", jsonErr, err)
			}
			if len(evs) != len(want.Records) || st.CloudTrailRecords != len(want.Records) || st.TimestampsFound != len(evs) {
				t.Fatalf("%d events, stats %+v; want %d records", len(evs), st, len(want.Records))
			}
			for i, e := range evs {
				if e.Raw != string(want.Records[i]) {
					t.Errorf("record %d: _raw differs from the record's bytes", i)
				}
				var rec struct{ EventTime time.Time }
				json.Unmarshal(want.Records[i], &rec)
				if e.Time != rec.EventTime.UnixNano() || e.Format != "json:eventTime" {
					t.Errorf("record %d: time %v %q, eventTime %v", i, time.Unix(0, e.Time).UTC(), e.Format, rec.EventTime)
				}
				ref, _ := flattenWithTokens(want.Records[i], DefaultJSONMaxDepth, DefaultJSONMaxFields)
				if !reflect.DeepEqual(fieldsOf(e.Fields), fieldsOf(ref)) {
					t.Errorf("record %d: fields differ from the reference", i)
				}
			}
		})
	}
}

// NDJSON CloudTrail (one event per line, no Records wrapper) and JSONL
// test files: each line is a JSON event.
func TestParseNDJSONSamples(t *testing.T) {
	f := sharedData(t, "cloudtrail_otrf_security_datasets/ec2_proxy_s3_exfiltration_2020-09-14011940.json")
	body, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	evs, st, err := Parse(body, Options{ReceiptTime: testReceipt}, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 103 || st.JSONEvents != 103 || st.TimestampsFound != 103 {
		t.Fatalf("stats %+v", st)
	}
	for _, e := range evs {
		if e.Format != "json:@timestamp" {
			t.Fatalf("format %q for %.80s", e.Format, e.Raw)
		}
	}
}

func TestParseLargeCloudTrail(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 50 MB file")
	}
	body := cloudTrailBody(t, 50<<20)
	var want struct{ Records []json.RawMessage }
	if err := json.Unmarshal(body, &want); err != nil {
		t.Fatal(err)
	}
	evs, st, err := Parse(body, Options{ReceiptTime: testReceipt}, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != len(want.Records) || st.CloudTrailRecords != len(evs) {
		t.Fatalf("%d events, want %d", len(evs), len(want.Records))
	}
	for _, i := range []int{0, len(evs) / 2, len(evs) - 1} {
		if evs[i].Raw != string(want.Records[i]) {
			t.Errorf("record %d differs", i)
		}
	}
}

func FuzzParse(f *testing.F) {
	seeds := []string{
		"2025-01-02 03:04:05,678 ERROR x\n\tat a\n2025-01-02 03:04:06 y\n",
		"Jun 14 15:16:01 host a\r\n cont\r\n",
		"{\"Records\":[{\"eventTime\":\"2022-07-20T20:57:15Z\",\"a\":{\"b\":1}},{\"c\":[1,2]}]}",
		"{\"Records\":[{\"a\":1}{\"b\":2}]}",
		"{\n \"a\": 1,\n \"ts\": 1700000000\n}\n{\"b\":2}",
		"{\"a\":1}\n{\"a\":\n",
		"bad \xff\xfe utf8\n\n",
		"<34>1 2003-10-11T22:14:15.003Z host app - - msg\n",
		"127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 200\n",
	}
	for i, s := range seeds {
		f.Add([]byte(s), uint8(i))
	}
	boundary := regexp.MustCompile(`\S.*`)
	f.Fuzz(func(t *testing.T, body []byte, mode uint8) {
		opt := Options{
			Multiline:        MultilineMode(mode % 4),
			NoTimestampParse: mode&0x10 != 0,
			JSONMaxDepth:     int(mode>>5) + 1,
			JSONMaxFields:    int(mode>>4) + 1,
			ReceiptTime:      testReceipt,
		}
		if opt.Multiline == MultilineRegex {
			opt.Boundary = boundary
		}
		lim := Limits{MaxLineBytes: 200, MaxEvents: 50}
		evs, st, err := Parse(body, opt, lim)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) || (ce.Status != 400 && ce.Status != 413) || ce.Msg == "" {
				t.Fatalf("error %v", err)
			}
			return
		}
		if st.Events != len(evs) || len(evs) > lim.MaxEvents || st.JSONEvents > len(evs) || st.TimestampsFound > len(evs) {
			t.Fatalf("stats %+v for %d events", st, len(evs))
		}
		for _, e := range evs {
			if !utf8.ValidString(e.Raw) || !utf8.ValidString(e.Format) {
				t.Fatalf("invalid UTF-8 in event %q", e.Raw)
			}
			if len(e.Raw) > lim.MaxLineBytes || strings.TrimSpace(e.Raw) == "" {
				t.Fatalf("bad event size %d: %q", len(e.Raw), e.Raw)
			}
			for _, fl := range e.Fields {
				if !utf8.ValidString(fl.Name) || !utf8.ValidString(fl.Value) || !strings.HasPrefix(fl.Name, event.JSONFieldPrefix) {
					t.Fatalf("bad field %q=%q", fl.Name, fl.Value)
				}
			}
			if len(e.Fields) > opt.JSONMaxFields {
				t.Fatalf("%d fields", len(e.Fields))
			}
			if opt.NoTimestampParse && (e.Format != "" || e.Time != testReceipt.UnixNano()) {
				t.Fatalf("timestamp parsed although disabled")
			}
		}
		if st.InvalidUTF8 == 0 && !utf8.Valid(body) {
			t.Fatalf("invalid UTF-8 not counted")
		}
	})
}

// Example of the exact texts a client sees.
func ExampleParse() {
	body := []byte("2025-01-02 03:04:05 ERROR boom\n\tat Foo.bar(Foo.java:1)\n{\"ts\":1735787046,\"msg\":\"json\"}\n")
	evs, st, _ := Parse(body, Options{ReceiptTime: time.Date(2025, 1, 2, 4, 0, 0, 0, time.UTC)}, DefaultLimits())
	for _, e := range evs {
		fmt.Printf("%s %-15s %q %d fields\n", time.Unix(0, e.Time).UTC().Format(time.RFC3339), e.Format, e.Raw, len(e.Fields))
	}
	fmt.Printf("%+v\n", st)
	// Output:
	// 2025-01-02T03:04:05Z iso8601-space   "2025-01-02 03:04:05 ERROR boom\n\tat Foo.bar(Foo.java:1)" 0 fields
	// 2025-01-02T03:04:06Z json:ts         "{\"ts\":1735787046,\"msg\":\"json\"}" 2 fields
	// {Events:2 Lines:3 InvalidUTF8:0 TimestampsFound:2 JSONEvents:1 CloudTrailRecords:0}
}

// With KeepBody the events point into the body itself (no copy); without,
// into a copy, so the caller may reuse the body. Invalid UTF-8 is replaced
// either way, which takes a copy.
func TestParseKeepBody(t *testing.T) {
	for _, keep := range []bool{false, true} {
		body := []byte("2025-01-02T03:04:05Z first\n2025-01-02T03:04:06Z second\n")
		evs, _, err := Parse(body, Options{KeepBody: keep, Multiline: MultilineOff}, Limits{})
		if err != nil || len(evs) != 2 {
			t.Fatalf("keep=%v: %d events, %v", keep, len(evs), err)
		}
		shared := unsafe.StringData(evs[0].Raw) == &body[0]
		if shared != keep {
			t.Errorf("keep=%v: the first event's text shares the body's memory: %v", keep, shared)
		}
		if !keep {
			copy(body, "XXXX")
			if evs[0].Raw != "2025-01-02T03:04:05Z first" {
				t.Errorf("keep=false: the event changed with the body: %q", evs[0].Raw)
			}
		}
		bad := []byte("2025-01-02T03:04:05Z caf\xe9\n")
		evs, st, err := Parse(bad, Options{KeepBody: keep}, Limits{})
		if err != nil || len(evs) != 1 || evs[0].Raw != "2025-01-02T03:04:05Z caf\uFFFD" || st.InvalidUTF8 != 1 {
			t.Errorf("keep=%v, invalid UTF-8: %+v, %+v, %v", keep, evs, st, err)
		}
	}
}
