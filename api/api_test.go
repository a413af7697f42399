package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dohyo/dohyo/api"
	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/internal/httperr"
	"github.com/dohyo/dohyo/search"
	"github.com/dohyo/dohyo/store"
	"github.com/dohyo/dohyo/store/embedded"
)

const (
	publicURL = "https://logs.example.test"
	adminID   = "ADMINACCESSID01"
	adminKey  = "admin-access-key-0123456789"
	nEvents   = 200
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type creds struct{ id, key string }

var (
	noCreds    *creds
	adminCreds = &creds{adminID, adminKey}
)

type env struct {
	t      *testing.T
	srv    *httptest.Server
	cat    *catalog.Catalog
	user   *creds // a non-admin
	base   time.Time
	from   time.Time
	to     time.Time
	search *search.Manager
}

// newEnv starts the API on a loopback test server over a catalog with an
// admin and a plain user, and a store with nEvents events, one every 30
// seconds from base, alternating between categories api/web and api/db.
func newEnv(t *testing.T, publicURL string) *env {
	t.Helper()
	return newEnvWith(t, publicURL, search.Config{}, nil)
}

// newEnvWith is newEnv with a search configuration and, when st is not nil,
// another store (the events are then not added).
func newEnvWith(t *testing.T, publicURL string, scfg search.Config, st store.Store) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cat, err := catalog.Open(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	if _, err := cat.Bootstrap(ctx, catalog.BootstrapOptions{AdminPassword: "admin-password", AccessID: adminID, AccessKey: adminKey}); err != nil {
		t.Fatal(err)
	}
	u, err := cat.CreateUser(ctx, "bob", catalog.RoleUser, "bob-password")
	if err != nil {
		t.Fatal(err)
	}
	uid, ukey, err := cat.CreateAccessKey(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}

	now := time.Now()
	base := now.Add(-2 * time.Hour).Truncate(time.Minute)
	if st == nil {
		st = newCorpusStore(t, dir, now, base)
	}
	scfg.Logger = quiet
	mgr := search.NewManager(st, scfg)
	t.Cleanup(mgr.Close)
	mux := http.NewServeMux()
	api.New(api.Config{Catalog: cat, Search: mgr, PublicURL: publicURL, Logger: quiet}).Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, cat: cat, user: &creds{uid, ukey}, base: base, from: base.Add(-time.Minute), to: now.Add(time.Minute), search: mgr}
}

// newCorpusStore opens an engine with nEvents events, one every 30 seconds
// from base, alternating between categories api/web and api/db.
func newCorpusStore(t *testing.T, dir string, now, base time.Time) store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := embedded.Open(filepath.Join(dir, "engine"), embedded.Config{Retention: 30 * 24 * time.Hour, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for k, cat := range []string{"api/web", "api/db"} {
		b := &event.Batch{
			ReceiptTime: now.UnixNano(),
			Source:      event.Source{ID: "S" + cat, Name: "src", Category: cat, Host: "h1", Collector: "dohyo"},
		}
		for i := k; i < nEvents; i += 2 {
			b.Events = append(b.Events, event.Event{Time: base.Add(time.Duration(i) * 30 * time.Second).UnixNano(), Raw: fmt.Sprintf("event %03d", i)})
		}
		if err := st.Add(ctx, uint64(k+1), b, nil); err != nil {
			t.Fatal(err)
		}
	}
	st.Flush()
	return st
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body %q is not JSON: %v", r.body, err)
	}
}

func (e *env) do(method, path string, c *creds, contentType, body string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if c != nil {
		req.SetBasicAuth(c.id, c.key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (e *env) postJSON(path string, c *creds, body string) response {
	e.t.Helper()
	return e.do(http.MethodPost, path, c, "application/json", body)
}

func wantStatus(t *testing.T, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d (body %s)", r.status, status, r.body)
	}
}

func wantError(t *testing.T, r response, status int, code, msgPart string) {
	t.Helper()
	wantStatus(t, r, status)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var e httperr.Error
	r.json(t, &e)
	if e.Status != status || e.Code != code || e.ID == "" || !strings.Contains(e.Message, msgPart) {
		t.Errorf("error %+v, want status %d, code %q, an id and a message with %q", e, status, code, msgPart)
	}
}

type sourceResp struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Category  string            `json:"category"`
	Host      string            `json:"host"`
	Fields    map[string]string `json:"fields"`
	Multiline string            `json:"multiline"`
	TimeZone  string            `json:"timezone"`
	CreatedBy string            `json:"createdBy"`
	URL       string            `json:"url"`
	Token     string            `json:"token"`
}

func (e *env) listSources(c *creds) []sourceResp {
	e.t.Helper()
	r := e.do(http.MethodGet, "/api/v1/sources", c, "", "")
	wantStatus(e.t, r, http.StatusOK)
	var out struct {
		Sources []sourceResp `json:"sources"`
	}
	r.json(e.t, &out)
	if out.Sources == nil {
		e.t.Fatalf("sources is not a list: %s", r.body)
	}
	return out.Sources
}

const sourceBody = `{"name":"web","category":"prod/web","host":"h1","fields":{"Env":"prod"}}`

func TestAuthentication(t *testing.T) {
	e := newEnv(t, publicURL)
	bad := []*creds{noCreds, {adminID, "wrong-key-0123456789"}, {"NOSUCHACCESSID", adminKey}, {e.user.id, adminKey}}
	for i, c := range bad {
		r := e.postJSON("/api/v1/sources", c, sourceBody)
		wantError(t, r, http.StatusUnauthorized, "unauthorized", "")
		if r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("case %d: no WWW-Authenticate header", i)
		}
		r = e.postJSON("/api/v1/search/jobs", c, fmt.Sprintf(`{"query":"*","from":"%d","to":"%d"}`, e.from.UnixMilli(), e.to.UnixMilli()))
		wantError(t, r, http.StatusUnauthorized, "unauthorized", "")
		wantError(t, e.do(http.MethodGet, "/api/v1/sources", c, "", ""), http.StatusUnauthorized, "unauthorized", "")
		wantError(t, e.do(http.MethodGet, "/api/v1/no/such/thing", c, "", ""), http.StatusUnauthorized, "unauthorized", "")
	}
	wantError(t, e.do(http.MethodGet, "/api/v1/sources", noCreds, "", ""), http.StatusUnauthorized, "unauthorized", "credentials required")
	wantError(t, e.do(http.MethodGet, "/api/v1/sources", &creds{adminID, "nope-nope-nope-nope"}, "", ""), http.StatusUnauthorized, "unauthorized", "invalid access id or access key")
	if got := e.listSources(adminCreds); len(got) != 0 {
		t.Errorf("unauthenticated calls created sources: %+v", got)
	}
	// No job was created either: the admin may still create the maximum.
	for range search.DefaultConfig().MaxJobsPerUser {
		wantStatus(t, e.postJSON("/api/v1/search/jobs", adminCreds, fmt.Sprintf(`{"query":"*","from":"%d","to":"%d"}`, e.from.UnixMilli(), e.to.UnixMilli())), http.StatusAccepted)
	}

	// Unknown paths: 401 before authentication, a JSON 404 after.
	wantError(t, e.do(http.MethodGet, "/api/v1/nope", adminCreds, "", ""), http.StatusNotFound, "notfound", "no API endpoint GET /api/v1/nope")
	wantError(t, e.do(http.MethodPost, "/api/v2/whatever", e.user, "", ""), http.StatusNotFound, "notfound", "no API endpoint POST /api/v2/whatever")
	// A known path with the wrong method is a 405, not a 404.
	wantError(t, e.do(http.MethodPut, "/api/v1/sources", adminCreds, "", ""), http.StatusMethodNotAllowed, "method.unsupported", "PUT is not supported on /api/v1/sources")
	wantError(t, e.do(http.MethodPost, "/api/v1/search/jobs/ABC/messages", adminCreds, "", ""), http.StatusMethodNotAllowed, "method.unsupported", "")
}

func TestSourcesCRUD(t *testing.T) {
	e := newEnv(t, publicURL+"/")
	r := e.postJSON("/api/v1/sources", adminCreds, sourceBody)
	wantStatus(t, r, http.StatusCreated)
	var src sourceResp
	r.json(t, &src)
	if src.ID == "" || src.Name != "web" || src.Category != "prod/web" || src.Host != "h1" || src.Multiline != "auto" || src.TimeZone != "UTC" || src.CreatedBy != "admin" {
		t.Errorf("created source %+v", src)
	}
	if len(src.Fields) != 1 || src.Fields["env"] != "prod" {
		t.Errorf("fields %v, want env=prod (lower-cased name)", src.Fields)
	}
	if !strings.HasPrefix(src.Token, catalog.TokenPrefix) || src.URL != publicURL+"/receiver/v1/http/"+src.Token {
		t.Errorf("token %q url %q, want url %s/receiver/v1/http/<token>", src.Token, src.URL, publicURL)
	}
	if s, ok := e.cat.SourceByToken(src.Token); !ok || s.ID != src.ID {
		t.Errorf("the returned token does not resolve to the source")
	}
	// application/json with a charset is fine.
	r = e.do(http.MethodPost, "/api/v1/sources", adminCreds, "application/json; charset=utf-8", `{"name":"db","category":"prod/db","multiline":"regex:^START.*","timezone":"Europe/Paris"}`)
	wantStatus(t, r, http.StatusCreated)
	var src2 sourceResp
	r.json(t, &src2)

	list := e.listSources(adminCreds)
	if len(list) != 2 || list[0].ID != src.ID || list[1].ID != src2.ID || list[1].Multiline != "regex:^START.*" || list[1].TimeZone != "Europe/Paris" {
		t.Fatalf("list %+v", list)
	}
	for _, s := range list {
		if s.Token != "" || s.URL != "" {
			t.Errorf("list shows a token or url: %+v", s)
		}
	}
	r = e.do(http.MethodGet, "/api/v1/sources/"+src.ID, adminCreds, "", "")
	wantStatus(t, r, http.StatusOK)
	var got sourceResp
	r.json(t, &got)
	if got.ID != src.ID || got.Category != "prod/web" || got.Token != "" || got.URL != "" {
		t.Errorf("get %+v", got)
	}

	// Token regeneration revokes the old token at once.
	r = e.do(http.MethodPost, "/api/v1/sources/"+src.ID+"/token", adminCreds, "", "")
	wantStatus(t, r, http.StatusOK)
	var regen sourceResp
	r.json(t, &regen)
	if regen.ID != src.ID || regen.Token == src.Token || regen.URL != publicURL+"/receiver/v1/http/"+regen.Token {
		t.Errorf("regenerated %+v (old token %q)", regen, src.Token)
	}
	if _, ok := e.cat.SourceByToken(src.Token); ok {
		t.Error("the old token still works")
	}
	if _, ok := e.cat.SourceByToken(regen.Token); !ok {
		t.Error("the new token does not work")
	}

	// Unknown ids.
	wantError(t, e.do(http.MethodGet, "/api/v1/sources/NOSUCHSOURCE", adminCreds, "", ""), http.StatusNotFound, "notfound", `"NOSUCHSOURCE"`)
	wantError(t, e.do(http.MethodDelete, "/api/v1/sources/NOSUCHSOURCE", adminCreds, "", ""), http.StatusNotFound, "notfound", `"NOSUCHSOURCE"`)
	wantError(t, e.do(http.MethodPost, "/api/v1/sources/NOSUCHSOURCE/token", adminCreds, "", ""), http.StatusNotFound, "notfound", `"NOSUCHSOURCE"`)

	// Delete.
	r = e.do(http.MethodDelete, "/api/v1/sources/"+src.ID, adminCreds, "", "")
	wantStatus(t, r, http.StatusOK)
	var del map[string]string
	r.json(t, &del)
	if del["id"] != src.ID {
		t.Errorf("delete answered %v", del)
	}
	wantError(t, e.do(http.MethodGet, "/api/v1/sources/"+src.ID, adminCreds, "", ""), http.StatusNotFound, "notfound", "")
	if _, ok := e.cat.SourceByToken(regen.Token); ok {
		t.Error("a deleted source's token still works")
	}
	if list := e.listSources(adminCreds); len(list) != 1 || list[0].ID != src2.ID {
		t.Errorf("after delete: %+v", list)
	}
}

func TestSourceValidation(t *testing.T) {
	e := newEnv(t, publicURL)
	cases := []struct {
		body, msg string
	}{
		{`{"name":"","category":"c"}`, "invalid: name is required"},
		{`{"name":"n"}`, "invalid: category is required"},
		{`{"name":"n","category":"c","multiline":"sometimes"}`, `invalid: multiline "sometimes"`},
		{`{"name":"n","category":"c","multiline":"regex:("}`, "invalid: multiline boundary regex"},
		{`{"name":"n","category":"c","timezone":"Mars/Olympus"}`, `invalid: time zone "Mars/Olympus"`},
		{`{"name":"n","category":"c","fields":{"bad-name":"x"}}`, `invalid: field name "bad-name"`},
		{`{"name":"n\u0001","category":"c"}`, "invalid: name has a control character"},
		{`{"name":"n","category":"c","nmae":"x"}`, `unknown field "nmae"`},
		{`{"name":"n",`, "request body is not valid JSON"},
		{`["n"]`, "request body is not valid JSON"},
	}
	for _, c := range cases {
		wantError(t, e.postJSON("/api/v1/sources", adminCreds, c.body), http.StatusBadRequest, "bad.request", c.msg)
	}
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded"} {
		r := e.do(http.MethodPost, "/api/v1/sources", adminCreds, ct, `{"name":"n","category":"c"}`)
		wantError(t, r, http.StatusUnsupportedMediaType, "contenttype.invalid", ct)
	}
	if list := e.listSources(adminCreds); len(list) != 0 {
		t.Errorf("invalid requests created sources: %+v", list)
	}
}

func TestNonAdmin(t *testing.T) {
	e := newEnv(t, publicURL)
	r := e.postJSON("/api/v1/sources", adminCreds, sourceBody)
	wantStatus(t, r, http.StatusCreated)
	var src sourceResp
	r.json(t, &src)

	wantError(t, e.postJSON("/api/v1/sources", e.user, `{"name":"mine","category":"x"}`), http.StatusForbidden, "forbidden", "only admins may create sources")
	wantError(t, e.do(http.MethodDelete, "/api/v1/sources/"+src.ID, e.user, "", ""), http.StatusForbidden, "forbidden", "only admins may delete sources")
	wantError(t, e.do(http.MethodPost, "/api/v1/sources/"+src.ID+"/token", e.user, "", ""), http.StatusForbidden, "forbidden", "only admins may regenerate source tokens")

	list := e.listSources(e.user)
	if len(list) != 1 || list[0].ID != src.ID {
		t.Fatalf("the user's list: %+v", list)
	}
	wantStatus(t, e.do(http.MethodGet, "/api/v1/sources/"+src.ID, e.user, "", ""), http.StatusOK)
	if _, ok := e.cat.SourceByToken(src.Token); !ok {
		t.Error("the token changed after a refused regeneration")
	}
	if list := e.listSources(adminCreds); len(list) != 1 {
		t.Errorf("after the user's attempts: %+v", list)
	}
}

func TestReceiverURLFromRequest(t *testing.T) {
	e := newEnv(t, "")
	r := e.postJSON("/api/v1/sources", adminCreds, sourceBody)
	wantStatus(t, r, http.StatusCreated)
	var src sourceResp
	r.json(t, &src)
	if src.URL != e.srv.URL+"/receiver/v1/http/"+src.Token {
		t.Errorf("url %q, want %q", src.URL, e.srv.URL+"/receiver/v1/http/"+src.Token)
	}
}

type jobStatus struct {
	State            string                   `json:"state"`
	MessageCount     int64                    `json:"messageCount"`
	RecordCount      int64                    `json:"recordCount"`
	HistogramBuckets []search.HistogramBucket `json:"histogramBuckets"`
	PendingErrors    []string                 `json:"pendingErrors"`
	PendingWarnings  []string                 `json:"pendingWarnings"`
}

// createJob creates a job and checks the 202 answer.
func (e *env) createJob(c *creds, body string) string {
	e.t.Helper()
	r := e.postJSON("/api/v1/search/jobs", c, body)
	wantStatus(e.t, r, http.StatusAccepted)
	var out struct {
		ID   string `json:"id"`
		Link struct {
			Rel  string `json:"rel"`
			Href string `json:"href"`
		} `json:"link"`
	}
	r.json(e.t, &out)
	if out.ID == "" {
		e.t.Fatalf("no job id in %s", r.body)
	}
	self := publicURL + "/api/v1/search/jobs/" + out.ID
	if loc := r.header.Get("Location"); loc != self {
		e.t.Errorf("Location %q, want %q", loc, self)
	}
	if out.Link.Rel != "self" || out.Link.Href != self {
		e.t.Errorf("link %+v, want self %s", out.Link, self)
	}
	return out.ID
}

func (e *env) msBody(query string) string {
	return fmt.Sprintf(`{"query":%q,"from":"%d","to":"%d"}`, query, e.from.UnixMilli(), e.to.UnixMilli())
}

// poll polls a job until it stops gathering; it returns the last status and
// the histogram buckets of every poll.
func (e *env) poll(c *creds, id string) (jobStatus, []search.HistogramBucket) {
	e.t.Helper()
	var buckets []search.HistogramBucket
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := e.do(http.MethodGet, "/api/v1/search/jobs/"+id, c, "", "")
		wantStatus(e.t, r, http.StatusOK)
		var st jobStatus
		r.json(e.t, &st)
		if st.HistogramBuckets == nil || st.PendingErrors == nil || st.PendingWarnings == nil {
			e.t.Fatalf("status has null lists: %s", r.body)
		}
		buckets = append(buckets, st.HistogramBuckets...)
		if st.State != search.StateNotStarted && st.State != search.StateGathering {
			return st, buckets
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("job %s still %q after 60s", id, st.State)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type page struct {
	Fields   []search.Field `json:"fields"`
	Messages []struct {
		Map map[string]string `json:"map"`
	} `json:"messages"`
	Records []struct {
		Map map[string]string `json:"map"`
	} `json:"records"`
}

func (e *env) page(c *creds, id, kind, args string) page {
	e.t.Helper()
	r := e.do(http.MethodGet, "/api/v1/search/jobs/"+id+"/"+kind+"?"+args, c, "", "")
	wantStatus(e.t, r, http.StatusOK)
	var p page
	r.json(e.t, &p)
	if p.Fields == nil {
		e.t.Fatalf("fields is not a list: %s", r.body)
	}
	return p
}

func TestSearchJobMessages(t *testing.T) {
	e := newEnv(t, publicURL)
	id := e.createJob(adminCreds, e.msBody("*"))
	st, buckets := e.poll(adminCreds, id)
	if st.State != search.StateDone || st.MessageCount != nEvents || st.RecordCount != 0 {
		t.Fatalf("final status %+v", st)
	}
	var sum int64
	for _, b := range buckets {
		sum += b.Count
	}
	if sum != nEvents {
		t.Errorf("histogram buckets sum to %d, want %d", sum, nEvents)
	}

	first := e.page(adminCreds, id, "messages", "offset=0&limit=150")
	second := e.page(adminCreds, id, "messages", "offset=150&limit=150")
	if len(first.Messages) != 150 || len(second.Messages) != nEvents-150 {
		t.Fatalf("pages of %d and %d messages", len(first.Messages), len(second.Messages))
	}
	all := append(first.Messages, second.Messages...)
	for i, m := range all {
		want := nEvents - 1 - i
		if m.Map["_raw"] != fmt.Sprintf("event %03d", want) ||
			m.Map["_messagetime"] != strconv.FormatInt(e.base.Add(time.Duration(want)*30*time.Second).UnixMilli(), 10) {
			t.Fatalf("message %d: %v, want event %d (newest first)", i, m.Map, want)
		}
		wantCat := "api/web"
		if want%2 == 1 {
			wantCat = "api/db"
		}
		if m.Map["_sourcecategory"] != wantCat {
			t.Fatalf("message %d: category %q, want %q", i, m.Map["_sourcecategory"], wantCat)
		}
	}
	types := map[string]string{}
	for _, f := range first.Fields {
		types[f.Name] = f.FieldType
	}
	if types["_messagetime"] != "long" || types["_raw"] != "string" || types["_sourcecategory"] != "string" {
		t.Errorf("fields %+v", first.Fields)
	}
	// Past the end, and an offset that would overflow: empty pages.
	for _, args := range []string{"offset=200&limit=10", "offset=9223372036854775807&limit=10000"} {
		if p := e.page(adminCreds, id, "messages", args); len(p.Messages) != 0 || p.Messages == nil {
			t.Errorf("%s: %d messages (nil %v)", args, len(p.Messages), p.Messages == nil)
		}
	}

	// Paging arguments, with Sumo's codes.
	for _, c := range []struct{ args, code string }{
		{"", "offset.missing"},
		{"limit=10", "offset.missing"},
		{"offset=0", "limit.missing"},
		{"offset=0&limit=0", "limit.zero"},
		{"offset=0&limit=-1", "limit.negative"},
		{"offset=0&limit=10001", "limit.too.large"},
		{"offset=abc&limit=1", "offset.invalid"},
		{"offset=0&limit=1.5", "limit.invalid"},
		{"offset=99999999999999999999&limit=1", "offset.invalid"},
		{"offset=-1&limit=1", "offset.negative"},
	} {
		r := e.do(http.MethodGet, "/api/v1/search/jobs/"+id+"/messages?"+c.args, adminCreds, "", "")
		wantError(t, r, http.StatusBadRequest, c.code, "")
	}
	wantStatus(t, e.do(http.MethodGet, "/api/v1/search/jobs/"+id+"/messages?offset=0&limit=10000", adminCreds, "", ""), http.StatusOK)

	// Records of a non-aggregate query.
	wantError(t, e.do(http.MethodGet, "/api/v1/search/jobs/"+id+"/records?offset=0&limit=10", adminCreds, "", ""),
		http.StatusBadRequest, "no.records.not.an.aggregation.query", "no aggregate")

	// Another user sees no such job.
	for _, p := range []string{"", "/messages?offset=0&limit=1", "/records?offset=0&limit=1"} {
		wantError(t, e.do(http.MethodGet, "/api/v1/search/jobs/"+id+p, e.user, "", ""), http.StatusNotFound, "jobid.invalid", id)
	}
	wantError(t, e.do(http.MethodDelete, "/api/v1/search/jobs/"+id, e.user, "", ""), http.StatusNotFound, "jobid.invalid", id)

	// Delete, then the job is gone.
	r := e.do(http.MethodDelete, "/api/v1/search/jobs/"+id, adminCreds, "", "")
	wantStatus(t, r, http.StatusOK)
	var del map[string]string
	r.json(t, &del)
	if del["id"] != id {
		t.Errorf("delete answered %v", del)
	}
	wantError(t, e.do(http.MethodGet, "/api/v1/search/jobs/"+id, adminCreds, "", ""), http.StatusNotFound, "jobid.invalid", id)
	wantError(t, e.do(http.MethodGet, "/api/v1/search/jobs/"+id+"/messages?offset=0&limit=1", adminCreds, "", ""), http.StatusNotFound, "jobid.invalid", id)
	wantError(t, e.do(http.MethodDelete, "/api/v1/search/jobs/"+id, adminCreds, "", ""), http.StatusNotFound, "jobid.invalid", id)
}

func TestSearchJobRecords(t *testing.T) {
	e := newEnv(t, publicURL)
	id := e.createJob(e.user, e.msBody("* | count by _sourceCategory"))
	st, _ := e.poll(e.user, id)
	if st.State != search.StateDone || st.RecordCount != 2 || st.MessageCount != nEvents {
		t.Fatalf("final status %+v", st)
	}
	p := e.page(e.user, id, "records", "offset=0&limit=10")
	wantFields := []search.Field{{Name: "_sourcecategory", FieldType: "string", KeyField: true}, {Name: "_count", FieldType: "int"}}
	if fmt.Sprint(p.Fields) != fmt.Sprint(wantFields) {
		t.Errorf("fields %+v, want %+v", p.Fields, wantFields)
	}
	if len(p.Records) != 2 ||
		p.Records[0].Map["_sourcecategory"] != "api/db" || p.Records[0].Map["_count"] != "100" ||
		p.Records[1].Map["_sourcecategory"] != "api/web" || p.Records[1].Map["_count"] != "100" {
		t.Errorf("records %+v", p.Records)
	}
	if p := e.page(e.user, id, "records", "offset=1&limit=5"); len(p.Records) != 1 || p.Records[0].Map["_sourcecategory"] != "api/web" {
		t.Errorf("records [1, 6): %+v", p.Records)
	}
	wantError(t, e.do(http.MethodGet, "/api/v1/search/jobs/"+id+"/records?offset=0&limit=0", e.user, "", ""), http.StatusBadRequest, "limit.zero", "")
	wantError(t, e.do(http.MethodGet, "/api/v1/search/jobs/"+id+"/records?limit=1", e.user, "", ""), http.StatusBadRequest, "offset.missing", "")
	// An aggregate job has messages too (Sumo's API allows asking).
	wantStatus(t, e.do(http.MethodGet, "/api/v1/search/jobs/"+id+"/messages?offset=0&limit=10", e.user, "", ""), http.StatusOK)
	// The admin does not see the user's job.
	wantError(t, e.do(http.MethodGet, "/api/v1/search/jobs/"+id+"/records?offset=0&limit=1", adminCreds, "", ""), http.StatusNotFound, "jobid.invalid", "")
}

func TestSearchJobTimes(t *testing.T) {
	e := newEnv(t, publicURL)
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Skipf("no time zone database: %v", err)
	}
	const iso = "2006-01-02T15:04:05"
	from, to := e.from.In(tokyo).Format(iso), e.to.In(tokyo).Add(time.Second).Format(iso)

	// ISO local times in Tokyo cover the data; the same wall clock read as
	// UTC lies nine hours in the future and matches nothing.
	for _, c := range []struct {
		body string
		want int64
	}{
		{fmt.Sprintf(`{"query":"*","from":%q,"to":%q,"timeZone":"Asia/Tokyo"}`, from, to), nEvents},
		{fmt.Sprintf(`{"query":"*","from":%q,"to":%q,"timezone":"Asia/Tokyo"}`, from, to), nEvents},
		{fmt.Sprintf(`{"query":"*","from":%q,"to":%q,"timeZone":"UTC"}`, from, to), 0},
		{fmt.Sprintf(`{"query":"*","from":%q,"to":%q}`, from, to), 0},
		// Epoch milliseconds ignore the zone; unknown fields are ignored
		// on this Sumo-compatible endpoint.
		{fmt.Sprintf(`{"query":"*","from":"%d","to":"%d","timeZone":"America/New_York","autoParsingMode":"Manual","extra":1}`, e.from.UnixMilli(), e.to.UnixMilli()), nEvents},
		// An explicit offset wins over the zone.
		{fmt.Sprintf(`{"query":"*","from":%q,"to":%q,"timeZone":"UTC"}`, e.from.In(tokyo).Format(time.RFC3339), e.to.In(tokyo).Add(time.Second).Format(time.RFC3339)), nEvents},
	} {
		id := e.createJob(adminCreds, c.body)
		st, _ := e.poll(adminCreds, id)
		if st.State != search.StateDone || st.MessageCount != c.want {
			t.Errorf("%s: %+v, want %d messages", c.body, st, c.want)
		}
		wantStatus(t, e.do(http.MethodDelete, "/api/v1/search/jobs/"+id, adminCreds, "", ""), http.StatusOK)
	}
}

func TestSearchJobCreateErrors(t *testing.T) {
	e := newEnv(t, publicURL)
	ms := func(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
	cases := []struct {
		body, code, msg string
	}{
		{fmt.Sprintf(`{"query":"*","from":"yesterday","to":%q}`, ms(e.to)), "searchjob.invalid.timestamp.from", `'from' "yesterday"`},
		{fmt.Sprintf(`{"query":"*","from":%q,"to":"2024-13-45T99:00:00"}`, ms(e.from)), "searchjob.invalid.timestamp.to", `'to' "2024-13-45T99:00:00"`},
		{fmt.Sprintf(`{"query":"*","to":%q}`, ms(e.to)), "searchjob.invalid.timestamp.from", ""},
		{fmt.Sprintf(`{"query":"*","from":%q,"to":%q,"timeZone":"Mars/Olympus"}`, ms(e.from), ms(e.to)), "searchjob.unknown.timezone", `"Mars/Olympus"`},
		{fmt.Sprintf(`{"query":"*","from":%q,"to":%q,"byReceiptTime":true}`, ms(e.from), ms(e.to)), "searchjob.unknown.time.type", "byReceiptTime"},
		{fmt.Sprintf(`{"query":"","from":%q,"to":%q}`, ms(e.from), ms(e.to)), "searchjob.no.query", "empty"},
		{fmt.Sprintf(`{"from":%q,"to":%q}`, ms(e.from), ms(e.to)), "searchjob.no.query", "empty"},
		{fmt.Sprintf(`{"query":"* | cout","from":%q,"to":%q}`, ms(e.from), ms(e.to)), "searchjob.parse.error", `line 1, column 5: unknown operator "cout"`},
		{fmt.Sprintf(`{"query":"*","from":%q,"to":%q}`, ms(e.to), ms(e.from)), "searchjob.to.smaller.than.from", "must be after"},
		{`{"query":`, "bad.request", "not valid JSON"},
	}
	for _, c := range cases {
		r := e.postJSON("/api/v1/search/jobs", adminCreds, c.body)
		wantError(t, r, http.StatusBadRequest, c.code, c.msg)
		if r.header.Get("Location") != "" {
			t.Errorf("%s: a failed create has a Location", c.body)
		}
	}
	r := e.do(http.MethodPost, "/api/v1/search/jobs", adminCreds, "text/plain", e.msBody("*"))
	wantError(t, r, http.StatusUnsupportedMediaType, "contenttype.invalid", "text/plain")

	// The per-user job limit answers 429.
	for range search.DefaultConfig().MaxJobsPerUser {
		e.createJob(e.user, e.msBody("*"))
	}
	wantError(t, e.postJSON("/api/v1/search/jobs", e.user, e.msBody("*")), http.StatusTooManyRequests, "rate.limit.exceeded", "too many active search jobs")

	// After shutdown, 503.
	e.search.Close()
	wantError(t, e.postJSON("/api/v1/search/jobs", adminCreds, e.msBody("*")), http.StatusServiceUnavailable, "service.unavailable", "shutting down")
}

func TestExplain(t *testing.T) {
	e := newEnv(t, publicURL)
	r := e.postJSON("/api/v1/query/explain", e.user, `{"query":"_sourceCategory=api/web | count"}`)
	wantStatus(t, r, http.StatusOK)
	var out map[string]string
	r.json(t, &out)
	if !strings.Contains(out["explain"], "engine:") || !strings.Contains(out["explain"], "stats") {
		t.Errorf("explain %q", out["explain"])
	}
	wantError(t, e.postJSON("/api/v1/query/explain", e.user, `{"query":"* | cout"}`), http.StatusBadRequest, "searchjob.parse.error", "line 1, column 5")
	wantError(t, e.postJSON("/api/v1/query/explain", e.user, `{"query":"*","extra":1}`), http.StatusBadRequest, "bad.request", `unknown field "extra"`)
	wantError(t, e.do(http.MethodPost, "/api/v1/query/explain", e.user, "text/plain", `{"query":"*"}`), http.StatusUnsupportedMediaType, "contenttype.invalid", "")
	wantError(t, e.do(http.MethodPost, "/api/v1/query/explain", noCreds, "application/json", `{"query":"*"}`), http.StatusUnauthorized, "unauthorized", "")
}
