package query

import (
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Numeric where prefilters. A numeric comparison "where num(f) > N" is not
// pushed down (expr_logsql.go says why: no LogsQL filter reproduces Go's
// rules for every value), so without help the engine sends every row to
// Go. The engine can still drop rows the Go where would drop anyway: a
// pushed plan whose Go part starts with such where stages asks the engine
// first for
//
//	filter (f:>N or !f:~"^(0|-?[1-9][0-9]{0,14})$")
//
// (likewise >=, <, <=), then runs the exact Go where on what is left. The
// filter keeps a superset of the rows the Go where keeps:
//
//   - a value of at most 15 digits, with an optional minus and no leading
//     zero, is the same integer for Go (ParseNumber: an exact int64) and for
//     the engine (tryParseUint64, no underscores or leading zero involved,
//     exact as a float64 below 2^53), and N is an integer below 10^15 in
//     magnitude, exact in both: the range filter decides such a value as Go
//     does;
//   - every other value (signs, fractions, exponents, spaces, hex, "1_000",
//     inf, nan, unit suffixes, IPs, timestamps, empty or missing; and a
//     value the regexp cannot see, such as a numerically encoded column in
//     a pipe) fails the regexp and is kept for Go to decide.
//
// Conjunctions ("a and b") give the conjunction of their parts' filters;
// any other condition gives none. TestWherePrefilterDifferential checks
// the rule on tricky values, stored and extracted.

// prefilterIntRegexp matches the values the engine and Go read as the same
// integer.
const prefilterIntRegexp = `^(0|-?[1-9][0-9]{0,14})$`

var prefilterIntRe = regexp.MustCompile(prefilterIntRegexp)

// wherePrefilter returns a LogsQL filter keeping a superset of the rows
// cond keeps, or "" for none.
func wherePrefilter(cond Expression) string {
	switch n := cond.(type) {
	case *BinaryExpr:
		if n.Op == "and" {
			l, r := wherePrefilter(n.L), wherePrefilter(n.R)
			switch {
			case l == "":
				return r
			case r == "":
				return l
			}
			return l + " " + r
		}
		f, op, lit, ok := numComparison(n)
		if !ok {
			return ""
		}
		q := logsQLString(storageField(f))
		return "(" + q + ":" + op + lit + " or !" + q + ":~" + logsQLString(prefilterIntRegexp) + ")"
	}
	return ""
}

// numComparison returns the parts of num(f) <op> N (or N <op> num(f),
// mirrored), op one of >, >=, <, <= and N as intLiteral gives it.
func numComparison(n *BinaryExpr) (f, op, lit string, ok bool) {
	op = n.Op
	f, okF := numField(n.L)
	lit, okN := intLiteral(n.R)
	if !okF || !okN {
		// N op num(f): mirror it.
		f, okF = numField(n.R)
		lit, okN = intLiteral(n.L)
		op = map[string]string{">": "<", ">=": "<=", "<": ">", "<=": ">="}[op]
	}
	if !okF || !okN {
		return "", "", "", false
	}
	switch op {
	case ">", ">=", "<", "<=":
		return f, op, lit, true
	}
	return "", "", "", false
}

// numField returns f of num(f), for a field holding text of the engine's
// columns: a custom field or one an earlier stage made (not a built-in,
// which the engine may keep differently from the text Go reads).
func numField(e Expression) (string, bool) {
	c, ok := e.(*CallExpr)
	if !ok || !strings.EqualFold(c.Name, "num") || len(c.Args) != 1 {
		return "", false
	}
	f, ok := c.Args[0].(*FieldExpr)
	if !ok || f.Param || strings.HasPrefix(f.Name, "_") || lookupBuiltin(f.Name) != nil {
		return "", false
	}
	return f.Name, true
}

// intLiteral returns the text of an integer literal below 10^15 in
// magnitude (possibly negated), as LogsQL reads it.
func intLiteral(e Expression) (string, bool) {
	neg := false
	if u, ok := e.(*UnaryExpr); ok && u.Op == "-" {
		neg, e = true, u.X
	}
	n, ok := e.(*NumberLit)
	if !ok || !n.Int || math.Abs(n.Value) >= 1e15 || n.Value != math.Trunc(n.Value) {
		return "", false
	}
	v := int64(n.Value)
	if neg {
		v = -v
	}
	s := strconv.FormatInt(v, 10)
	if !prefilterIntRe.MatchString(s) {
		return "", false
	}
	return s, true
}

// prefilterPipe is the filter pipe of the where stages that start the Go
// part of a pushed plan's messages, or "".
func (p *Plan) prefilterPipe() string {
	if !p.opts.PushDown || !p.scopePushed || len(p.virtualSteps(p.pushed)) > 0 {
		// A fused timeslice's field is made in Go, not an engine column.
		return ""
	}
	var conds []string
	for i := p.pushed; i < p.messageSteps(); i++ {
		w, ok := p.steps[i].stage.(*WhereStage)
		if !ok {
			break
		}
		if f := wherePrefilter(w.Cond); f != "" {
			conds = append(conds, f)
		}
	}
	if len(conds) == 0 {
		return ""
	}
	return " | filter " + strings.Join(conds, " ")
}
