package query

import (
	"regexp"
	"strconv"
	"strings"
)

// Pushing "where" down: whereLogsQL translates a condition into a LogsQL
// "filter" pipe when the engine selects exactly the rows the Go evaluation
// keeps. Only these forms are translated (f is a custom field, a field an
// earlier pushed stage extracted, or one of _raw, _sourceCategory,
// _sourceHost, _sourceName, _source, _collector; "lit" a quoted literal
// that is not numeric-looking, or true/false):
//
//	f = "lit"            f:="lit"            (exact, case-sensitive)
//	f != "lit"           f:* !f:="lit"       (a null f compares false)
//	f = "" , isNull(f), isEmpty(f)    !f:*   (and their negations f:*)
//	f in ("a", "b")      f:in("a","b")
//	f matches "glob"     f:="text" for a glob without *, f:* for "*", else
//	                     f:~"^(?s:...)$" (* is (?s:.*), the rest quoted)
//	f matches /re/       f:* f:~"re"         (RE2, found anywhere)
//	a and b, a or b, !a, not a   of translated forms
//
// Why not more:
//   - numeric-looking literals ("200", 5): Go compares numerically when both
//     sides are numeric ("200.0" = 200) and as strings otherwise; the
//     engine's exact filter compares text, and its range filters read RFC
//     3339 timestamps, IPv4 addresses and unit suffixes as numbers and
//     never match non-numeric text, which Go compares as strings. No LogsQL
//     filter reproduces both rules, so numeric comparisons run in Go (a
//     where starting the Go part still has the engine drop, with a
//     superset filter, the plain integers Go would drop: where_prefilter.go);
//   - _messageTime and _receiptTime are kept differently by the engine;
//   - functions, arithmetic, contains and truth tests of fields run in Go.
//
// TestWherePushdownDifferential proves each form against the embedded
// engine over a corpus of tricky values (case, unicode, newlines, numbers,
// empty and missing fields), comparing pushed, all-Go and a direct Go
// evaluation.

// whereLogsQL returns the LogsQL pipe of a where condition over messages.
func whereLogsQL(cond Expression, in *schema) (pipe string, ok bool) {
	if in.records {
		return "", false
	}
	f, ok := exprFilter(cond)
	if !ok {
		return "", false
	}
	return "filter " + f, true
}

// pushableField returns the engine column of a field the engine can filter
// on exactly as Go reads it.
func pushableField(e Expression) (string, bool) {
	f, ok := e.(*FieldExpr)
	if !ok || f.Param {
		return "", false
	}
	if b := lookupBuiltin(f.Name); b != nil {
		switch f.Name {
		case "_raw", "_sourceCategory", "_sourceHost", "_sourceName", "_source", "_collector":
			return strconv.Quote(b.storage), b.storage != ""
		}
		return "", false
	}
	if strings.HasPrefix(f.Name, "_") {
		return "", false
	}
	return strconv.Quote(f.Name), true
}

// textLiteral returns the text of a literal that compares as a string
// with anything: a quoted string that is not numeric-looking, or a
// boolean. Empty strings are not text literals (see emptiness tests).
func textLiteral(e Expression) (string, bool) {
	switch n := e.(type) {
	case *StringLit:
		if n.Value == "" || IsNumeric(n.Value) || engineIntLike(n.Value) {
			return "", false
		}
		return n.Value, true
	case *BoolLit:
		return strconv.FormatBool(n.Value), true
	}
	return "", false
}

// engineIntLike reports whether the engine's exact and in filters read a
// text as an integer when they compare it with a column it keeps in a
// numeric encoding ("1_000" equals 1000 there, "_" equals 0): such texts
// are compared in Go.
func engineIntLike(s string) bool {
	s = strings.TrimPrefix(s, "-")
	return s != "" && strings.Trim(s, "0123456789_") == ""
}

// Emptiness tests. f:* (an empty prefix) sees no value of a column the
// engine keeps in a numeric encoding when it runs in a pipe (after
// extract or copy) rather than in the query's filter; an exact comparison
// with "" sees them in both (TestPushdownNumericColumns).
func emptyFilter(f string) string    { return f + `:=""` }
func nonEmptyFilter(f string) string { return "!" + f + `:=""` }

// fieldAndLiteral splits "f op lit" or "lit op f".
func fieldAndLiteral(n *BinaryExpr) (field string, lit Expression, ok bool) {
	if f, ok := pushableField(n.L); ok {
		return f, n.R, true
	}
	if f, ok := pushableField(n.R); ok {
		return f, n.L, true
	}
	return "", nil, false
}

func isEmptyString(e Expression) bool {
	s, ok := e.(*StringLit)
	return ok && s.Value == ""
}

// exprFilter translates a boolean expression into a LogsQL filter.
func exprFilter(e Expression) (string, bool) {
	switch n := e.(type) {
	case *BinaryExpr:
		switch n.Op {
		case "and", "or":
			l, ok := exprFilter(n.L)
			if !ok {
				return "", false
			}
			r, ok := exprFilter(n.R)
			if !ok {
				return "", false
			}
			if n.Op == "and" {
				return "(" + l + " " + r + ")", true
			}
			return "(" + l + " or " + r + ")", true
		case "=", "!=":
			f, lit, ok := fieldAndLiteral(n)
			if !ok {
				return "", false
			}
			if isEmptyString(lit) {
				if n.Op == "=" {
					return emptyFilter(f), true
				}
				return nonEmptyFilter(f), true
			}
			text, ok := textLiteral(lit)
			if !ok {
				return "", false
			}
			if n.Op == "=" {
				return f + ":=" + strconv.Quote(text), true
			}
			return "(" + nonEmptyFilter(f) + " !" + f + ":=" + strconv.Quote(text) + ")", true
		}
	case *UnaryExpr:
		if n.Op != "!" {
			return "", false
		}
		x, ok := exprFilter(n.X)
		if !ok {
			return "", false
		}
		return "!" + x, true
	case *CallExpr:
		switch n.Name {
		case "isNull", "isEmpty":
			if f, ok := pushableField(n.Args[0]); ok {
				return emptyFilter(f), true
			}
		}
	case *InExpr:
		f, ok := pushableField(n.X)
		if !ok {
			return "", false
		}
		vals := make([]string, len(n.Values))
		for i, v := range n.Values {
			text, ok := textLiteral(v)
			if !ok {
				return "", false
			}
			vals[i] = strconv.Quote(text)
		}
		return f + ":in(" + strings.Join(vals, ",") + ")", true
	case *MatchesExpr:
		f, ok := pushableField(n.X)
		if !ok {
			return "", false
		}
		switch p := n.Pattern.(type) {
		case *StringLit:
			if !strings.Contains(p.Value, "*") {
				if p.Value == "" {
					return "!*", true // null never matches; "" is null
				}
				if engineIntLike(p.Value) {
					return "", false
				}
				return f + ":=" + strconv.Quote(p.Value), true
			}
			if strings.Trim(p.Value, "*") == "" {
				return nonEmptyFilter(f), true
			}
			parts := strings.Split(p.Value, "*")
			for i, s := range parts {
				parts[i] = regexp.QuoteMeta(s)
			}
			re := "^" + strings.Join(parts, "(?s:.*)") + "$"
			return "(" + nonEmptyFilter(f) + " " + f + ":~" + strconv.Quote(re) + ")", true
		case *RegexLit:
			return "(" + nonEmptyFilter(f) + " " + f + ":~" + strconv.Quote(p.Pattern) + ")", true
		}
	case *BoolLit:
		if n.Value {
			return "*", true
		}
		return "!*", true
	}
	return "", false
}
