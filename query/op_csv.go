package query

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// The csv operator (spec §3.5):
//
//	csv [<field> | field=<f>] [delim='<c>'] [escape='<c>'] [quote='<c>'] extract <columns> [nodrop]
//
// where <columns> lists "<n> as <name>" (1-based column n), "<name>" (the
// next column) or "_" (skip the next column), separated by commas:
// "extract 1 as a, 3 as b", "extract a, _, b", "extract a, 5 as e, f" (f is
// column 6). The field is _raw when none is given (Sumo requires it; both
// spellings are accepted). split (op_split.go) is the same operator for
// other delimited formats, with the same defaults.
//
// The text is cut into columns at each delimiter (default ","):
//
//   - a quote (default ") starts a quoted part wherever it appears; inside
//     it delimiters are literal, a doubled quote is one quote, and the next
//     quote ends it; the quotes are not part of the value;
//   - the escape character (default \) makes the next character literal,
//     inside or outside quotes;
//   - values are not trimmed; an empty column is null; an empty text has
//     no columns.
//
// Options are single characters (\t, \n and \r name tab, newline and
// carriage return), all different. Without nodrop a message with fewer
// columns than the highest one extracted is dropped [our choice: Sumo
// leaves it open]; with nodrop it is kept and the missing columns are null.
//
// # Push-down
//
// None: the engine's split and extract pipes do not honour quotes and
// escapes; the operator runs in Go.

func init() { registerStage("csv", (*parser).parseCSVStage) }

// DelimitedStage is a csv or split stage.
type DelimitedStage struct {
	Pos Pos
	// Keyword is "csv" or "split".
	Keyword string
	// Field is the parsed field; nil means _raw. FieldOption records
	// whether it was written field=<f> rather than as a bare name.
	Field       *FieldRef
	FieldOption bool
	// Delim, Escape and Quote are the options given ("" = default).
	Delim, Escape, Quote string
	Columns              []DelimitedColumn
	NoDrop               bool
}

// DelimitedColumn is one item of "extract": Index > 0 when written
// "<n> as <name>"; Name "_" skips a column.
type DelimitedColumn struct {
	Index int
	Name  FieldRef
}

// Position implements Node.
func (s *DelimitedStage) Position() Pos { return s.Pos }

// Name implements Stage.
func (s *DelimitedStage) Name() string { return s.Keyword }

func (s *DelimitedStage) aggregate() bool { return false }

func (s *DelimitedStage) walkFields(fn func(FieldRef)) {
	if s.Field != nil {
		fn(*s.Field)
	}
	for _, c := range s.Columns {
		if c.Name.Name != "_" {
			fn(c.Name)
		}
	}
}

// String implements Node.
func (s *DelimitedStage) String() string {
	var b strings.Builder
	b.WriteString(s.Keyword)
	if s.Field != nil {
		if s.FieldOption {
			b.WriteString(" field=" + s.Field.String())
		} else {
			b.WriteString(" " + s.Field.String())
		}
	}
	for _, o := range []struct{ name, v string }{{"delim", s.Delim}, {"escape", s.Escape}, {"quote", s.Quote}} {
		if o.v != "" {
			b.WriteString(" " + o.name + "=" + quoteOptionChar(o.v))
		}
	}
	b.WriteString(" extract ")
	for i, c := range s.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		if c.Index > 0 {
			b.WriteString(strconv.Itoa(c.Index) + " as ")
		}
		b.WriteString(c.Name.String())
	}
	if s.NoDrop {
		b.WriteString(" nodrop")
	}
	return b.String()
}

// quoteOptionChar writes an option character in single quotes.
func quoteOptionChar(c string) string {
	switch c {
	case "\t":
		return `'\t'`
	case "\n":
		return `'\n'`
	case "\r":
		return `'\r'`
	case "'":
		return `'\''`
	case `\`:
		return `'\\'`
	}
	return "'" + c + "'"
}

func (p *parser) parseCSVStage() (Stage, *Error) { return p.parseDelimitedStage("csv") }

// parseDelimitedStage parses csv and split.
func (p *parser) parseDelimitedStage(op string) (Stage, *Error) {
	st := &DelimitedStage{Pos: p.tok.pos, Keyword: op}
	p.advance()
	if ok, err := p.parseFieldOption(op, &st.Field); err != nil {
		return nil, err
	} else if ok {
		st.FieldOption = true
	} else if !p.isWord("extract") && !isDelimitedOption(p) && (p.tok.typ == tokTerm || p.tok.typ == tokField || p.tok.typ == tokParam) {
		f, err := p.parseFieldRef("to " + op)
		if err != nil {
			return nil, err
		}
		st.Field = &f
	}
	for isDelimitedOption(p) {
		name := strings.ToLower(p.tok.text)
		p.advance()
		if p.tok.typ != tokEq {
			return nil, p.fail(`expected "=" after %s`, name)
		}
		p.advance()
		t := p.tok
		if t.typ != tokString {
			return nil, p.fail("expected a character in quotes after %s=", name)
		}
		c := unescapeDelimiter(t.val)
		if utf8.RuneCountInString(c) != 1 {
			return nil, errorf(t.pos, "%s must be one character, not %s", name, quoteString(t.val))
		}
		dst := map[string]*string{"delim": &st.Delim, "escape": &st.Escape, "quote": &st.Quote}[name]
		if *dst != "" {
			return nil, errorf(t.pos, "%s: %s is given twice", op, name)
		}
		*dst = c
		p.advance()
		if p.tok.typ == tokComma {
			p.advance()
		}
	}
	delim, escape, quote := st.chars()
	if delim == escape || delim == quote || escape == quote {
		return nil, errorf(st.Pos, "%s: the delimiter, escape and quote characters must all be different", op)
	}
	if !p.isWord("extract") {
		return nil, p.fail(`expected "extract" and the columns to extract`)
	}
	p.advance()
	seen := map[string]bool{}
	maxCol := 0
	next := 1
	for {
		col := DelimitedColumn{}
		if p.tok.typ == tokNumber {
			t := p.tok
			n, err := strconv.Atoi(t.text)
			if err != nil || n < 1 || n > 10000 {
				return nil, errorf(t.pos, "column numbers start at 1 (got %s)", t.text)
			}
			p.advance()
			if !p.isWord("as") {
				return nil, p.fail(`expected "as" after the column number`)
			}
			p.advance()
			col.Index, next = n, n
		}
		f, err := p.parseOutputName(op, true)
		if err != nil {
			return nil, err
		}
		if f.Name != "_" {
			if seen[f.Name] {
				return nil, errorf(f.Pos, "field %s is named twice in %s", f.String(), op)
			}
			seen[f.Name] = true
		}
		col.Name = f
		st.Columns = append(st.Columns, col)
		maxCol = max(maxCol, next)
		next++
		if p.tok.typ != tokComma {
			break
		}
		p.advance()
	}
	if len(seen) == 0 {
		return nil, errorf(st.Pos, "%s extracts nothing: every column is skipped", op)
	}
	if err := p.parseStageOptions(op, &optionWord{"nodrop", &st.NoDrop}); err != nil {
		return nil, err
	}
	if err := p.expectStageEnd(op); err != nil {
		return nil, err
	}
	return st, nil
}

func isDelimitedOption(p *parser) bool {
	return p.isWord("delim") || p.isWord("escape") || p.isWord("quote")
}

// chars returns the delimiter, escape and quote characters in effect.
func (s *DelimitedStage) chars() (delim, escape, quote string) {
	delim, escape, quote = ",", `\`, `"`
	if s.Delim != "" {
		delim = s.Delim
	}
	if s.Escape != "" {
		escape = s.Escape
	}
	if s.Quote != "" {
		quote = s.Quote
	}
	return
}

// positions returns the 1-based column of each named output, in order.
func (s *DelimitedStage) positions() (names []string, cols []int) {
	next := 1
	for _, c := range s.Columns {
		if c.Index > 0 {
			next = c.Index
		}
		if c.Name.Name != "_" {
			names = append(names, c.Name.Name)
			cols = append(cols, next)
		}
		next++
	}
	return
}

func (s *DelimitedStage) compile(c *compiler, in *schema) (stageImpl, *Error) {
	names, cols := s.positions()
	x, err := compileExtraction(c, in, s.Keyword, s.String(), s.Field, s.Pos, names)
	if err != nil {
		return nil, err
	}
	x.nodrop = s.NoDrop
	d, e, q := s.chars()
	impl := &delimitedImpl{extraction: x, cols: cols}
	impl.delim, _ = utf8.DecodeRuneInString(d)
	impl.escape, _ = utf8.DecodeRuneInString(e)
	impl.quote, _ = utf8.DecodeRuneInString(q)
	for _, n := range cols {
		impl.maxCol = max(impl.maxCol, n)
	}
	return impl, nil
}

type delimitedImpl struct {
	*extraction
	cols                 []int
	maxCol               int
	delim, escape, quote rune
}

func (c *delimitedImpl) explain() string              { return c.text }
func (c *delimitedImpl) logsQL(string) (string, bool) { return "", false }

func (c *delimitedImpl) newOperator(next rowSink) rowSink {
	var cols []string
	return newExtractOp(c.extraction, func(s string, _ Row, vals []string) bool {
		cols = c.split(s, cols[:0])
		for i, n := range c.cols {
			if n <= len(cols) {
				vals[i] = cols[n-1]
			}
		}
		return len(cols) >= c.maxCol || c.nodrop // nodrop keeps the columns found
	}, next)
}

// split cuts s into columns, stopping after the last column extracted.
func (c *delimitedImpl) split(s string, out []string) []string {
	if s == "" {
		return out
	}
	var b strings.Builder
	inQuote := false
	plain := true // the column so far is s[start:i], unchanged
	start := 0
	flush := func(end int) {
		if plain {
			out = append(out, s[start:end])
		} else {
			out = append(out, b.String())
		}
		b.Reset()
		plain = true
	}
	toBuilder := func(i int) {
		if plain {
			b.WriteString(s[start:i])
			plain = false
		}
	}
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == c.escape:
			toBuilder(i)
			i += w
			if i < len(s) {
				r2, w2 := utf8.DecodeRuneInString(s[i:])
				b.WriteRune(r2)
				i += w2
			}
			continue
		case r == c.quote:
			toBuilder(i)
			if inQuote {
				if r2, w2 := utf8.DecodeRuneInString(s[i+w:]); i+w < len(s) && r2 == c.quote {
					b.WriteRune(r)
					i += w + w2
					continue
				}
			}
			inQuote = !inQuote
			i += w
			continue
		case r == c.delim && !inQuote:
			flush(i)
			i += w
			start = i
			if len(out) >= c.maxCol {
				return out
			}
			continue
		}
		if !plain {
			b.WriteString(s[i : i+w])
		}
		i += w
	}
	flush(len(s))
	return out
}
