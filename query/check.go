package query

// CheckResult is the outcome of checking one query without running it.
type CheckResult struct {
	// Query is the text that was checked.
	Query string
	// Err is the first problem, with its line and column; nil when the
	// query is valid.
	Err *Error
	// Canonical is the query in canonical form, when it parses.
	Canonical string
	// Params are the template parameters the query uses, in order of first
	// use.
	Params []string
	// Aggregate reports whether the query produces records.
	Aggregate bool
}

// OK reports whether the query is valid.
func (r CheckResult) OK() bool { return r.Err == nil }

// Check parses a query, accepting {{template parameters}}, and when it has
// none also plans it, reporting the first problem. It powers
// "dohyo query check" for saved searches and dashboard panels.
func Check(text string) CheckResult {
	res := CheckResult{Query: text}
	q, err := parse(text, ParseOptions{AllowParams: true})
	if err != nil {
		res.Err = err
		return res
	}
	res.Canonical = q.String()
	res.Aggregate = q.IsAggregate()
	res.Params = queryParams(text)
	if len(res.Params) == 0 {
		if _, err := compile(q, CompileOptions{PushDown: true}); err != nil {
			res.Err = err
		}
	}
	return res
}

// CheckAll checks several queries (the panels of a dashboard).
func CheckAll(texts ...string) []CheckResult {
	out := make([]CheckResult, len(texts))
	for i, t := range texts {
		out[i] = Check(t)
	}
	return out
}
