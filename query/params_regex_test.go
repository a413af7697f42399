package query

import "testing"

func TestSubstituteParamsRegexLiteral(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`x | where a matches /^(a|b)\/{{x}}$/ and b = {{v}}`, `x | where a matches /^(a|b)\/{{x}}$/ and b = "two words"`},
		{`x | where (/^[/]a$/ matches a or a matches /'"/) | {{v}} as f`, `x | where (/^[/]a$/ matches a or a matches /'"/) | "two words" as f`},
		{`x | a / 2 as h | where h matches "{{v}}"`, `x | a / 2 as h | where h matches "two words"`},
		{`x | (a) / {{n}} as h`, `x | (a) / 3 as h`},
	} {
		got, err := SubstituteParams(c.in, map[string]string{"v": "two words", "n": "3", "x": "y"})
		if err != nil || got != c.want {
			t.Errorf("SubstituteParams(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestCheckParamsWithRegexLiteral(t *testing.T) {
	r := Check(`x | where a matches /^a{2}$/ and b = "{{v}}"`)
	if len(r.Params) != 1 || r.Params[0] != "v" {
		t.Errorf("Params = %v, want [v]", r.Params)
	}
}
