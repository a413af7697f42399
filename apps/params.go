package apps

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Install-time parameters are written ${name} inside any string of an app
// file. In a query (a JSON string under a key named "query", or whose name
// ends in "Query" or "queryString") the value is substituted for the query
// language:
//
//   - inside a quoted string ("..." or '...') it is escaped (" or ' and \);
//   - standing alone as a term (_sourceCategory=${category}) it is written
//     as is when it only holds term characters (letters, digits and
//     _ - . / : * @ + #), else as a double-quoted string;
//   - inside a longer term (prod/${env}/web) it must only hold term
//     characters, else it is an error.
//
// In every other string the value replaces ${name} as is. {{name}} stays
// reserved for dashboard template variables, substituted when a panel
// runs. "$${" writes a literal "${".

// substituteText replaces ${name} in a plain string.
func substituteText(s string, values map[string]string) (string, error) {
	return scanParams(s, values, func(_ int, name, v string) (string, error) { return v, nil })
}

// substituteQuery replaces ${name} in a query.
func substituteQuery(s string, values map[string]string) (string, error) {
	// Find which bytes are inside quoted strings.
	quote := make([]byte, len(s)) // the quote character enclosing byte i, or 0
	var in byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if in != 0 {
			quote[i] = in
			if c == '\\' && i+1 < len(s) {
				i++
				quote[i] = in
				continue
			}
			if c == in {
				in = 0
				quote[i] = 0
			}
			continue
		}
		if c == '"' || c == '\'' {
			in = c
		}
	}
	return scanParams(s, values, func(at int, name, v string) (string, error) {
		if q := quote[at]; q != 0 {
			return escapeIn(v, q), nil
		}
		end := at + len(name) + 3
		standalone := (at == 0 || isTermDelimiter(s[at-1])) && (end >= len(s) || isTermDelimiter(s[end]))
		if safeTerm(v) {
			return v, nil
		}
		if standalone {
			return `"` + escapeIn(v, '"') + `"`, nil
		}
		return "", fmt.Errorf("the value %q of ${%s} cannot be part of the term around it: it may only hold letters, digits and _ - . / : * @ + #", v, name)
	})
}

// scanParams calls render for each ${name} of s (at is its byte offset).
func scanParams(s string, values map[string]string, render func(at int, name, v string) (string, error)) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '$' && strings.HasPrefix(s[i:], "$${") {
			b.WriteString("${")
			i += 2
			continue
		}
		if s[i] != '$' || !strings.HasPrefix(s[i:], "${") {
			b.WriteByte(s[i])
			continue
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("unterminated ${ at byte %d", i)
		}
		name := s[i+2 : i+j]
		v, ok := values[name]
		if !ok {
			return "", fmt.Errorf("unknown parameter ${%s}", name)
		}
		out, err := render(i, name, v)
		if err != nil {
			return "", err
		}
		b.WriteString(out)
		i += j
	}
	return b.String(), nil
}

func isTermDelimiter(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', '|', '(', ')', ',', '=', '!', '<', '>', '"', '\'':
		return true
	}
	return false
}

func safeTerm(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_-./:*@+#", c) >= 0) {
			return false
		}
	}
	return true
}

func escapeIn(v string, q byte) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == q || v[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// isQueryKey reports whether a JSON key holds a query.
func isQueryKey(k string) bool {
	return k == "query" || k == "queryString" || strings.HasSuffix(k, "Query")
}

// substituteJSON substitutes the parameters in every string of a JSON
// document (queries as queries) and returns the document re-encoded.
func substituteJSON(data []byte, values map[string]string) ([]byte, error) {
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	out, err := walk(doc, "", values)
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

func walk(v any, key string, values map[string]string) (any, error) {
	switch x := v.(type) {
	case string:
		var s string
		var err error
		if isQueryKey(key) {
			s, err = substituteQuery(x, values)
		} else {
			s, err = substituteText(x, values)
		}
		if err != nil {
			if key != "" {
				return nil, fmt.Errorf("%q: %w", key, err)
			}
			return nil, err
		}
		return s, nil
	case map[string]any:
		for k, e := range x {
			nv, err := walk(e, k, values)
			if err != nil {
				return nil, err
			}
			x[k] = nv
		}
		return x, nil
	case []any:
		for i, e := range x {
			nv, err := walk(e, key, values)
			if err != nil {
				return nil, err
			}
			x[i] = nv
		}
		return x, nil
	}
	return v, nil
}
