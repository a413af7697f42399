package query

import (
	"testing"
)

func TestSubstituteParams(t *testing.T) {
	cases := []struct {
		in   string
		vals map[string]string
		out  string
		err  string
	}{
		{in: "_sourceCategory={{cat}} error", vals: map[string]string{"cat": "prod/web*"}, out: "_sourceCategory=prod/web* error"},
		{in: "_sourceCategory={{cat}}", vals: map[string]string{"cat": "*"}, out: "_sourceCategory=*"},
		{in: "{{kw}}", vals: map[string]string{"kw": "failed login"}, out: `"failed login"`},
		{in: "{{kw}}", vals: map[string]string{"kw": `say "hi" \ bye`}, out: `"say \"hi\" \\ bye"`},
		{in: "{{kw}}", vals: map[string]string{"kw": "OR"}, out: `"OR"`},
		{in: "{{kw}}", vals: map[string]string{"kw": "a) OR (b"}, out: `"a) OR (b"`},
		{in: "{{kw}} x", vals: map[string]string{"kw": "a | count"}, out: `"a | count" x`},
		{in: "{{kw}}", vals: map[string]string{"kw": "//x"}, out: `"//x"`},
		{in: "{{kw}}", vals: map[string]string{"kw": ""}, out: `""`},
		{in: "{{kw}} | count", vals: map[string]string{"kw": "*"}, out: "* | count"},
		{in: "{{ kw }}", vals: map[string]string{"kw": "10.1.2.3"}, out: "10.1.2.3"},
		{in: "prod/{{env}}/web", vals: map[string]string{"env": "eu-1"}, out: "prod/eu-1/web"},
		{in: "{{a}}{{b}}", vals: map[string]string{"a": "x", "b": "y*"}, out: "xy*"},
		{in: "prod/{{env}}/web", vals: map[string]string{"env": "a b"},
			err: `line 1, column 6: the value "a b" of {{env}} cannot be part of the term "prod/{{env}}/web"; values inside a term may only hold letters, digits, wildcards and - _ : / . + @ # $ % ^ \`},
		{in: "x {{a}}{{b}}", vals: map[string]string{"a": "x"}, err: "line 1, column 8: no value for template parameter {{b}}"},
		{in: `x | where user matches "{{user}}*"`, vals: map[string]string{"user": `a"b\`}, out: `x | where user matches "a\"b\\*"`},
		{in: `x | split _raw delim='{{d}}'`, vals: map[string]string{"d": "'"}, out: `x | split _raw delim='\''`},
		{in: "x | count by {{f}}", vals: map[string]string{"f": "host"}, out: "x | count by host"},
		{in: "x | count by {{f}}", vals: map[string]string{"f": "my.field"}, out: `x | count by "my.field"`},
		{in: "{{a}} // {{b}}\n/* {{c}} */", vals: map[string]string{"a": "x"}, out: "x // {{b}}\n/* {{c}} */"},
		{in: "{{missing}}", vals: map[string]string{}, err: "line 1, column 1: no value for template parameter {{missing}}"},
		{in: "a\n  {{ x }}", vals: map[string]string{"x": "1"}, out: "a\n  1"},
		{in: "a\n \"q {{x}}\"", vals: map[string]string{}, err: "line 2, column 5: no value for template parameter {{x}}"},
		{in: `"{{x}}" %"f{{x}}"=1`, vals: map[string]string{"x": "v"}, out: `"v" %"fv"=1`},
		{in: "no params", vals: nil, out: "no params"},
		{in: `"unterminated {{x}}`, vals: map[string]string{"x": "1"}, err: `line 1, column 1: unterminated string: missing closing "`},
	}
	for _, c := range cases {
		out, err := SubstituteParams(c.in, c.vals)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("SubstituteParams(%q) = %q, %v; want error %s", c.in, out, err, c.err)
			}
			continue
		}
		if err != nil || out != c.out {
			t.Errorf("SubstituteParams(%q) = %q, %v; want %q", c.in, out, err, c.out)
		}
	}
	// A substituted value is exactly one term.
	out, err := SubstituteParams("{{kw}} b", map[string]string{"kw": "x OR a"})
	if err != nil {
		t.Fatal(err)
	}
	q, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := dump(q.Scope); got != `and(ph("x OR a"), kw(b))` {
		t.Errorf("substituted tree %s", got)
	}
	if got := queryParams("{{a}} x={{b}} \"{{c}}\" {{a}} y{{d}}z | count by {{e}}"); len(got) != 5 || got[4] != "e" {
		t.Errorf("queryParams = %v", got)
	}
}
