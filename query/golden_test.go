package query

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/store/embedded"
)

// Golden tests: testdata/*.test files, one per operator family, in a small
// script format anyone can add a case to:
//
//	# a comment
//	load
//	  cat=prod/web host=web-1 env=prod | GET /api/v1/login 200
//	  cat=prod/web                     | "quoted \t raw"
//
//	eval error | count by _sourceCategory
//	  _sourceCategory=prod/web _count=1
//
//	eval_error error | cout
//	  unknown operator "cout"
//
// A load line is one event: metadata before " | " (cat, host, name, source,
// collector set the source; other keys are custom fields), the raw message
// after it (Go-quoted when it starts with a double quote). Events are one
// second apart, later lines newer; a new load block replaces the events.
// An eval lists the expected messages (their _raw, newest first) or
// records (name=value, values Go-quoted when they hold spaces, quotes or =
// or are empty); an eval with no lines expects nothing. Every eval runs
// pushed down and all-Go; both must give the expected output.
//
// eval_fields lists, instead of each message's _raw, its fields other than
// the built-in ones (name=value as for records, "-" when there are none),
// to check what the parsing operators extract. A JSON object raw gets the
// ingest-time JSON fields (_json.*) ingest would give it; the load line's
// metadata can say nojson (none), jsondepth=N or jsonfields=N (ingest's
// bounds). A query using json also runs all-Go parsing _raw instead of
// reading those fields (golden_parse_test.go).
//
// load takes options placing events at chosen times (start=, step=,
// range=; at= and repeat= on a line), described in golden_time_test.go.
//
// Evals run with a test environment (env_test.go): a GeoIP database of a
// few networks and in-memory lookup tables, which a table command defines
// (a CSV header and rows; key= names the primary key, types= typed
// columns):
//
//	table path://"/shared/admins" key=user types=level:long
//	  user,role,level
//	  alice,admin,3

func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.test"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) { runGoldenFile(t, file) })
	}
}

type goldenCmd struct {
	line  int
	kind  string // load, eval, eval_error
	arg   string
	lines []string
}

func parseGolden(t *testing.T, file string) []goldenCmd {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cmds []goldenCmd
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
			continue
		case line[0] == ' ' || line[0] == '\t':
			if len(cmds) == 0 {
				t.Fatalf("%s:%d: indented line outside a command", file, n)
			}
			cmds[len(cmds)-1].lines = append(cmds[len(cmds)-1].lines, trimmed)
		default:
			kind, arg, _ := strings.Cut(line, " ")
			switch kind {
			case "load", "eval", "eval_error", "eval_fields", "table":
			default:
				t.Fatalf("%s:%d: unknown command %q", file, n, kind)
			}
			cmds = append(cmds, goldenCmd{line: n, kind: kind, arg: strings.TrimSpace(arg)})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cmds
}

func runGoldenFile(t *testing.T, file string) {
	var st *embedded.Store
	var rng Range
	env, tables := newTestEnv()
	for _, c := range parseGolden(t, file) {
		where := fmt.Sprintf("%s:%d", file, c.line)
		switch c.kind {
		case "table":
			if err := tables.addGoldenTable(c.arg, c.lines); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
		case "load":
			if st != nil {
				st.Close()
			}
			// load start=... step=... range=... (golden_time_test.go)
			lo, err := parseGoldenLoad(c.arg, len(c.lines))
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			st, err = embedded.Open(t.TempDir(), embedded.Config{Retention: lo.retention})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			rng = lo.rng
			goldenLocation = lo.loc
			for i, l := range c.lines {
				b, err := lo.event(l, i)
				if err != nil {
					t.Fatalf("%s: %v", where, err)
				}
				if err := st.Add(context.Background(), uint64(i+1), b, nil); err != nil {
					t.Fatal(err)
				}
			}
			st.Flush()
		case "eval", "eval_error", "eval_fields":
			if st == nil {
				t.Fatalf("%s: eval before load", where)
			}
			for _, push := range goldenModes(c) {
				got, err := goldenEval(st, rng, c.arg, push, env)
				if c.kind == "eval_error" {
					if err == nil || len(c.lines) != 1 || !strings.Contains(err.Error(), c.lines[0]) {
						t.Errorf("%s: %s (push=%v): error %v, want one containing %q", where, c.arg, push, err, c.lines)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s: %s (push=%v): %v", where, c.arg, push, err)
					continue
				}
				if strings.Join(got, "\n") != strings.Join(c.lines, "\n") {
					t.Errorf("%s: %s (push=%v):\n got:\n  %s\nwant:\n  %s", where, c.arg, push,
						strings.Join(got, "\n  "), strings.Join(c.lines, "\n  "))
				}
			}
		}
	}
}

func goldenEvent(line string, ts time.Time) (*event.Batch, error) {
	meta, raw, ok := strings.Cut(line, " | ")
	if !ok {
		meta, raw = strings.TrimSuffix(line, " |"), ""
	}
	raw = strings.TrimSpace(raw)
	if strings.HasPrefix(raw, `"`) {
		var err error
		if raw, err = strconv.Unquote(raw); err != nil {
			return nil, fmt.Errorf("raw %s: %w", raw, err)
		}
	}
	b := &event.Batch{ReceiptTime: ts.UnixNano()}
	jsonOpt := map[string]string{}
	for _, kv := range strings.Fields(meta) {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "nojson", "jsondepth", "jsonfields":
			jsonOpt[k] = v
		case "cat":
			b.Source.Category = v
		case "host":
			b.Source.Host = v
		case "name":
			b.Source.FileName = v
		case "source":
			b.Source.Name = v
		case "collector":
			b.Source.Collector = v
		default:
			b.Fields = append(b.Fields, event.Field{Name: k, Value: v})
		}
	}
	b.Events = []event.Event{{Time: ts.UnixNano(), Raw: raw, Fields: goldenJSONFields(raw, jsonOpt)}}
	return b, nil
}

func goldenValue(v string) string {
	if v == "" || strings.ContainsAny(v, " \t\n\"=") || strconv.Quote(v) != `"`+v+`"` {
		return strconv.Quote(v)
	}
	return v
}

func goldenEval(st *embedded.Store, rng Range, text string, mode goldenMode, env *Env) ([]string, error) {
	q, err := Parse(text)
	if err != nil {
		return nil, err
	}
	p, err := Compile(q, CompileOptions{PushDown: mode.push, noIngestJSON: mode.rawJSON, noPrune: mode.noPrune})
	if err != nil {
		return nil, err
	}
	s := &collectSink{}
	if _, err := p.Execute(context.Background(), st, ExecOptions{Range: rng, Env: env, Location: goldenLocation}, s); err != nil {
		return nil, err
	}
	var out []string
	for _, m := range s.messages {
		if mode.fields {
			out = append(out, goldenMessageFields(m))
			continue
		}
		raw := m.Get(event.FieldRaw)
		if raw == "" || raw != strings.TrimSpace(raw) || strings.HasPrefix(raw, `"`) || strconv.Quote(raw) != `"`+strings.ReplaceAll(raw, `"`, `\"`)+`"` {
			raw = strconv.Quote(raw)
		}
		out = append(out, raw)
	}
	for _, r := range s.records {
		parts := make([]string, len(r))
		for i, f := range r {
			parts[i] = f.Name + "=" + goldenValue(f.Value)
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out, nil
}
