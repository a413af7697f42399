package query

import (
	"fmt"
	"sort"
	"strings"
)

// operatorNames are the pipeline operators of the Sumo query language
// (spec §3–§10), lower-cased. Those with a registered stage parser are
// implemented; the others parse far enough to say "not supported yet".
var operatorNames = []string{
	// parsing
	"parse", "extract", "json", "keyvalue", "kv", "csv", "split", "xml",
	// filtering
	"where", "filter",
	// aggregates
	"count", "count_distinct", "count_frequent", "sum", "avg", "min", "max",
	"pct", "median", "stddev", "first", "last", "most_recent", "least_recent",
	"values", "pct_sampling", "topk",
	// time and shaping
	"timeslice", "transpose", "bin", "fields", "sort", "order", "limit", "top",
	"dedup", "accum", "diff", "total", "rollingstd", "smooth", "backshift",
	"fillmissing", "sessionize", "transactionize", "merge", "trace",
	// enrichment, saving, multi-stream
	"lookup", "geoip", "threatip", "threatlookup", "save", "join", "cat", "details",
	// analytics
	"compare", "outlier", "predict", "logreduce", "summarize", "logcompare", "logexplain",
}

// aggregateNames are the operators that turn messages into records.
var aggregateNames = map[string]bool{
	"count": true, "count_distinct": true, "count_frequent": true, "sum": true,
	"avg": true, "min": true, "max": true, "pct": true, "median": true,
	"stddev": true, "first": true, "last": true, "most_recent": true,
	"least_recent": true, "values": true, "pct_sampling": true, "topk": true,
}

// functionNames are the functions of §2, §4 and §7 that may also start a
// stage ("| concat(a, b) as k").
var functionNames = []string{
	"if", "isnull", "isempty", "isblank", "isnumeric", "isvalidip", "isvalidipv4",
	"isvalidipv6", "isprivateip", "ispublicip", "isreservedip", "ipv4tonumber",
	"compareCIDRPrefix", "getCIDRPrefix", "maskFromCIDR", "contains", "matches",
	"concat", "format", "length", "substring", "tolowercase", "touppercase",
	"trim", "replace", "indexof", "urlencode", "urldecode", "base64encode",
	"base64decode", "hextoascii", "hextodec", "dectohex", "hash", "luhn", "tourl",
	"jsonarraycontains", "jsonarraysize", "num", "tolong", "todouble", "tostring",
	"round", "abs", "ceil", "floor", "sqrt", "cbrt", "exp", "expm1", "log",
	"log10", "log1p", "sin", "cos", "tan", "asin", "acos", "atan", "atan2",
	"sinh", "cosh", "tanh", "todegrees", "toradians", "hypot", "isnan",
	"isinfinity", "now", "querystarttime", "queryendtime", "querytimerange",
	"formatdate", "parsedate", "parsehex", "lookupcontains",
}

var (
	operatorSet = toSet(operatorNames)
	functionSet = toSet(functionNames)
)

func toSet(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[strings.ToLower(n)] = true
	}
	return m
}

// suggest returns the candidate closest to word by edit distance, when it is
// close enough to be a likely typo, else "".
func suggest(word string, candidates []string) string {
	word = strings.ToLower(word)
	best, bestD := "", -1
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	for _, c := range sorted {
		d := editDistance(word, strings.ToLower(c))
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	limit := 1
	if n := runeLen(word); n >= 5 {
		limit = 2
	}
	if n := runeLen(word); n >= 9 {
		limit = 3
	}
	if bestD < 0 || bestD > limit || bestD == runeLen(word) {
		return ""
	}
	return best
}

// didYouMean formats a suggestion hint, or returns "".
func didYouMean(word string, candidates []string) string {
	if s := suggest(word, candidates); s != "" {
		return fmt.Sprintf("did you mean %q?", s)
	}
	return ""
}

// editDistance is the Damerau–Levenshtein distance (with adjacent
// transpositions) between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	n, m := len(ra), len(rb)
	// Three rows: i-2, i-1, i.
	prev2 := make([]int, m+1)
	prev := make([]int, m+1)
	cur := make([]int, m+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= n; i++ {
		cur[0] = i
		for j := 1; j <= m; j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[m]
}
