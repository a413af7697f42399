// Package clienttest is a fake dohyo server for tests of code that uses the
// client package: the sources API, the HTTP source receiver and the search
// job API, following the server's HTTP contract, on a loopback port.
package clienttest

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Source is a source as the fake stores it.
type Source struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Category  string            `json:"category"`
	Host      string            `json:"host"`
	Fields    map[string]string `json:"fields"`
	Multiline string            `json:"multiline"`
	Timezone  string            `json:"timezone"`
	CreatedAt time.Time         `json:"createdAt"`
	token     string
}

// Request is one accepted receiver request.
type Request struct {
	SourceID string
	Category string // X-Sumo-Category
	Name     string // X-Sumo-Name
	Host     string // X-Sumo-Host
	Fields   string // X-Sumo-Fields
	Encoding string // Content-Encoding
	Body     string // decompressed body
}

// Lines returns the non-empty lines of the body.
func (r Request) Lines() []string {
	var out []string
	for _, l := range strings.Split(r.Body, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// Job is a scripted search result.
type Job struct {
	// Gathering is the number of status polls answered GATHERING RESULTS
	// before DONE GATHERING RESULTS.
	Gathering int
	// Fields, Messages and Records are the results. A job with Records is
	// an aggregate; otherwise /records answers 400.
	Fields   []map[string]any
	Messages []map[string]string
	Records  []map[string]string
	// Error, when set, makes the creation fail with 400 and this
	// searchjob.parse.error message.
	Error string
}

// JobState is what the fake knows of a created job.
type JobState struct {
	Request map[string]any
	Polls   int
	Deleted bool
}

// Server is the fake. Its fields may be set before requests arrive.
type Server struct {
	*httptest.Server
	AccessID, AccessKey string

	// Receiver, when set, runs first for every receiver request with the
	// attempt number (from 1); returning true means it answered.
	Receiver func(w http.ResponseWriter, r *http.Request, attempt int) bool
	// Search scripts the results of a query; nil means no results.
	Search func(query string) Job
	// Explain answers /api/v1/query/explain; nil echoes a one-line plan.
	Explain func(query string) (string, error)

	mu       sync.Mutex
	sources  map[string]*Source
	order    []string
	requests []Request
	attempts int
	jobs     map[string]*JobState
	jobDefs  map[string]Job
	streams  []map[string]any
	seq      int
}

// NewServer starts a fake server with the given credentials.
func NewServer(accessID, accessKey string) *Server {
	s := &Server{AccessID: accessID, AccessKey: accessKey, sources: map[string]*Source{}, jobs: map[string]*JobState{}, jobDefs: map[string]Job{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.api)
	mux.HandleFunc("/receiver/v1/http", s.receive)
	mux.HandleFunc("/receiver/v1/http/", s.receive)
	s.Server = httptest.NewServer(mux)
	return s
}

// Requests returns the accepted receiver requests.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Sources returns the current sources.
func (s *Server) Sources() []Source {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Source
	for _, id := range s.order {
		if src := s.sources[id]; src != nil {
			out = append(out, *src)
		}
	}
	return out
}

// Jobs returns the created jobs by id.
func (s *Server) Jobs() map[string]JobState {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]JobState{}
	for id, j := range s.jobs {
		out[id] = *j
	}
	return out
}

// Streams returns the bodies of the search streams requested, in order.
func (s *Server) Streams() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.streams...)
}

// streamAPI answers POST /api/v1/search/stream with the scripted job as
// NDJSON events: meta, Gathering progress events, the messages (at most
// the request's limit, newest first, two per event) or the records, done.
func (s *Server) streamAPI(w http.ResponseWriter, r *http.Request) {
	var req map[string]any
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		WriteError(w, 400, "bad.request", err.Error())
		return
	}
	q, _ := req["query"].(string)
	var def Job
	if s.Search != nil {
		def = s.Search(q)
	}
	if def.Error != "" {
		WriteError(w, 400, "searchjob.parse.error", def.Error)
		return
	}
	s.streams = append(s.streams, req)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(200)
	enc := json.NewEncoder(w)
	aggregate := def.Records != nil
	fields := def.Fields
	if fields == nil || !aggregate {
		fields = []map[string]any{}
	}
	_ = enc.Encode(map[string]any{"type": "meta", "query": q, "aggregate": aggregate, "fields": fields})
	for i := 0; i < def.Gathering; i++ {
		_ = enc.Encode(map[string]any{"type": "progress", "state": "GATHERING RESULTS", "messageCount": i})
	}
	// Newest first, as the server promises.
	msgs := append([]map[string]string(nil), def.Messages...)
	sort.SliceStable(msgs, func(i, j int) bool {
		ti, _ := strconv.ParseInt(msgs[i]["_messagetime"], 10, 64)
		tj, _ := strconv.ParseInt(msgs[j]["_messagetime"], 10, 64)
		return ti > tj
	})
	if lim, _ := req["limit"].(float64); lim > 0 && int(lim) < len(msgs) {
		msgs = msgs[:int(lim)]
	}
	if aggregate {
		_ = enc.Encode(map[string]any{"type": "records", "fields": def.Fields, "records": def.Records})
	} else {
		for i := 0; i < len(msgs); i += 2 {
			_ = enc.Encode(map[string]any{"type": "messages", "messages": msgs[i:min(i+2, len(msgs))]})
		}
	}
	_ = enc.Encode(map[string]any{"type": "done", "state": "DONE GATHERING RESULTS", "messageCount": len(msgs),
		"histogramCount": len(def.Messages), "recordCount": len(def.Records), "truncated": len(msgs) < len(def.Messages)})
}

// WriteError writes the error envelope.
func WriteError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "id": randomID(), "code": code, "message": msg})
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) view(src *Source, withToken bool) map[string]any {
	m := map[string]any{"id": src.ID, "name": src.Name, "category": src.Category, "host": src.Host, "fields": src.Fields,
		"multiline": src.Multiline, "timezone": src.Timezone, "createdAt": src.CreatedAt}
	if withToken {
		m["token"] = src.token
		m["url"] = s.URL + "/receiver/v1/http/" + src.token
	}
	return m
}

func (s *Server) api(w http.ResponseWriter, r *http.Request) {
	id, key, ok := r.BasicAuth()
	if !ok || id != s.AccessID || key != s.AccessKey {
		WriteError(w, http.StatusUnauthorized, "unauthorized", "missing or wrong access id/key")
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/api/v1/")
	parts := strings.Split(strings.Trim(p, "/"), "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case parts[0] == "sources":
		s.sourcesAPI(w, r, parts[1:])
	case len(parts) >= 2 && parts[0] == "search" && parts[1] == "jobs":
		s.jobsAPI(w, r, parts[2:])
	case p == "search/stream" && r.Method == http.MethodPost:
		s.streamAPI(w, r)
	case p == "query/explain" && r.Method == http.MethodPost:
		var in struct{ Query string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			WriteError(w, 400, "bad.request", err.Error())
			return
		}
		if s.Explain == nil {
			writeJSON(w, 200, map[string]string{"explain": "scan " + in.Query})
			return
		}
		plan, err := s.Explain(in.Query)
		if err != nil {
			WriteError(w, 400, "searchjob.parse.error", err.Error())
			return
		}
		writeJSON(w, 200, map[string]string{"explain": plan})
	default:
		WriteError(w, 404, "notfound", "no such API: "+r.URL.Path)
	}
}

func (s *Server) sourcesAPI(w http.ResponseWriter, r *http.Request, rest []string) {
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		list := []map[string]any{}
		for _, id := range s.order {
			if src := s.sources[id]; src != nil {
				list = append(list, s.view(src, false))
			}
		}
		writeJSON(w, 200, map[string]any{"sources": list})
	case len(rest) == 0 && r.Method == http.MethodPost:
		var spec Source
		if err := json.NewDecoder(r.Body).Decode(&spec); err != nil {
			WriteError(w, 400, "source.invalid", "body: "+err.Error())
			return
		}
		if spec.Name == "" || spec.Category == "" {
			WriteError(w, 400, "source.invalid", "name and category are required")
			return
		}
		s.seq++
		spec.ID = fmt.Sprintf("%016X", s.seq)
		spec.token = "dhs_" + randomID() + randomID()
		if spec.Multiline == "" {
			spec.Multiline = "auto"
		}
		if spec.Timezone == "" {
			spec.Timezone = "UTC"
		}
		spec.CreatedAt = time.Now().UTC().Truncate(time.Millisecond)
		src := spec
		s.sources[src.ID] = &src
		s.order = append(s.order, src.ID)
		writeJSON(w, 201, s.view(&src, true))
	case len(rest) == 1 && r.Method == http.MethodGet:
		src := s.sources[rest[0]]
		if src == nil {
			WriteError(w, 404, "notfound", "no source "+rest[0])
			return
		}
		writeJSON(w, 200, s.view(src, false))
	case len(rest) == 1 && r.Method == http.MethodDelete:
		if s.sources[rest[0]] == nil {
			WriteError(w, 404, "notfound", "no source "+rest[0])
			return
		}
		delete(s.sources, rest[0])
		writeJSON(w, 200, map[string]string{"id": rest[0]})
	case len(rest) == 2 && rest[1] == "token" && r.Method == http.MethodPost:
		src := s.sources[rest[0]]
		if src == nil {
			WriteError(w, 404, "notfound", "no source "+rest[0])
			return
		}
		src.token = "dhs_" + randomID() + randomID()
		writeJSON(w, 200, s.view(src, true))
	default:
		WriteError(w, 405, "method.unsupported", r.Method+" "+r.URL.Path)
	}
}

func (s *Server) jobsAPI(w http.ResponseWriter, r *http.Request, rest []string) {
	if len(rest) == 0 && r.Method == http.MethodPost {
		var req map[string]any
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			WriteError(w, 400, "searchjob.invalid", err.Error())
			return
		}
		q, _ := req["query"].(string)
		var def Job
		if s.Search != nil {
			def = s.Search(q)
		}
		if def.Error != "" {
			WriteError(w, 400, "searchjob.parse.error", def.Error)
			return
		}
		for _, k := range []string{"from", "to"} {
			v, _ := req[k].(string)
			if _, err := strconv.ParseInt(v, 10, 64); err != nil && len(v) < 19 {
				WriteError(w, 400, "searchjob.invalid.timestamp."+k, k+" must be epoch ms or an ISO date-time")
				return
			}
		}
		s.seq++
		id := fmt.Sprintf("%X", 0xA000+s.seq)
		s.jobs[id] = &JobState{Request: req}
		s.jobDefs[id] = def
		writeJSON(w, 202, map[string]any{"id": id, "link": map[string]string{"rel": "self", "href": s.URL + "/api/v1/search/jobs/" + id}})
		return
	}
	if len(rest) == 0 {
		WriteError(w, 405, "method.unsupported", r.Method)
		return
	}
	job := s.jobs[rest[0]]
	def := s.jobDefs[rest[0]]
	if job == nil || job.Deleted {
		WriteError(w, 404, "jobid.invalid", "no search job "+rest[0])
		return
	}
	switch {
	case len(rest) == 1 && r.Method == http.MethodDelete:
		job.Deleted = true
		writeJSON(w, 200, map[string]string{"id": rest[0]})
	case len(rest) == 1 && r.Method == http.MethodGet:
		job.Polls++
		state := "DONE GATHERING RESULTS"
		if job.Polls <= def.Gathering {
			state = "GATHERING RESULTS"
		}
		writeJSON(w, 200, map[string]any{"state": state, "messageCount": len(def.Messages), "recordCount": len(def.Records),
			"histogramBuckets": []any{}, "pendingErrors": []string{}, "pendingWarnings": []string{}})
	case len(rest) == 2 && (rest[1] == "messages" || rest[1] == "records") && r.Method == http.MethodGet:
		off, err1 := strconv.Atoi(r.URL.Query().Get("offset"))
		lim, err2 := strconv.Atoi(r.URL.Query().Get("limit"))
		if err1 != nil || off < 0 {
			WriteError(w, 400, "offset.missing", "offset is required")
			return
		}
		if err2 != nil || lim <= 0 {
			WriteError(w, 400, "limit.missing", "limit is required")
			return
		}
		rows := def.Messages
		if rest[1] == "records" {
			if def.Records == nil {
				WriteError(w, 400, "no.records.not.an.aggregation.query", "the query is not an aggregation")
				return
			}
			rows = def.Records
		}
		end := min(off+lim, len(rows))
		off = min(off, end)
		wrapped := []map[string]any{}
		for _, row := range rows[off:end] {
			wrapped = append(wrapped, map[string]any{"map": row})
		}
		fields := def.Fields
		if fields == nil {
			fields = []map[string]any{}
		}
		writeJSON(w, 200, map[string]any{"fields": fields, rest[1]: wrapped})
	default:
		WriteError(w, 405, "method.unsupported", r.Method+" "+r.URL.Path)
	}
}

func (s *Server) receive(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.attempts++
	attempt := s.attempts
	hook := s.Receiver
	s.mu.Unlock()
	if hook != nil && hook(w, r, attempt) {
		return
	}
	if r.Method != http.MethodPost {
		WriteError(w, 405, "method.unsupported", r.Method)
		return
	}
	token := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/receiver/v1/http"), "/")
	if token == "" {
		token = r.Header.Get("X-Sumo-Token")
	}
	s.mu.Lock()
	var src *Source
	for _, c := range s.sources {
		if c.token == token {
			src = c
		}
	}
	s.mu.Unlock()
	if src == nil {
		WriteError(w, 401, "unauthorized", "invalid token")
		return
	}
	var body io.Reader = r.Body
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			WriteError(w, 400, "body.encoding", "gzip: "+err.Error())
			return
		}
		body = zr
	case "deflate":
		zr, err := zlib.NewReader(r.Body)
		if err != nil {
			body = flate.NewReader(r.Body)
		} else {
			body = zr
		}
	case "zstd":
		zr, err := zstd.NewReader(r.Body)
		if err != nil {
			WriteError(w, 400, "body.encoding", "zstd: "+err.Error())
			return
		}
		defer zr.Close()
		body = zr
	default:
		WriteError(w, 415, "contentencoding.unsupported", "Content-Encoding "+enc)
		return
	}
	data, err := io.ReadAll(io.LimitReader(body, 64<<20))
	if err != nil {
		WriteError(w, 400, "body.encoding", "decode body: "+err.Error())
		return
	}
	req := Request{SourceID: src.ID, Category: r.Header.Get("X-Sumo-Category"), Name: r.Header.Get("X-Sumo-Name"),
		Host: r.Header.Get("X-Sumo-Host"), Fields: r.Header.Get("X-Sumo-Fields"), Encoding: r.Header.Get("Content-Encoding"), Body: string(data)}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// Lines returns the lines of every accepted body of one source ("" for all
// sources), in arrival order.
func (s *Server) Lines(sourceID string) []string {
	var out []string
	for _, r := range s.Requests() {
		if sourceID == "" || r.SourceID == sourceID {
			out = append(out, r.Lines()...)
		}
	}
	return out
}

// SortedLines is Lines, sorted.
func (s *Server) SortedLines(sourceID string) []string {
	l := s.Lines(sourceID)
	sort.Strings(l)
	return l
}

// Gzip compresses b (for tests that build bodies).
func Gzip(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}
