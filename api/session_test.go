package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dohyo/dohyo/event"
	"github.com/dohyo/dohyo/search"
	"github.com/dohyo/dohyo/store/embedded"
)

// session is a logged-in browser: its cookie and CSRF token.
type session struct {
	cookie *http.Cookie
	csrf   string
}

func (e *env) login(name, password string) (response, *session) {
	e.t.Helper()
	r := e.postJSON("/api/v1/login", noCreds, fmt.Sprintf(`{"username":%q,"password":%q}`, name, password))
	if r.status != http.StatusOK {
		return r, nil
	}
	var body struct {
		CSRFToken string `json:"csrfToken"`
	}
	r.json(e.t, &body)
	resp := http.Response{Header: r.header}
	for _, c := range resp.Cookies() {
		if c.Name == "dohyo_session" {
			return r, &session{cookie: c, csrf: body.CSRFToken}
		}
	}
	e.t.Fatalf("login set no session cookie: %v", r.header)
	return r, nil
}

// doSession sends a request authenticated by the session cookie, with the
// given CSRF header ("" for none).
func (e *env) doSession(s *session, method, path, csrf, body string, hdr ...string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.AddCookie(&http.Cookie{Name: s.cookie.Name, Value: s.cookie.Value})
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func TestLoginSessionCookie(t *testing.T) {
	e := newEnv(t, publicURL)
	r, _ := e.login("admin", "wrong-password")
	wantError(t, r, http.StatusUnauthorized, "unauthorized", "wrong user name or password")
	r, _ = e.login("nobody", "admin-password")
	wantError(t, r, http.StatusUnauthorized, "unauthorized", "wrong user name or password")

	r, s := e.login("admin", "admin-password")
	wantStatus(t, r, http.StatusOK)
	if !s.cookie.HttpOnly || s.cookie.SameSite != http.SameSiteStrictMode || s.cookie.Path != "/" {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/", s.cookie)
	}
	if !s.cookie.Secure {
		t.Errorf("cookie is not Secure though the public URL is https")
	}
	if len(s.cookie.Value) < 43 || len(s.csrf) < 43 {
		t.Errorf("session id %q / CSRF token %q: want 256-bit random values", s.cookie.Value, s.csrf)
	}
	var me struct {
		User struct {
			Name string `json:"name"`
			Role string `json:"role"`
		} `json:"user"`
		CSRFToken string `json:"csrfToken"`
	}
	r = e.doSession(s, "GET", "/api/v1/me", "", "")
	wantStatus(t, r, http.StatusOK)
	r.json(t, &me)
	if me.User.Name != "admin" || me.User.Role != "admin" || me.CSRFToken != s.csrf {
		t.Errorf("/me = %+v, want admin with the login's CSRF token", me)
	}
	// Reads need no CSRF token.
	wantStatus(t, e.doSession(s, "GET", "/api/v1/sources", "", ""), http.StatusOK)

	// Logout ends the session.
	wantError(t, e.doSession(s, "POST", "/api/v1/logout", "", "{}"), http.StatusForbidden, "csrf.invalid", "X-CSRF-Token")
	r = e.doSession(s, "POST", "/api/v1/logout", s.csrf, "{}")
	wantStatus(t, r, http.StatusOK)
	if c := (&http.Response{Header: r.header}).Cookies(); len(c) != 1 || c[0].MaxAge >= 0 {
		t.Errorf("logout cookies %v: want the session cookie cleared", c)
	}
	r = e.doSession(s, "GET", "/api/v1/me", "", "", "X-Dohyo-UI", "1")
	wantError(t, r, http.StatusUnauthorized, "unauthorized", "session")
	if r.header.Get("WWW-Authenticate") != "" {
		t.Errorf("the UI's 401 carries WWW-Authenticate %q: browsers would show their own login dialog", r.header.Get("WWW-Authenticate"))
	}
	// Without the UI header and any credentials, API clients still get the
	// Basic challenge.
	r = e.do("GET", "/api/v1/me", noCreds, "", "")
	wantStatus(t, r, http.StatusUnauthorized)
	if r.header.Get("WWW-Authenticate") == "" {
		t.Errorf("no WWW-Authenticate for an API client")
	}
}

func TestSessionCSRF(t *testing.T) {
	e := newEnv(t, publicURL)
	_, s := e.login("bob", "bob-password")
	body := fmt.Sprintf(`{"query":"event","from":"%d","to":"%d"}`, e.from.UnixMilli(), e.to.UnixMilli())
	wantError(t, e.doSession(s, "POST", "/api/v1/search/jobs", "", body), http.StatusForbidden, "csrf.invalid", "CSRF")
	wantError(t, e.doSession(s, "POST", "/api/v1/search/jobs", "not-the-token", body), http.StatusForbidden, "csrf.invalid", "CSRF")
	_, other := e.login("admin", "admin-password")
	wantError(t, e.doSession(s, "POST", "/api/v1/search/jobs", other.csrf, body), http.StatusForbidden, "csrf.invalid", "CSRF")
	r := e.doSession(s, "POST", "/api/v1/search/jobs", s.csrf, body)
	wantStatus(t, r, http.StatusAccepted)
	var job struct{ ID string }
	r.json(t, &job)
	wantError(t, e.doSession(s, "DELETE", "/api/v1/search/jobs/"+job.ID, "", ""), http.StatusForbidden, "csrf.invalid", "CSRF")
	wantStatus(t, e.doSession(s, "DELETE", "/api/v1/search/jobs/"+job.ID, s.csrf, ""), http.StatusOK)

	// Basic-auth clients need no token.
	wantStatus(t, e.postJSON("/api/v1/search/jobs", adminCreds, body), http.StatusAccepted)
	// A forged or unknown cookie is refused.
	forged := &session{cookie: &http.Cookie{Name: "dohyo_session", Value: strings.Repeat("A", 43)}}
	wantError(t, e.doSession(forged, "GET", "/api/v1/me", "", ""), http.StatusUnauthorized, "unauthorized", "session")
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t, publicURL)
	for i := 0; i < 6; i++ {
		r, _ := e.login("bob", "wrong-password")
		wantStatus(t, r, http.StatusUnauthorized)
	}
	// Blocked now, even with the right password.
	r, _ := e.login("bob", "bob-password")
	wantError(t, r, http.StatusTooManyRequests, "rate.limit.exceeded", "too many failed logins")
	if r.header.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After")
	}
	// The user name is matched without regard to case.
	r, _ = e.login("BOB", "bob-password")
	wantStatus(t, r, http.StatusTooManyRequests)
	// Another user from the same address is not blocked yet.
	r, _ = e.login("admin", "admin-password")
	wantStatus(t, r, http.StatusOK)
	// After the delay, the right password works again.
	time.Sleep(1100 * time.Millisecond)
	r, _ = e.login("bob", "bob-password")
	wantStatus(t, r, http.StatusOK)
}

func TestSavedAndRecentSearches(t *testing.T) {
	e := newEnv(t, publicURL)
	_, s := e.login("bob", "bob-password")
	r := e.doSession(s, "POST", "/api/v1/saved-searches", s.csrf, `{"name":"errors","query":"error | count by _sourceHost","from":"-1h","to":"now","timeZone":"Europe/Paris"}`)
	wantStatus(t, r, http.StatusCreated)
	var saved struct{ ID, Name, Query string }
	r.json(t, &saved)
	wantError(t, e.doSession(s, "POST", "/api/v1/saved-searches", s.csrf, `{"name":"Errors","query":"x","from":"-1h"}`), http.StatusConflict, "conflict", "Errors")
	wantStatus(t, e.doSession(s, "PUT", "/api/v1/saved-searches/"+saved.ID, s.csrf, `{"name":"errors 2","query":"error","from":"-15m","to":"now"}`), http.StatusOK)
	var list struct {
		SavedSearches []struct{ Name, Query, From string } `json:"savedSearches"`
	}
	e.doSession(s, "GET", "/api/v1/saved-searches", "", "").json(t, &list)
	if len(list.SavedSearches) != 1 || list.SavedSearches[0].Name != "errors 2" || list.SavedSearches[0].From != "-15m" {
		t.Errorf("saved searches %+v", list.SavedSearches)
	}
	// Another user sees none of them and cannot delete them.
	var other struct {
		SavedSearches []any `json:"savedSearches"`
	}
	e.do("GET", "/api/v1/saved-searches", adminCreds, "", "").json(t, &other)
	if len(other.SavedSearches) != 0 {
		t.Errorf("admin sees bob's saved searches: %v", other.SavedSearches)
	}
	wantStatus(t, e.do("DELETE", "/api/v1/saved-searches/"+saved.ID, adminCreds, "", ""), http.StatusNotFound)
	wantStatus(t, e.doSession(s, "DELETE", "/api/v1/saved-searches/"+saved.ID, s.csrf, ""), http.StatusOK)

	for _, q := range []string{"a", "b", "a"} {
		wantStatus(t, e.doSession(s, "POST", "/api/v1/recent-searches", s.csrf, fmt.Sprintf(`{"query":%q,"from":"-15m","to":"now"}`, q)), http.StatusCreated)
	}
	var recent struct {
		RecentSearches []struct{ Query string } `json:"recentSearches"`
	}
	e.doSession(s, "GET", "/api/v1/recent-searches", "", "").json(t, &recent)
	if len(recent.RecentSearches) != 2 || recent.RecentSearches[0].Query != "a" || recent.RecentSearches[1].Query != "b" {
		t.Errorf("recent searches %+v, want a then b", recent.RecentSearches)
	}
}

func TestMessageContext(t *testing.T) {
	e := newEnv(t, publicURL)
	// Find event 101 (category api/db) with its _messageId.
	body := fmt.Sprintf(`{"query":"\"event 101\"","from":"%d","to":"%d"}`, e.from.UnixMilli(), e.to.UnixMilli())
	var job struct{ ID string }
	e.postJSON("/api/v1/search/jobs", adminCreds, body).json(t, &job)
	var msgs struct {
		Messages []struct{ Map map[string]string } `json:"messages"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(msgs.Messages) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		e.do("GET", "/api/v1/search/jobs/"+job.ID+"/messages?offset=0&limit=10", adminCreds, "", "").json(t, &msgs)
	}
	if len(msgs.Messages) != 1 {
		t.Fatalf("messages %+v", msgs.Messages)
	}
	m := msgs.Messages[0].Map
	if m["_messageid"] == "" {
		t.Fatalf("message without _messageid: %v", m)
	}
	var ctx struct {
		Before  []struct{ Map map[string]string } `json:"before"`
		Message struct{ Map map[string]string }   `json:"message"`
		After   []struct{ Map map[string]string } `json:"after"`
	}
	r := e.do("GET", fmt.Sprintf("/api/v1/messages/context?id=%s&time=%s&before=3&after=2", m["_messageid"], m["_messagetime"]), adminCreds, "", "")
	wantStatus(t, r, http.StatusOK)
	r.json(t, &ctx)
	raws := func(rows []struct{ Map map[string]string }) (out []string) {
		for _, r := range rows {
			out = append(out, r.Map["_raw"])
		}
		return out
	}
	// Same source (api/db: odd events), in time order.
	if got := strings.Join(raws(ctx.Before), ","); got != "event 095,event 097,event 099" {
		t.Errorf("before = %s", got)
	}
	if ctx.Message.Map["_raw"] != "event 101" {
		t.Errorf("message = %v", ctx.Message.Map)
	}
	if got := strings.Join(raws(ctx.After), ","); got != "event 103,event 105" {
		t.Errorf("after = %s", got)
	}
	wantError(t, e.do("GET", "/api/v1/messages/context?id=123&time="+m["_messagetime"], adminCreds, "", ""), http.StatusNotFound, "message.notfound", "123")
	wantError(t, e.do("GET", "/api/v1/messages/context?id=123", adminCreds, "", ""), http.StatusBadRequest, "time.missing", "time")
	wantStatus(t, e.do("GET", "/api/v1/messages/context?id=123&time=1", noCreds, "", ""), http.StatusUnauthorized)
}

func TestLiveTail(t *testing.T) {
	dir := t.TempDir()
	st, err := embedded.Open(filepath.Join(dir, "engine"), embedded.Config{Retention: 30 * 24 * time.Hour, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	add := func(seq uint64, raw string) {
		b := &event.Batch{ReceiptTime: time.Now().UnixNano(), Source: event.Source{ID: "S1", Name: "src", Category: "tail/test", Host: "h1"},
			Events: []event.Event{{Time: time.Now().UnixNano(), Raw: raw}}}
		if err := st.Add(context.Background(), seq, b, nil); err != nil {
			t.Fatal(err)
		}
		st.Flush()
	}
	add(1, "old needle before the tail")
	e := newEnvWith(t, publicURL, search.Config{}, st)

	wantError(t, e.postJSON("/api/v1/search/tail", adminCreds, `{"query":"needle | count"}`), http.StatusBadRequest, "searchjob.tail.aggregate", "aggregate")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", e.srv.URL+"/api/v1/search/tail", strings.NewReader(`{"query":"needle"}`))
	req.SetBasicAuth(adminID, adminKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	type line struct {
		Messages []struct{ Map map[string]string } `json:"messages"`
	}
	next := func() line {
		t.Helper()
		if !sc.Scan() {
			t.Fatalf("tail ended: %v", sc.Err())
		}
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %q: %v", sc.Bytes(), err)
		}
		return l
	}
	if l := next(); len(l.Messages) != 0 {
		t.Errorf("first look delivered the existing messages: %v", l.Messages)
	}
	add(2, "new needle after the tail started")
	add(3, "new haystack without the word")
	var got []string
	for len(got) == 0 {
		for _, m := range next().Messages {
			got = append(got, m.Map["_raw"])
		}
	}
	if len(got) != 1 || got[0] != "new needle after the tail started" {
		t.Errorf("tail delivered %q", got)
	}
}
