// Package client talks to a dohyo server over its HTTP API: sources (HTTP
// ingest endpoints and their tokens), search jobs (the Sumo Logic compatible
// Search Job API) and query explain. It also holds the Uploader, which sends
// events to an HTTP source's receiver URL in batches, and the credential
// resolution used by the dohyo command line.
//
// Every call takes a context; every error says which request failed and, for
// errors the server answered, carries the server's code and message as an
// *APIError (use errors.As).
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultAPIURL is where a locally started dohyo server listens.
const DefaultAPIURL = "http://127.0.0.1:9300"

// Client is a dohyo API client. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	accessID  string
	accessKey string
	http      *http.Client
	userAgent string

	// Search job polling: the first poll waits pollMin, later polls back off
	// to pollMax (which must stay well below the server's ~30 s keep-alive).
	pollMin, pollMax time.Duration
	// pageSize is the limit used when paging messages and records.
	pageSize int
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client send its requests with hc.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.http = hc
		}
	}
}

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// WithPollInterval sets how often Search polls a job's status: first after
// min, then backing off to at most max. max is capped at 5 s because the
// server cancels jobs that are not polled for about 30 s.
func WithPollInterval(min, max time.Duration) Option {
	return func(c *Client) {
		if min > 0 {
			c.pollMin = min
		}
		if max > 0 {
			c.pollMax = max
		}
	}
}

// WithPageSize sets the page size (offset/limit) used to fetch messages and
// records; the server allows at most 10,000.
func WithPageSize(n int) Option {
	return func(c *Client) {
		if n > 0 && n <= 10000 {
			c.pageSize = n
		}
	}
}

// New returns a client for the API at baseURL (for example
// "http://127.0.0.1:9300"), authenticating with HTTP Basic
// accessID:accessKey.
func New(baseURL, accessID, accessKey string, opts ...Option) (*Client, error) {
	if baseURL == "" {
		baseURL = DefaultAPIURL
	}
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("API URL %q: %w", baseURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("API URL %q: scheme must be http or https", baseURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("API URL %q: no host", baseURL)
	}
	c := &Client{
		base:      u,
		accessID:  accessID,
		accessKey: accessKey,
		http:      &http.Client{Timeout: 2 * time.Minute},
		userAgent: "dohyo-client",
		pollMin:   250 * time.Millisecond,
		pollMax:   2 * time.Second,
		pageSize:  10000,
	}
	for _, o := range opts {
		o(c)
	}
	if c.pollMax > 5*time.Second {
		c.pollMax = 5 * time.Second
	}
	if c.pollMin > c.pollMax {
		c.pollMin = c.pollMax
	}
	return c, nil
}

// BaseURL returns the API base URL the client talks to.
func (c *Client) BaseURL() string { return c.base.String() }

// APIError is an error answer of the server: the HTTP status and the JSON
// error envelope {"status","id","code","message"}.
type APIError struct {
	Method string // request method
	Path   string // request path (no secrets: API paths carry none)
	Status int    // HTTP status code
	ID     string // the server's error id, for its logs
	Code   string // dotted error code, e.g. "searchjob.parse.error"
	// Message is the server's description of what was wrong and where.
	Message string
}

func (e *APIError) Error() string {
	var b strings.Builder
	if e.Method != "" {
		fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
	}
	fmt.Fprintf(&b, "%d %s", e.Status, http.StatusText(e.Status))
	if e.Code != "" {
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	return b.String()
}

// IsNotFound reports whether err is an API answer 404.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// errorEnvelope is the JSON body of every error answer.
type errorEnvelope struct {
	Status  int    `json:"status"`
	ID      string `json:"id"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// parseErrorBody builds an APIError from an error answer. Bodies that are not
// the JSON envelope (a proxy's HTML page, plain text) become the message,
// shortened.
func parseErrorBody(status int, body []byte) *APIError {
	e := &APIError{Status: status}
	var env errorEnvelope
	if err := json.Unmarshal(body, &env); err == nil && (env.Code != "" || env.Message != "") {
		e.ID, e.Code, e.Message = env.ID, env.Code, env.Message
		return e
	}
	msg := strings.TrimSpace(string(body))
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	e.Message = msg
	return e
}

// maxResponseBytes bounds how much of an answer the client reads.
const maxResponseBytes = 512 << 20

// rawBody is a request body do sends as it is (a file upload), not as JSON.
type rawBody struct {
	r           io.Reader
	contentType string
}

// do sends one API request. in, when not nil, is sent as the JSON body (a
// rawBody as it is); out,
// when not nil, receives the JSON answer. Answers other than want become an
// *APIError.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any, want ...int) error {
	u := *c.base
	u.Path = strings.TrimRight(c.base.Path, "/") + path
	if query != nil {
		u.RawQuery = query.Encode()
	}
	var body io.Reader
	contentType := ""
	switch in := in.(type) {
	case nil:
	case rawBody:
		body, contentType = in.r, in.contentType
	default:
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: encode request: %w", method, path, err)
		}
		body, contentType = bytes.NewReader(b), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.SetBasicAuth(c.accessID, c.accessKey)
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	ok := false
	for _, w := range want {
		if resp.StatusCode == w {
			ok = true
		}
	}
	if len(want) == 0 {
		ok = resp.StatusCode >= 200 && resp.StatusCode < 300
	}
	if !ok {
		ae := parseErrorBody(resp.StatusCode, data)
		ae.Method, ae.Path = method, path
		return ae
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// Timestamp is a time the server sends either as an RFC 3339 string or as
// epoch milliseconds (a number or a string of digits).
type Timestamp struct{ time.Time }

// UnmarshalJSON accepts RFC 3339 strings, epoch milliseconds and null.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" || s == `""` {
		t.Time = time.Time{}
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return fmt.Errorf("timestamp %s: %w", s, err)
		}
		s = str
	}
	if ms, err := parseEpochMillis(s); err == nil {
		t.Time = time.UnixMilli(ms).UTC()
		return nil
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("timestamp %q: want RFC 3339 or epoch milliseconds: %w", s, err)
	}
	t.Time = v
	return nil
}

// MarshalJSON writes the time as RFC 3339 (null when zero).
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.Time.Format(time.RFC3339Nano))
}
