package query

import (
	"regexp"
	"strings"
)

// Support for checking many queries at once ("dohyo query check", the
// corpus test): reading a file of queries and grouping errors into kinds.

// QueryText is one query of a file of queries.
type QueryText struct {
	// Line is the line of the file the query starts on (1-based).
	Line int
	Text string
}

// SplitQueries splits a file of queries: queries are separated by blank
// lines (lines holding only spaces), and a query may span several lines.
// Blocks whose every line starts with "#" are comments about the file, not
// queries (Sumo's language has no "#" comments; inside a query, comments
// are // and /* */). Line ends may be \n or \r\n.
func SplitQueries(text string) []QueryText {
	var out []QueryText
	var cur []string
	start := 0
	flush := func() {
		if len(cur) == 0 {
			return
		}
		comment := true
		for _, l := range cur {
			if !strings.HasPrefix(strings.TrimSpace(l), "#") {
				comment = false
				break
			}
		}
		if !comment {
			out = append(out, QueryText{Line: start, Text: strings.Join(cur, "\n")})
		}
		cur = nil
	}
	for i, l := range strings.Split(text, "\n") {
		l = strings.TrimSuffix(l, "\r")
		if strings.TrimSpace(l) == "" {
			flush()
			continue
		}
		if len(cur) == 0 {
			start = i + 1
		}
		cur = append(cur, l)
	}
	flush()
	return out
}

// Error kinds (ErrorKind).
const (
	KindUnknownOperator = "unknown operator"
	KindUnknownFunction = "unknown function"
	KindUnknownField    = "unknown field"
	KindParam           = "template parameter"
	KindSyntax          = "syntax"
	KindInvalid         = "invalid"
	// KindNotSupported prefixes the kinds of what dohyo does not support
	// yet: "not supported yet: parse".
	KindNotSupported = "not supported yet"
)

var (
	reUnsupportedOp   = regexp.MustCompile(`^operator "([^"]+)" is not supported yet`)
	reUnsupportedFunc = regexp.MustCompile(`^function "([^"]+)" is not supported yet`)
	reNotSupported    = regexp.MustCompile(`^(.*?)\s+(?:is|are)\s+not supported(?: yet)?\b`)
	reParens          = regexp.MustCompile(`\s*\([^)]*\)`)
	reQuoted          = regexp.MustCompile(`"[^"]*"`)
)

// ErrorKind groups a query error into a kind for summaries, and names the
// unsupported operator or function ("parse", "concat()") when that is the
// problem:
//
//   - "not supported yet: <operator>" for an operator dohyo does not have
//     yet, "not supported yet: <function>()" for a function, and
//     "not supported yet: <what>" for other unsupported features;
//   - "unknown operator", "unknown function", "unknown field";
//   - "template parameter" for a {{parameter}} where none may stand;
//   - "syntax" for what the parser or lexer rejects;
//   - "invalid" for the rest (a query that parses but means nothing, such
//     as a group-by field that the count also names).
func ErrorKind(e *Error) (kind, unsupported string) {
	msg := e.Msg
	if m := reUnsupportedOp.FindStringSubmatch(msg); m != nil {
		return KindNotSupported + ": " + m[1], m[1]
	}
	if m := reUnsupportedFunc.FindStringSubmatch(msg); m != nil {
		return KindNotSupported + ": " + m[1] + "()", m[1] + "()"
	}
	if strings.HasPrefix(msg, "expression stages") && strings.Contains(msg, "not supported") {
		return KindNotSupported + ": expression stage", "<expression> as <field>"
	}
	if m := reNotSupported.FindStringSubmatch(msg); m != nil {
		what := reParens.ReplaceAllString(m[1], "")
		what = reQuoted.ReplaceAllStringFunc(what, func(q string) string { return strings.Trim(q, `"`) })
		return KindNotSupported + ": " + strings.TrimSpace(what), ""
	}
	switch {
	case strings.HasPrefix(msg, "unknown operator"):
		return KindUnknownOperator, ""
	case strings.HasPrefix(msg, "unknown function"):
		return KindUnknownFunction, ""
	case strings.Contains(msg, "template parameter"):
		return KindParam, ""
	case strings.HasPrefix(msg, "unknown built-in field"), strings.Contains(msg, "does not exist after the aggregate"):
		return KindUnknownField, ""
	case strings.HasPrefix(msg, "expected "), strings.HasPrefix(msg, "unexpected "), strings.HasPrefix(msg, "missing "),
		strings.HasPrefix(msg, "unterminated "), strings.HasPrefix(msg, "empty "), strings.HasPrefix(msg, "invalid UTF-8"),
		strings.Contains(msg, ", found "), strings.HasPrefix(msg, "invalid field name"):
		return KindSyntax, ""
	}
	return KindInvalid, ""
}
