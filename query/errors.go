package query

import (
	"errors"
	"fmt"
)

// Pos is a position in the query text. Line and Column are 1-based; Column
// counts runes, not bytes. Offset is the byte offset.
type Pos struct {
	Offset int
	Line   int
	Column int
}

// String returns "line L, column C".
func (p Pos) String() string { return fmt.Sprintf("line %d, column %d", p.Line, p.Column) }

// IsValid reports whether the position was set.
func (p Pos) IsValid() bool { return p.Line > 0 }

// Error is a problem with the query text, at a position. It prints as
//
//	line 1, column 17: unknown operator "cout"; did you mean "count"?
type Error struct {
	Pos  Pos
	Msg  string
	Hint string // optional, printed after "; "
}

func (e *Error) Error() string {
	s := e.Msg
	if e.Pos.IsValid() {
		s = e.Pos.String() + ": " + s
	}
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

func errorf(pos Pos, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (e *Error) withHint(format string, args ...any) *Error {
	e.Hint = fmt.Sprintf(format, args...)
	return e
}

// AsError returns the *Error inside err, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Limits of the language (Sumo Logic's).
const (
	// MaxQueryLength is the longest query, in characters.
	MaxQueryLength = 15000
	// MaxTokenLength is the longest single term, string or field name, in
	// characters.
	MaxTokenLength = 2300
)

// ErrTooManyGroups is wrapped by the error an aggregate returns when it would
// produce more groups than its limit.
var ErrTooManyGroups = errors.New("too many groups")
