package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// Multiline modes of an HTTP source.
const (
	MultilineAuto          = "auto"            // infer message boundaries (e.g. lines starting with a timestamp)
	MultilineOff           = "off"             // one message per line
	MultilineOnePerRequest = "one-per-request" // the whole request body is one message
	MultilineRegexPrefix   = "regex:"          // "regex:<re>": a new message starts at each line the regex matches
)

// SourceSpec describes an HTTP source to create.
type SourceSpec struct {
	Name     string            `json:"name"`
	Category string            `json:"category"`
	Host     string            `json:"host,omitempty"`
	Fields   map[string]string `json:"fields,omitempty"`
	// Multiline is one of MultilineAuto (the server's default), MultilineOff,
	// MultilineOnePerRequest or MultilineRegexPrefix followed by a regex.
	Multiline string `json:"multiline,omitempty"`
	// Timezone is the IANA zone for timestamps without one (server default UTC).
	Timezone string `json:"timezone,omitempty"`
}

// Source is an HTTP source as the server describes it.
type Source struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Category  string            `json:"category"`
	Host      string            `json:"host,omitempty"`
	Fields    map[string]string `json:"fields,omitempty"`
	Multiline string            `json:"multiline,omitempty"`
	Timezone  string            `json:"timezone,omitempty"`
	CreatedAt Timestamp         `json:"createdAt"`
	// URL is the absolute receiver URL, secret token included. The server
	// returns it (and Token) only when a source is created or its token is
	// regenerated; it is empty in lists.
	URL   string `json:"url,omitempty"`
	Token string `json:"token,omitempty"`
}

// CreateSource creates an HTTP source. The answer carries the receiver URL
// with its secret token.
func (c *Client) CreateSource(ctx context.Context, spec SourceSpec) (*Source, error) {
	if spec.Name == "" || spec.Category == "" {
		return nil, fmt.Errorf("create source: name and category are required")
	}
	var s Source
	if err := c.do(ctx, http.MethodPost, "/api/v1/sources", nil, spec, &s, http.StatusCreated, http.StatusOK); err != nil {
		return nil, fmt.Errorf("create source %q: %w", spec.Name, err)
	}
	return &s, nil
}

// ListSources returns every HTTP source (without URLs or tokens).
func (c *Client) ListSources(ctx context.Context) ([]Source, error) {
	var out struct {
		Sources []Source `json:"sources"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/sources", nil, nil, &out, http.StatusOK); err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	return out.Sources, nil
}

// GetSource returns one source (without URL or token).
func (c *Client) GetSource(ctx context.Context, id string) (*Source, error) {
	if id == "" {
		return nil, fmt.Errorf("get source: empty id")
	}
	var s Source
	if err := c.do(ctx, http.MethodGet, "/api/v1/sources/"+url.PathEscape(id), nil, nil, &s, http.StatusOK); err != nil {
		return nil, fmt.Errorf("get source %s: %w", id, err)
	}
	return &s, nil
}

// DeleteSource deletes a source; its token stops working at once.
func (c *Client) DeleteSource(ctx context.Context, id string) error {
	if id == "" {
		return fmt.Errorf("delete source: empty id")
	}
	if err := c.do(ctx, http.MethodDelete, "/api/v1/sources/"+url.PathEscape(id), nil, nil, nil, http.StatusOK, http.StatusNoContent); err != nil {
		return fmt.Errorf("delete source %s: %w", id, err)
	}
	return nil
}

// RegenerateToken mints a new token for a source and revokes the old one.
// The answer carries the new receiver URL.
func (c *Client) RegenerateToken(ctx context.Context, id string) (*Source, error) {
	if id == "" {
		return nil, fmt.Errorf("regenerate token: empty source id")
	}
	var s Source
	if err := c.do(ctx, http.MethodPost, "/api/v1/sources/"+url.PathEscape(id)+"/token", nil, nil, &s, http.StatusOK, http.StatusCreated); err != nil {
		return nil, fmt.Errorf("regenerate token of source %s: %w", id, err)
	}
	return &s, nil
}

// ParseFields parses a "k=v,k2=v2" list (the X-Sumo-Fields syntax). Spaces
// around keys and values are trimmed; empty items are skipped.
func ParseFields(s string) (map[string]string, error) {
	out := map[string]string{}
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, fmt.Errorf("fields %q: item %d (%q) is not key=value", s, i+1, item)
		}
		out[k] = v
	}
	return out, nil
}

// FormatFields writes fields as "k=v,k2=v2" with keys sorted.
func FormatFields(fields map[string]string) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + fields[k]
	}
	return strings.Join(parts, ",")
}
