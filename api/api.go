// Package api is dohyo's HTTP API: the Sumo Logic-compatible endpoints
// (sources, search jobs) and the UI's own. Authentication happens here, once,
// in a middleware wrapped around every /api/ route before any handler runs.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/dohyo/dohyo/apps"
	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/dashboards"
	"github.com/dohyo/dohyo/geoip"
	"github.com/dohyo/dohyo/internal/httperr"
	"github.com/dohyo/dohyo/search"
)

// Config wires the API to the rest of the server.
type Config struct {
	Catalog *catalog.Catalog
	Search  *search.Manager
	// PublicURL is the base URL clients reach this server at, used to build
	// receiver URLs; empty means "from the request" (scheme and Host).
	PublicURL string
	Logger    *slog.Logger
	// Dashboards tunes the dashboards service (its result cache and
	// concurrency; dashboards.go).
	Dashboards dashboards.Config
	// Monitors creates the monitors apps ship; nil: apps install without
	// their monitors (and say so).
	Monitors apps.MonitorInstaller
	// GeoIP is the GeoIP database, for its attribution; nil when none.
	GeoIP *geoip.DB
}

// API holds the handlers.
type API struct {
	cfg      Config
	sessions sessionState // session.go
	content  contentState // dashboards.go
}

// New returns the API.
func New(cfg Config) *API {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	a := &API{cfg: cfg, sessions: sessionState{limiter: newLoginLimiter()}}
	a.initContent() // dashboards.go
	return a
}

// Routes registers the API's endpoints on mux.
func (a *API) Routes(mux *http.ServeMux) {
	// paths knows every endpoint's path without its method, to tell a wrong
	// method (405) from an unknown path (404).
	paths := http.NewServeMux()
	handle := func(pattern string, h http.HandlerFunc) {
		mux.Handle(pattern, a.authenticate(h))
		_, path, _ := strings.Cut(pattern, " ")
		if _, p := paths.Handler(&http.Request{Method: "GET", URL: &url.URL{Path: strings.ReplaceAll(path, "{id}", "x")}}); p == "" {
			paths.Handle(path, http.NotFoundHandler())
		}
	}
	handle("POST /api/v1/sources", a.createSource)
	handle("GET /api/v1/sources", a.listSources)
	handle("GET /api/v1/sources/{id}", a.getSource)
	handle("DELETE /api/v1/sources/{id}", a.deleteSource)
	handle("POST /api/v1/sources/{id}/token", a.regenerateToken)

	handle("POST /api/v1/search/jobs", a.createJob)
	handle("GET /api/v1/search/jobs/{id}", a.jobStatus)
	handle("GET /api/v1/search/jobs/{id}/messages", a.jobMessages)
	handle("GET /api/v1/search/jobs/{id}/records", a.jobRecords)
	handle("GET /api/v1/search/jobs/{id}/fields", a.jobFields)
	handle("DELETE /api/v1/search/jobs/{id}", a.deleteJob)
	handle("POST /api/v1/search/stream", a.streamSearch)
	handle("POST /api/v1/query/explain", a.explain)

	// The web UI's session (session.go); login is the one endpoint that
	// needs no credentials.
	mux.HandleFunc("POST /api/v1/login", a.login)
	paths.Handle("/api/v1/login", http.NotFoundHandler())
	handle("POST /api/v1/logout", a.logout)
	handle("GET /api/v1/me", a.me)
	a.uiRoutes(handle)        // ui.go
	a.lookupRoutes(handle)    // lookups.go
	a.dashboardRoutes(handle) // dashboards.go
	a.signatureRoutes(handle) // signatures.go
	a.monitorRoutes(handle)   // monitors.go

	// Anything else under /api/ is answered in the API's own format, after
	// authentication so that unauthenticated callers learn nothing.
	mux.Handle("/api/", a.authenticate(func(w http.ResponseWriter, r *http.Request) {
		if _, p := paths.Handler(r); p != "" {
			writeError(w, http.StatusMethodNotAllowed, "method.unsupported", fmt.Sprintf("%s is not supported on %s", r.Method, r.URL.Path))
			return
		}
		writeError(w, http.StatusNotFound, "notfound", fmt.Sprintf("no API endpoint %s %s", r.Method, r.URL.Path))
	}))
}

type principalKey struct{}

// PrincipalFrom returns the authenticated caller of a request.
func PrincipalFrom(ctx context.Context) *catalog.Principal {
	p, _ := ctx.Value(principalKey{}).(*catalog.Principal)
	return p
}

// authenticate checks HTTP Basic credentials (access id : access key) before
// the handler runs; failures get 401 and touch nothing.
func (a *API) authenticate(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, key, ok := r.BasicAuth()
		if !ok {
			// The web UI's session cookie (session.go).
			if p, s, handled := a.sessionAuth(w, r); handled {
				return
			} else if p != nil {
				ctx := context.WithValue(r.Context(), principalKey{}, p)
				h(w, r.WithContext(context.WithValue(ctx, sessionKey{}, s)))
				return
			}
			if r.Header.Get(uiHeader) == "" {
				w.Header().Set("WWW-Authenticate", `Basic realm="dohyo"`)
			}
			writeError(w, http.StatusUnauthorized, "unauthorized", "credentials required: HTTP Basic auth with an access id and access key, or a session (POST /api/v1/login)")
			return
		}
		p, err := a.cfg.Catalog.Authenticate(r.Context(), id, key)
		if err != nil {
			if errors.Is(err, catalog.ErrUnauthorized) {
				w.Header().Set("WWW-Authenticate", `Basic realm="dohyo"`)
				writeError(w, http.StatusUnauthorized, "unauthorized", "invalid access id or access key")
				return
			}
			a.cfg.Logger.Error("authentication failed", "err", err)
			writeError(w, http.StatusInternalServerError, "internal.error", "authentication is unavailable")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	httperr.Write(w, status, code, msg)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// maxJSONBody bounds API request bodies.
const maxJSONBody = 1 << 20

// readJSON decodes a JSON request body into v, answering the error itself.
// Unknown fields are errors: they are typos in our own APIs.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool { return decodeJSON(w, r, v, true) }

// readJSONLenient is readJSON for Sumo-compatible endpoints, whose clients
// may send fields we do not use.
func readJSONLenient(w http.ResponseWriter, r *http.Request, v any) bool {
	return decodeJSON(w, r, v, false)
}

func decodeJSON(w http.ResponseWriter, r *http.Request, v any, strict bool) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "contenttype.invalid", fmt.Sprintf("Content-Type %q: send application/json", ct))
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "payload.too.large", fmt.Sprintf("request body over %d bytes", maxJSONBody))
			return false
		}
		writeError(w, http.StatusBadRequest, "bad.request", "request body is not valid JSON: "+err.Error())
		return false
	}
	return true
}

// baseURL is the URL clients reach this server at.
func (a *API) baseURL(r *http.Request) string {
	if a.cfg.PublicURL != "" {
		return a.cfg.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// catalogError answers an error from the catalog.
func (a *API) catalogError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, catalog.ErrNotFound):
		writeError(w, http.StatusNotFound, "notfound", err.Error())
	case errors.Is(err, catalog.ErrInvalid):
		writeError(w, http.StatusBadRequest, "bad.request", err.Error())
	case errors.Is(err, catalog.ErrConflict):
		writeError(w, http.StatusConflict, "conflict", err.Error())
	default:
		a.cfg.Logger.Error("catalog error", "err", err)
		writeError(w, http.StatusInternalServerError, "internal.error", "internal error")
	}
}
