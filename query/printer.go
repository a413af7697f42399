package query

import "strings"

// The printer turns the AST back into canonical query text: keywords AND
// (juxtaposition), OR and NOT in upper case, parentheses only where
// precedence needs them, field names in their canonical spelling, phrases
// and quoted values with \" and \\ escapes, stages separated by " | ".
// Parsing the printed text gives the same AST (positions aside), and
// printing is idempotent; parse_test.go and fuzz_test.go check both.

// String returns the canonical text of the query.
func (q *Query) String() string {
	var b strings.Builder
	if q.Scope == nil {
		b.WriteString("*")
	} else {
		b.WriteString(q.Scope.String())
	}
	for _, s := range q.Stages {
		b.WriteString(" | ")
		b.WriteString(s.String())
	}
	return b.String()
}

func (n *And) String() string {
	parts := make([]string, len(n.Terms))
	for i, t := range n.Terms {
		switch t.(type) {
		case *Or, *And:
			parts[i] = "(" + t.String() + ")"
		default:
			parts[i] = t.String()
		}
	}
	return strings.Join(parts, " ")
}

func (n *Or) String() string {
	parts := make([]string, len(n.Terms))
	for i, t := range n.Terms {
		if _, ok := t.(*Or); ok {
			parts[i] = "(" + t.String() + ")"
		} else {
			parts[i] = t.String()
		}
	}
	return strings.Join(parts, " OR ")
}

func (n *Not) String() string {
	switch n.Term.(type) {
	case *And, *Or:
		return "NOT (" + n.Term.String() + ")"
	}
	return "NOT " + n.Term.String()
}

func (n *Keyword) String() string { return n.Text }

func (n *Phrase) String() string { return quoteString(n.Text) }

func (n *FieldMatch) String() string {
	var b strings.Builder
	if n.HasParam && strings.Contains(n.Field, "{{") {
		b.WriteString(n.Field)
	} else {
		b.WriteString(fieldText(n.Field))
	}
	if n.Negated {
		b.WriteString("!=")
	} else {
		b.WriteString("=")
	}
	if n.Quoted {
		b.WriteString(quoteString(n.Value))
	} else {
		b.WriteString(n.Value)
	}
	return b.String()
}

func (n *All) String() string { return "*" }

// String returns the field's canonical text.
func (f FieldRef) String() string {
	if f.Param {
		return f.Name
	}
	return fieldText(f.Name)
}
