package logreduce

// The tokenizer turns one log line into a sequence of tokens and decides, for
// each token, whether it is a constant word or a variable. It works on bytes
// (any encoding, invalid UTF-8 included), never allocates, and bounds its
// work: the caller truncates the line, and at most maxTokens words are made.
//
// Words are the runs of bytes between white space. A word also ends after
// '|' (a field separator), after ',' or ';' followed by a key=value or a JSON
// key ("a=1,b=2", {"a":1,"b":2}), and after '{' or '[' followed by a JSON key
// or object. In the first headerWords words, a '[' word extends to its ']'
// ("[RMCommunicator Allocator]"); a key="quoted value" extends to its closing
// quote. A word keeps its wrapping punctuation (brackets, quotes, a trailing
// comma or colon) as literal text; the core inside is a variable when:
//
//   - it contains a decimal digit: a number, a hex id, an IP address, a
//     timestamp, a version, a UUID, a block or attempt id, a host name with a
//     number, a size, ...;
//   - it is a path or URL (starts with '/' or '~/', contains '\' or "://", or
//     has a '/' between names and a '.': "conf/app.yaml"), or an e-mail
//     address;
//   - it is the double-quoted value of a key=: tag="View Lock";
//   - it is longer than maxWordLen bytes (blobs: base64, tokens, hashes).
//
// Then, on the whole line: a month or weekday name next to another variable
// is part of a date; a unit after a number is part of the value ("384.0
// B"); and a run of variables with no constant text between them is one
// variable (a list of ids, a date and a time), whatever its length.
//
// A variable keeps the key in front of it when there is one ("uid=<*>",
// "LOGIN(uid=<*>)", "onExtend:<*>", "name":<*>), so that two messages that
// differ in which key holds a value stay apart.

const (
	maxWordLen  = 96 // longer words are variables (blobs)
	headerWords = 8  // bracketed fields are looked for in the first words
	maxSpanLen  = 256
)

// character classes
const (
	cSep   = 1 << iota // splits words
	cDigit             // 0-9
	cAlpha             // a-z A-Z
	cOpen              // leading wrapper
	cClose             // trailing wrapper
	cSplit             // ends a word, and stays at its end
	cQuote             // '"'
	cPathy             // may make a digit-free word a path or an address
)

var ctab = func() (t [256]uint8) {
	for _, c := range " \t\n\r\v\f" {
		t[c] |= cSep
	}
	for _, c := range ",;|{[" {
		t[c] |= cSplit
	}
	for c := '0'; c <= '9'; c++ {
		t[c] |= cDigit
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] |= cAlpha
		t[c-'a'+'A'] |= cAlpha
	}
	for _, c := range "([{<\"'`" {
		t[c] |= cOpen
	}
	for _, c := range ")]}>\"'`,;:.!?|" {
		t[c] |= cClose
	}
	t['"'] |= cQuote
	for _, c := range "/\\@:" {
		t[c] |= cPathy
	}
	return t
}()

// token is one word of a line. A literal's canonical text is
// line[start:end]; a variable's is line[start:pre] + "<*>" + line[post:end].
type token struct {
	start, end int32
	pre, post  int32
	isVar      bool
	glued      bool // no white space before it: "a,b", "x|y"
	hash       uint64
}

// tokenizer holds the reusable buffers of one Miner.
type tokenizer struct {
	toks      []token
	maxTokens int
}

// tokenize splits line into t.toks. line must already be truncated to the
// configured maximum.
func (t *tokenizer) tokenize(line string) []token {
	toks := t.toks[:0]
	n := len(line)
	i := 0
	for i < n {
		for i < n && ctab[line[i]]&cSep != 0 {
			i++
		}
		if i >= n {
			break
		}
		glued := i > 0 && ctab[line[i-1]]&cSep == 0
		j := i
		var fl uint8
		for j < n {
			c := ctab[line[j]]
			if c&cSep != 0 {
				break
			}
			fl |= c
			j++
			if c&cSplit != 0 && j < n && splitsAfter(line[j-1], line[j:]) {
				break // "a|b", "a=1,b=2", {"a":1,"b":2} are two words each
			}
		}
		if line[i] == '[' && len(toks) < headerWords {
			if k := bracketSpan(line, i, j); k != j {
				j, fl = k, fl|cDigit|cPathy|cQuote // classify it in full
			}
		}
		if fl&cQuote != 0 {
			if k := quoteSpan(line, i, j); k != j {
				j, fl = k, fl|cDigit|cPathy|cQuote
			}
		}
		if len(toks) == t.maxTokens-1 {
			// The rest of the line is one variable: bound the work per
			// line and the size of a template.
			toks = append(toks, token{start: int32(i), end: int32(n), pre: int32(i), post: int32(n), isVar: true, glued: glued})
			break
		}
		var tk token
		if fl&(cDigit|cPathy|cQuote) == 0 && j-i <= maxWordLen {
			tk = token{start: int32(i), end: int32(j)} // a plain word
		} else {
			tk = classify(line, i, j)
		}
		tk.glued = glued
		toks = append(toks, tk)
		i = j
	}
	markDateWords(line, toks)
	markUnits(line, toks)
	toks = joinRuns(toks)
	for k := range toks {
		toks[k].hash = tokenHash(line, &toks[k])
	}
	t.toks = toks
	return toks
}

// bracketSpan extends the word line[i:j], which starts with '[', to the
// matching ']' when the brackets hold several words: in the header of a line,
// "[RMCommunicator Allocator]" or "[req-1 - - -]" is one field (a thread, a
// request context), whatever its number of words.
func bracketSpan(line string, i, j int) int {
	for k := i + 1; k < j; k++ {
		if line[k] == ']' || line[k] == '[' {
			return j
		}
	}
	end := min(len(line), i+maxSpanLen)
	for k := j; k < end; k++ {
		switch line[k] {
		case '[':
			return j
		case ']':
			k++
			for k < len(line) && ctab[line[k]]&cSep == 0 && ctab[line[k]]&cClose != 0 {
				k++
			}
			return k
		}
	}
	return j
}

// quoteSpan extends the word line[i:j] to the closing quote when it is a
// key with a double-quoted value that holds white space: tag="View Lock".
func quoteSpan(line string, i, j int) int {
	k := keyEnd(line[i:j])
	if k == 0 || i+k >= j || line[i+k] != '"' {
		return j
	}
	for q := i + k + 1; q < j; q++ {
		if line[q] == '"' {
			return j // closed inside the word
		}
	}
	end := min(len(line), i+maxWordLen)
	for q := j; q < end; q++ {
		if line[q] == '"' {
			q++
			for q < len(line) && ctab[line[q]]&cSep == 0 && ctab[line[q]]&cClose != 0 {
				q++
			}
			return q
		}
	}
	return j
}

// classify builds the token for the word line[i:j].
func classify(line string, i, j int) token {
	tk := token{start: int32(i), end: int32(j)}
	if j-i > maxWordLen {
		tk.isVar, tk.pre, tk.post = true, int32(i), int32(j)
		a := i
		for a < j && ctab[line[a]]&cOpen != 0 {
			a++
		}
		if k := keyEnd(line[a:min(j, a+maxWordLen)]); k > 0 {
			tk.pre = int32(a + k)
		}
		return tk
	}
	a, b := i, j
	for a < b && ctab[line[a]]&cOpen != 0 {
		a++
	}
	for b > a && ctab[line[b-1]]&cClose != 0 {
		b--
	}
	if b-a > 1 && b < j && line[b-1] == '(' && line[b] == ')' {
		b-- // "init()": the call's brackets are not part of the name
	}
	if a == b {
		return tk
	}
	// key="quoted value": the value is free text
	if k := keyEnd(line[a:b]); k > 0 && a+k < b && line[a+k] == '"' && line[a+k-1] == '=' {
		tk.isVar, tk.pre, tk.post = true, int32(a+k+1), int32(b)
		return tk
	}
	// first digit of the core
	f := -1
	for k := a; k < b; k++ {
		if ctab[line[k]]&cDigit != 0 {
			f = k
			break
		}
	}
	if f < 0 {
		if isPathOrAddress(line[a:b]) {
			tk.isVar, tk.pre, tk.post = true, int32(a+keyEnd(line[a:b])), int32(b)
			if tk.pre+1 < tk.post && line[tk.pre] == '"' {
				tk.pre++
			}
		}
		return tk
	}
	// a sign belongs to the number: "blk_-69", "-1", "=+5"
	if f > a && (line[f-1] == '-' || line[f-1] == '+') && (f-1 == a || ctab[line[f-2]]&(cDigit|cAlpha) == 0) {
		f--
	}
	tk.isVar, tk.pre, tk.post = true, int32(a), int32(b)
	if k := keyEnd(line[a:f]); k > 0 {
		tk.pre = int32(a + k)
		if tk.pre+1 < tk.post && line[tk.pre] == '"' {
			tk.pre++ // "name":"value": the quote is not part of the value
		}
	}
	return tk
}

// keyEnd returns the length of the key in front of a value in w ("uid=",
// "onExtend:", "LOGIN(uid=", the name": of a JSON key whose opening quote
// was stripped), or 0 when w does not start with a key. A key starts with a
// letter, holds letters, digits and "_-.({", and ends with the last '=' or ':'
// of that run (not the ':' of "http://").
func keyEnd(w string) int {
	if len(w) == 0 || ctab[w[0]]&cAlpha == 0 {
		return 0
	}
	end := 0
	for k := 1; k < len(w); k++ {
		c := w[k]
		switch {
		case c == ':' && k+2 < len(w) && w[k+1] == '/' && w[k+2] == '/':
			return end // "http://": a scheme, not a key
		case c == '=' || c == ':':
			end = k + 1
		case c == '"' && k+1 < len(w) && w[k+1] == ':':
			return k + 2 // a JSON key: "name":
		case ctab[c]&(cAlpha|cDigit) != 0 || c == '_' || c == '-' || c == '.' || c == '(' || c == '{':
		default:
			return end
		}
	}
	return end
}

// splitsAfter reports whether a word ends after c, a split byte, when rest
// follows: always after '|' (a field separator); after ',' or ';' before a
// key=value or a JSON key; after '{' or '[' before a JSON key or object.
func splitsAfter(c byte, rest string) bool {
	r := rest[0]
	if ctab[r]&(cSep|cSplit) != 0 && r != '{' && r != '[' {
		return false
	}
	switch c {
	case '|':
		return true
	case ',', ';':
		return r == '"' || r == '{' || startsKeyValue(rest)
	default: // '{', '['
		return r == '"' || r == '{'
	}
}

// startsKeyValue reports whether s starts with "name=" or "name:".
func startsKeyValue(s string) bool {
	if len(s) > 64 {
		s = s[:64]
	}
	return keyEnd(s) > 0
}

// isPathOrAddress reports whether a digit-free word is a file path, a URL or
// an e-mail address.
func isPathOrAddress(w string) bool {
	if len(w) < 2 {
		return false
	}
	if w[0] == '/' || (w[0] == '~' && w[1] == '/') {
		// "/" alone or "//" are punctuation; a path has a name in it
		for k := 0; k < len(w); k++ {
			if ctab[w[k]]&cAlpha != 0 {
				return true
			}
		}
		return false
	}
	at, dot, anyDot, slash := -1, -1, false, false
	for k := 0; k < len(w); k++ {
		switch w[k] {
		case '\\':
			return true
		case ':':
			if k+2 < len(w) && w[k+1] == '/' && w[k+2] == '/' {
				return true
			}
		case '@':
			if at < 0 {
				at = k
			}
		case '.':
			anyDot = true
			if at >= 0 {
				dot = k
			}
		case '/':
			if k > 0 && k < len(w)-1 {
				slash = true
			}
		}
	}
	// a relative path with a file or package name: "conf/app.yaml",
	// "com.example.app/.MainActivity"
	if slash && anyDot {
		return true
	}
	return at > 0 && dot > at+1 && dot < len(w)-1
}

// joinRuns makes one variable of a run of variables that have no constant
// text between them: "blk_1 blk_2 blk_3", "Fri Jul  1 07:57:30 2005". A list
// of values is one value, whatever its length.
func joinRuns(toks []token) []token {
	out := toks[:0]
	for _, tk := range toks {
		if k := len(out) - 1; k >= 0 && tk.isVar && tk.pre == tk.start && out[k].isVar && out[k].post == out[k].end {
			out[k].end, out[k].post = tk.end, tk.post
			continue
		}
		out = append(out, tk)
	}
	return out
}

// markUnits turns a unit of measure that follows a number into part of the
// variable: "384.0 B" and "12.5 KB" are the same kind of value.
func markUnits(line string, toks []token) {
	for k := 1; k < len(toks); k++ {
		tk, prev := &toks[k], &toks[k-1]
		if tk.isVar || !prev.isVar || prev.post != prev.end || !isUnit(line[tk.start:tk.end]) {
			continue
		}
		tk.isVar, tk.pre, tk.post = true, tk.start, tk.end
		// keep a trailing comma or bracket literal
		for tk.post > tk.pre && ctab[line[tk.post-1]]&cClose != 0 {
			tk.post--
		}
	}
}

// isUnit reports whether w, without trailing punctuation, is a unit.
func isUnit(w string) bool {
	b := len(w)
	for b > 0 && ctab[w[b-1]]&cClose != 0 {
		b--
	}
	if b == 0 || b > 5 {
		return false
	}
	var buf [5]byte
	for k := 0; k < b; k++ {
		buf[k] = w[k] | 0x20
	}
	switch string(buf[:b]) {
	case "b", "kb", "mb", "gb", "tb", "pb", "kib", "mib", "gib", "tib", "bytes",
		"ns", "us", "ms", "s", "sec", "secs", "min", "mins", "h", "hrs",
		"%", "kbps", "mbps", "gbps", "hz", "khz", "mhz", "ghz":
		return true
	}
	return false
}

// markDateWords turns month and weekday names into variables when they stand
// next to another variable or date word: they are the words of a timestamp.
func markDateWords(line string, toks []token) {
	for k := range toks {
		tk := &toks[k]
		if tk.isVar || !isDateWord(line[tk.start:tk.end]) {
			continue
		}
		near := false
		for _, d := range [...]int{-2, -1, 1, 2} {
			o := k + d
			if o < 0 || o >= len(toks) {
				continue
			}
			if d == -2 || d == 2 {
				// two away only through another date word: "Sun Dec 04"
				m := k + d/2
				if !isDateWord(line[toks[m].start:toks[m].end]) {
					continue
				}
			}
			ot := &toks[o]
			if (ot.isVar && ot.pre == ot.start) || isDateWord(line[ot.start:ot.end]) {
				near = true
				break
			}
		}
		if near {
			tk.isVar, tk.pre, tk.post = true, tk.start, tk.end
		}
	}
}

// isDateWord reports whether w, without wrapping punctuation, is a month or
// weekday name (any case), AM/PM or UTC/GMT.
func isDateWord(w string) bool {
	a, b := 0, len(w)
	for a < b && ctab[w[a]]&cOpen != 0 {
		a++
	}
	for b > a && ctab[w[b-1]]&cClose != 0 {
		b--
	}
	if b-a < 2 || b-a > 9 {
		return false
	}
	var buf [9]byte
	for k := a; k < b; k++ {
		c := w[k]
		if ctab[c]&cAlpha == 0 {
			return false
		}
		buf[k-a] = c | 0x20
	}
	switch string(buf[:b-a]) {
	case "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
		"january", "february", "march", "april", "june", "july", "august", "september", "october", "november", "december",
		"mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun",
		"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
		"am", "pm", "utc", "gmt":
		return true
	}
	return false
}

// tokenHash hashes the canonical text of a token.
func tokenHash(line string, tk *token) uint64 {
	var h uint64
	if !tk.isVar {
		h = hashString(line[tk.start:tk.end], seedLit)
	} else {
		h = mix(hashString(line[tk.start:tk.pre], seedVarPre) ^ hashString(line[tk.post:tk.end], seedVarPost))
	}
	if tk.glued {
		h = mix(h ^ seedGlue)
	}
	return h
}

// text returns the canonical text of a token.
func (tk *token) text(line string) string {
	if !tk.isVar {
		return string(line[tk.start:tk.end])
	}
	return string(line[tk.start:tk.pre]) + Wildcard + string(line[tk.post:tk.end])
}
