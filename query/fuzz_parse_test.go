package query

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

// FuzzParsePattern parses anchor patterns: no panic, no hang, errors with
// positions, canonical text that round-trips; and the regexp condition of
// the pushed form holds exactly when the Go matcher matches.
func FuzzParsePattern(f *testing.F) {
	for _, s := range []string{
		`user=*: severity=*:`, `*`, `**`, `a=**b`, `\"*\"`, `*\t*\n*`, `a\*b=*`, `\\*`, `é*ü`,
		`- - [*] \"* * *\" * *`, `&lt;*>`, `<*&`, `*.*.*`, "multi\n*", `\d=*`, `x*`,
	} {
		f.Add(s, "x user=alice: severity=high: y")
	}
	f.Fuzz(func(t *testing.T, pat, text string) {
		holes := strings.Count(pat, "*")
		if holes > 50 {
			return
		}
		names := make([]string, max(holes, 1))
		for i := range names {
			names[i] = "f" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		}
		q := `* | parse "` + pat + `" as ` + strings.Join(names, ", ")
		start := time.Now()
		parsed, err := Parse(q)
		if d := time.Since(start); d > time.Second {
			t.Fatalf("parsing took %s", d)
		}
		if err != nil {
			e, ok := AsError(err)
			if !ok || !e.Pos.IsValid() || e.Pos.Offset > len(q) {
				t.Fatalf("error without a valid position: %#v", err)
			}
			return
		}
		checkRoundTrip(t, q, parsed, false)
		st, ok := parsed.Stages[0].(*ParseStage)
		if !ok {
			return
		}
		a := anchorPattern{lits: st.Literals}
		vals := make([]string, len(a.lits)-1)
		re := regexp.MustCompile(literalSequenceRegexp(st.Literals))
		for _, s := range []string{text, strings.Join(st.Literals, text), strings.Join(st.Literals, ""), ""} {
			if strings.ContainsRune(s, '\uFFFD') || !utf8Valid(s) {
				continue
			}
			if got, want := a.match(s, vals), re.MatchString(s); got != want {
				t.Fatalf("pattern %q on %q: Go matches %v, the pushed condition %q %v", pat, s, got, re, want)
			}
		}
		p, err := Compile(parsed, CompileOptions{PushDown: true})
		if err == nil {
			_ = p.Explain()
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// FuzzJSONPath parses JSON paths and evaluates them: no panic, no hang;
// for plain paths over valid JSON, scalars agree with encoding/json.
func FuzzJSONPath(f *testing.F) {
	for _, s := range []string{
		"eventName", "a.b.c", "$.a['b.c'][0]", "a[*].b", "a..b", "$..*", "a.*", "['@x']", "[0]", "a[",
		"a['", `a["x\"y"]`, "..", "a[1:2]", "a[-1]", "$", "a.b*",
	} {
		f.Add(s, `{"a":{"b":{"c":1},"b.c":[2]},"eventName":"x","@x":null}`)
	}
	f.Fuzz(func(t *testing.T, path, doc string) {
		start := time.Now()
		jp, perr := parseJSONPath(path)
		if perr != nil {
			if perr.off < 0 || perr.off > len(path) || perr.msg == "" {
				t.Fatalf("bad error for %q: %+v", path, perr)
			}
			return
		}
		d, ok := locateJSON(doc)
		if !ok {
			return
		}
		text, found, null := jp.eval(d)
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("took %s", el)
		}
		if !found || jp.multi || !json.Valid([]byte(d)) {
			return
		}
		// The reference: encoding/json (the last of repeated keys wins).
		dec := json.NewDecoder(bytes.NewReader([]byte(d)))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil {
			return
		}
		for _, s := range jp.segs {
			switch s.kind {
			case segKey:
				m, ok := v.(map[string]any)
				if !ok {
					t.Fatalf("%q in %s: found %q but the value is not an object", path, d, text)
				}
				if v, ok = m[s.key]; !ok {
					t.Fatalf("%q in %s: found %q but encoding/json has no key %q", path, d, text, s.key)
				}
			case segIndex:
				a, ok := v.([]any)
				if !ok || s.index >= len(a) {
					t.Fatalf("%q in %s: found %q but encoding/json has no element %d", path, d, text, s.index)
				}
				v = a[s.index]
			}
		}
		var want string
		switch x := v.(type) {
		case nil:
			if !null {
				t.Fatalf("%q in %s: %q, want null", path, d, text)
			}
			return
		case string:
			want = x
		case json.Number:
			want = x.String()
		case bool:
			want = "false"
			if x {
				want = "true"
			}
		default:
			return // objects and arrays: compact text, checked by the ingest tests
		}
		if text != want || null {
			t.Fatalf("%q in %s = %q (null=%v), encoding/json gives %q", path, d, text, null, want)
		}
	})
}
