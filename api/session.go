package api

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dohyo/dohyo/catalog"
)

// The web UI logs in with a user name and password and then authenticates
// with a session cookie. Cookie-authenticated requests that change state
// must carry the session's CSRF token in the X-CSRF-Token header (the token
// is returned by login and by /me): a cross-site page can make the browser
// send the cookie, but cannot read the token. API clients authenticating
// with HTTP Basic are unaffected.

const (
	// SessionCookie is the session cookie's name.
	SessionCookie = "dohyo_session"
	// CSRFHeader carries the session's CSRF token.
	CSRFHeader = "X-CSRF-Token"
	// uiHeader marks requests made by the web UI: their 401s carry no
	// WWW-Authenticate challenge, which would make the browser show its own
	// login dialog.
	uiHeader = "X-Dohyo-UI"
)

type sessionKey struct{}

// sessionAuth checks the session cookie of a request without Basic
// credentials. ok is false when the request has no session cookie at all.
func (a *API) sessionAuth(w http.ResponseWriter, r *http.Request) (p *catalog.Principal, s *catalog.Session, handled bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil, false
	}
	s, err = a.cfg.Catalog.LookupSession(r.Context(), c.Value, a.sessionLimits())
	if err != nil {
		if errors.Is(err, catalog.ErrUnauthorized) {
			a.clearSessionCookie(w, r)
			writeError(w, http.StatusUnauthorized, "unauthorized", "your session has ended: log in again")
			return nil, nil, true
		}
		a.cfg.Logger.Error("session lookup failed", "err", err)
		writeError(w, http.StatusInternalServerError, "internal.error", "authentication is unavailable")
		return nil, nil, true
	}
	if !safeMethod(r.Method) {
		tok := r.Header.Get(CSRFHeader)
		if tok == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(s.CSRFToken)) != 1 {
			writeError(w, http.StatusForbidden, "csrf.invalid", "missing or wrong "+CSRFHeader+" header: cookie-authenticated requests that change state must send the session's CSRF token")
			return nil, nil, true
		}
	}
	p = &s.Principal
	return p, s, false
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func (a *API) sessionLimits() catalog.SessionLimits {
	if a.sessions.limits == (catalog.SessionLimits{}) {
		return catalog.DefaultSessionLimits()
	}
	return a.sessions.limits
}

// secureRequest reports whether the browser reaches the server over TLS:
// directly, or through a proxy when the public URL is https.
func (a *API) secureRequest(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(a.cfg.PublicURL, "https://")
}

func (a *API) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: a.secureRequest(r), SameSite: http.SameSiteStrictMode})
}

type loginRequest struct {
	UserName string `json:"username"`
	Password string `json:"password"`
}

type meResponse struct {
	User      meUser `json:"user"`
	CSRFToken string `json:"csrfToken"`
	// ExpiresAt is when the session ends at the latest (absent for Basic
	// auth).
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

type meUser struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

// login checks a user name and password and starts a session.
func (a *API) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if !readJSON(w, r, &req) {
		return
	}
	name := strings.TrimSpace(req.UserName)
	if name == "" || req.Password == "" {
		writeError(w, http.StatusBadRequest, "bad.request", "username and password are required")
		return
	}
	if len(name) > 256 || len(req.Password) > 1024 {
		writeError(w, http.StatusUnauthorized, "unauthorized", "wrong user name or password")
		return
	}
	ip := clientIP(r)
	keys := []string{"user:" + strings.ToLower(name), "ip:" + ip}
	if wait := a.sessions.limiter.blocked(keys, time.Now()); wait > 0 {
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeError(w, http.StatusTooManyRequests, "rate.limit.exceeded", fmt.Sprintf("too many failed logins: try again in %d s", secs))
		return
	}
	p, err := a.cfg.Catalog.AuthenticatePassword(r.Context(), name, req.Password)
	if err != nil {
		if errors.Is(err, catalog.ErrUnauthorized) {
			a.sessions.limiter.fail(keys, time.Now())
			a.cfg.Logger.Warn("failed login", "user", name, "ip", ip)
			writeError(w, http.StatusUnauthorized, "unauthorized", "wrong user name or password")
			return
		}
		a.cfg.Logger.Error("login failed", "err", err)
		writeError(w, http.StatusInternalServerError, "internal.error", "authentication is unavailable")
		return
	}
	a.sessions.limiter.succeed("user:" + strings.ToLower(name))
	s, err := a.cfg.Catalog.CreateSession(r.Context(), p.UserID, a.sessionLimits())
	if err != nil {
		a.cfg.Logger.Error("create session", "err", err)
		writeError(w, http.StatusInternalServerError, "internal.error", "cannot start a session")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: s.ID, Path: "/", HttpOnly: true, Secure: a.secureRequest(r),
		SameSite: http.SameSiteStrictMode, Expires: s.ExpiresAt})
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, meResponse{User: meUser{ID: p.UserID, Name: p.UserName, Role: p.Role}, CSRFToken: s.CSRFToken, ExpiresAt: &s.ExpiresAt})
}

// logout ends the caller's session.
func (a *API) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		if err := a.cfg.Catalog.DeleteSession(r.Context(), c.Value); err != nil {
			a.cfg.Logger.Error("logout", "err", err)
		}
	}
	a.clearSessionCookie(w, r)
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// me describes the caller, and gives a session's CSRF token.
func (a *API) me(w http.ResponseWriter, r *http.Request) {
	p := PrincipalFrom(r.Context())
	resp := meResponse{User: meUser{ID: p.UserID, Name: p.UserName, Role: p.Role}}
	if s, _ := r.Context().Value(sessionKey{}).(*catalog.Session); s != nil {
		resp.CSRFToken = s.CSRFToken
		resp.ExpiresAt = &s.ExpiresAt
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, resp)
}

// clientIP is the request's peer address (proxies' forwarding headers are
// not trusted: anyone can set them).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// sessionState is the API's login state.
type sessionState struct {
	limits  catalog.SessionLimits
	limiter *loginLimiter
}

// loginLimiter slows down password guessing: after a few failures for one
// user name or from one address, further attempts for it are refused for a
// delay that doubles with each failure, up to maxDelay. Failures are
// forgotten after forgetAfter without one.
type loginLimiter struct {
	mu          sync.Mutex
	entries     map[string]*loginFailures
	freeUser    int // failures allowed per user name before delays start
	freeIP      int // failures allowed per address
	baseDelay   time.Duration
	maxDelay    time.Duration
	forgetAfter time.Duration
}

type loginFailures struct {
	n     int
	last  time.Time
	until time.Time
}

func newLoginLimiter() *loginLimiter {
	return &loginLimiter{
		entries:     make(map[string]*loginFailures),
		freeUser:    5,
		freeIP:      20,
		baseDelay:   time.Second,
		maxDelay:    5 * time.Minute,
		forgetAfter: 15 * time.Minute,
	}
}

// blocked returns how long the keys are still blocked (0: not blocked).
func (l *loginLimiter) blocked(keys []string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		e := l.entries[k]
		if e == nil {
			continue
		}
		if now.Sub(e.last) > l.forgetAfter {
			delete(l.entries, k)
			continue
		}
		if d := e.until.Sub(now); d > wait {
			wait = d
		}
	}
	return wait
}

// fail records a failed attempt for every key.
func (l *loginLimiter) fail(keys []string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.entries) > 100_000 {
		// Bound memory under a spray of names: drop the forgotten ones.
		for k, e := range l.entries {
			if now.Sub(e.last) > l.forgetAfter {
				delete(l.entries, k)
			}
		}
	}
	for _, k := range keys {
		e := l.entries[k]
		if e == nil || now.Sub(e.last) > l.forgetAfter {
			e = &loginFailures{}
			l.entries[k] = e
		}
		e.n++
		e.last = now
		free := l.freeUser
		if strings.HasPrefix(k, "ip:") {
			free = l.freeIP
		}
		if over := e.n - free; over > 0 {
			d := l.maxDelay
			if over < 20 {
				d = min(l.baseDelay<<(over-1), l.maxDelay)
			}
			e.until = now.Add(d)
		}
	}
}

// succeed forgets the failures of a key.
func (l *loginLimiter) succeed(key string) {
	l.mu.Lock()
	delete(l.entries, key)
	l.mu.Unlock()
}
