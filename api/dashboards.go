package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dohyo/dohyo/apps"
	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/dashboards"
	"github.com/dohyo/dohyo/search"
)

// Dashboards (package dashboards) and the app catalog (package apps):
//
//	GET    /api/v1/dashboards[?app=NAME]          {"dashboards": [summary, ...]}
//	POST   /api/v1/dashboards                     create: a dashboard → 201 the dashboard
//	GET    /api/v1/dashboards/{id}                the dashboard
//	PUT    /api/v1/dashboards/{id}                replace: the dashboard with the "version" read → the new one
//	                                              (409 dashboard.version.conflict when it changed since)
//	DELETE /api/v1/dashboards/{id}                {"id": ...}
//	POST   /api/v1/dashboards/{id}/duplicate      {"title": optional} → 201 the copy
//	GET    /api/v1/dashboards/{id}/export         {"format": "dohyo.dashboards/v1", "dashboards": [portable dashboard]}
//	POST   /api/v1/dashboards/import              an export, a dashboard or a list → 201 {"dashboards": [...]}
//	POST   /api/v1/dashboards/validate            a dashboard → {"valid": bool, "problems": [...], "dashboard": normalized}
//	POST   /api/v1/dashboards/{id}/run            draw: NDJSON events (see runDashboard)
//	POST   /api/v1/dashboards/run                 the same for an unsaved dashboard: {"dashboard": {...}, ...}
//	GET    /api/v1/dashboards/{id}/variables/{name}/values?from=&to=&timeZone=   {"values": [...]}
//	POST   /api/v1/dashboards/variable-values     {"variable": {...}, "timeRange": {...}, "timeZone": ""} → {"values": [...]}
//	POST   /api/v1/dashboards/drilldown           a click → {"query", "from", "to", "filters"}
//	GET    /api/v1/dashboards/cache               the shared result cache's counters
//
//	GET    /api/v1/apps                           {"apps": [{"manifest", "installed", "upgradeAvailable", "contents"}]}
//	GET    /api/v1/apps/{name}                    one app
//	POST   /api/v1/apps/{name}/install            {"params": {"category": "aws/cloudtrail"}} → 201 report (admins)
//	POST   /api/v1/apps/{name}/upgrade            {"params": {...}} (optional) → report (admins)
//	POST   /api/v1/apps/{name}/uninstall          → report (admins; DELETE /api/v1/apps/{name} too)
//	GET    /api/v1/geoip                          {"configured", "type", "buildTime", "attribution": {"text", "url", "license", "licenseUrl"}}
//	POST   /api/v1/sumo/import[?dryRun=true]      a Sumo Logic content export → report (sumo.go)
//
// Invalid dashboards are answered 400 with code "dashboard.invalid" and,
// beside the message, "problems": [{"panel": 3, "panelId": "p3",
// "panelTitle": "...", "field": "query", "line": 1, "column": 17,
// "message": "..."}].
func (a *API) dashboardRoutes(handle func(pattern string, h http.HandlerFunc)) {
	handle("GET /api/v1/dashboards", a.listDashboards)
	handle("POST /api/v1/dashboards", a.createDashboard)
	handle("POST /api/v1/dashboards/import", a.importDashboards)
	handle("POST /api/v1/dashboards/validate", a.validateDashboard)
	handle("POST /api/v1/dashboards/run", a.runUnsavedDashboard)
	handle("POST /api/v1/dashboards/variable-values", a.variableValuesUnsaved)
	handle("POST /api/v1/dashboards/drilldown", a.drillDown)
	handle("GET /api/v1/dashboards/cache", a.dashboardCache)
	handle("GET /api/v1/dashboards/{id}", a.getDashboard)
	handle("PUT /api/v1/dashboards/{id}", a.updateDashboard)
	handle("DELETE /api/v1/dashboards/{id}", a.deleteDashboard)
	handle("POST /api/v1/dashboards/{id}/duplicate", a.duplicateDashboard)
	handle("GET /api/v1/dashboards/{id}/export", a.exportDashboard)
	handle("POST /api/v1/dashboards/{id}/run", a.runDashboard)
	handle("GET /api/v1/dashboards/{id}/variables/{name}/values", a.variableValues)

	handle("GET /api/v1/apps", a.listApps)
	handle("GET /api/v1/apps/{name}", a.getApp)
	handle("POST /api/v1/apps/{name}/install", a.installApp)
	handle("POST /api/v1/apps/{name}/upgrade", a.upgradeApp)
	handle("POST /api/v1/apps/{name}/uninstall", a.uninstallApp)
	handle("DELETE /api/v1/apps/{name}", a.uninstallApp)

	handle("GET /api/v1/geoip", a.geoInfo)

	handle("POST /api/v1/sumo/import", a.sumoImport) // sumo.go
}

var errorSeq atomic.Uint64

// errorID returns an error id in the shape of internal/httperr's, for the
// error envelopes that carry more than a message.
func errorID() string {
	return fmt.Sprintf("E%X%04X", time.Now().Unix(), errorSeq.Add(1)&0xffff)
}

// contentState holds the dashboards service and the app installer.
type contentState struct {
	dash *dashboards.Service
	apps *apps.Installer
}

func (a *API) initContent() {
	if a.cfg.Catalog == nil || a.cfg.Search == nil {
		return
	}
	a.content.dash = dashboards.New(a.cfg.Catalog, a.cfg.Search, a.cfg.Dashboards)
	a.content.apps = apps.NewInstaller(a.cfg.Catalog, a.content.dash, a.cfg.Monitors)
}

// Dashboards returns the API's dashboards service.
func (a *API) Dashboards() *dashboards.Service { return a.content.dash }

// Apps returns the API's app installer.
func (a *API) Apps() *apps.Installer { return a.content.apps }

// contentError answers an error of the dashboards or apps packages.
func (a *API) contentError(w http.ResponseWriter, err error) {
	var ve *dashboards.ValidationError
	var re *dashboards.RunError
	var rend *apps.RenderError
	switch {
	case errors.As(err, &ve):
		writeJSON(w, http.StatusBadRequest, map[string]any{"status": 400, "id": errorID(), "code": "dashboard.invalid", "message": ve.Error(), "problems": ve.Problems})
	case errors.As(err, &re):
		writeError(w, http.StatusBadRequest, "dashboard.run.invalid", re.Error())
	case errors.As(err, &rend):
		writeJSON(w, http.StatusBadRequest, map[string]any{"status": 400, "id": errorID(), "code": "app.invalid", "message": rend.Error(), "problems": rend.Problems})
	case errors.Is(err, catalog.ErrVersionConflict):
		writeError(w, http.StatusConflict, "dashboard.version.conflict", err.Error())
	case errors.Is(err, dashboards.ErrVersionRequired):
		writeError(w, http.StatusBadRequest, "dashboard.version.required", err.Error())
	case errors.Is(err, dashboards.ErrForbidden):
		writeError(w, http.StatusForbidden, "forbidden", err.Error())
	case errors.Is(err, apps.ErrUnknownApp):
		writeError(w, http.StatusNotFound, "app.notfound", err.Error())
	case errors.Is(err, apps.ErrAlreadyInstalled):
		writeError(w, http.StatusConflict, "app.installed", err.Error())
	case errors.Is(err, apps.ErrNotInstalled):
		writeError(w, http.StatusConflict, "app.not.installed", err.Error())
	case errors.Is(err, catalog.ErrNotFound), errors.Is(err, catalog.ErrInvalid), errors.Is(err, catalog.ErrConflict):
		a.catalogError(w, err)
	default:
		var se *search.Error
		if errors.As(err, &se) && se.Status != 0 {
			writeError(w, se.Status, se.Code, se.Msg)
			return
		}
		if strings.Contains(err.Error(), "parameter") {
			writeError(w, http.StatusBadRequest, "app.params.invalid", err.Error())
			return
		}
		a.cfg.Logger.Error("dashboards", "err", err)
		writeError(w, http.StatusInternalServerError, "internal.error", "internal error")
	}
}

func (a *API) listDashboards(w http.ResponseWriter, r *http.Request) {
	list, err := a.content.dash.List(r.Context(), r.URL.Query().Get("app"))
	if err != nil {
		a.contentError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"dashboards": list})
}

func (a *API) getDashboard(w http.ResponseWriter, r *http.Request) {
	d, err := a.content.dash.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		a.contentError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// readDashboard reads a dashboard body (up to the catalog's size limit).
func readDashboard(w http.ResponseWriter, r *http.Request, v any) bool {
	return decodeJSONLimit(w, r, v, true, 4<<20)
}

// decodeJSONLimit is decodeJSON with another body limit.
func decodeJSONLimit(w http.ResponseWriter, r *http.Request, v any, strict bool, limit int64) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "contenttype.invalid", fmt.Sprintf("Content-Type %q: send application/json", ct))
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "payload.too.large", fmt.Sprintf("request body over %d bytes", limit))
			return false
		}
		writeError(w, http.StatusBadRequest, "bad.request", "request body is not valid JSON: "+err.Error())
		return false
	}
	return true
}

func (a *API) createDashboard(w http.ResponseWriter, r *http.Request) {
	var d dashboards.Dashboard
	if !readDashboard(w, r, &d) {
		return
	}
	got, err := a.content.dash.Create(r.Context(), PrincipalFrom(r.Context()), &d)
	if err != nil {
		a.contentError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, got)
}

func (a *API) updateDashboard(w http.ResponseWriter, r *http.Request) {
	var d dashboards.Dashboard
	if !readDashboard(w, r, &d) {
		return
	}
	if d.ID != "" && d.ID != r.PathValue("id") {
		writeError(w, http.StatusBadRequest, "bad.request", fmt.Sprintf("the body's id %q differs from the path's %q", d.ID, r.PathValue("id")))
		return
	}
	got, err := a.content.dash.Update(r.Context(), PrincipalFrom(r.Context()), r.PathValue("id"), &d)
	if err != nil {
		a.contentError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, got)
}

func (a *API) deleteDashboard(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := a.content.dash.Delete(r.Context(), PrincipalFrom(r.Context()), id); err != nil {
		a.contentError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": id})
}

func (a *API) duplicateDashboard(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Title string `json:"title"`
	}
	if r.ContentLength != 0 && !readJSON(w, r, &req) {
		return
	}
	got, err := a.content.dash.Duplicate(r.Context(), PrincipalFrom(r.Context()), r.PathValue("id"), req.Title)
	if err != nil {
		a.contentError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, got)
}

func (a *API) exportDashboard(w http.ResponseWriter, r *http.Request) {
	d, err := a.content.dash.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		a.contentError(w, err)
		return
	}
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, d.Title)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.dashboard.json"`, name))
	writeJSON(w, http.StatusOK, dashboards.ExportDocument{Format: dashboards.ExportFormat, Dashboards: []*dashboards.Dashboard{dashboards.Export(d)}})
}

func (a *API) importDashboards(w http.ResponseWriter, r *http.Request) {
	var raw json.RawMessage
	if !decodeJSONLimit(w, r, &raw, false, 16<<20) {
		return
	}
	list, err := dashboards.ParseImport(raw)
	if err != nil {
		a.contentError(w, err)
		return
	}
	got, err := a.content.dash.Import(r.Context(), PrincipalFrom(r.Context()), list)
	if err != nil {
		a.contentError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"dashboards": got})
}

func (a *API) validateDashboard(w http.ResponseWriter, r *http.Request) {
	var d dashboards.Dashboard
	if !readDashboard(w, r, &d) {
		return
	}
	dashboards.Normalize(&d)
	problems := []dashboards.Problem{}
	if err := dashboards.Validate(&d); err != nil {
		var ve *dashboards.ValidationError
		if !errors.As(err, &ve) {
			a.contentError(w, err)
			return
		}
		problems = ve.Problems
	}
	writeJSON(w, http.StatusOK, map[string]any{"valid": len(problems) == 0, "problems": problems, "dashboard": &d})
}

// runRequest is the body of POST /api/v1/dashboards/{id}/run: every field
// optional.
type runRequest struct {
	dashboards.RunRequest
	// Dashboard is the dashboard to run (POST /api/v1/dashboards/run
	// only): an unsaved or edited one.
	Dashboard *dashboards.Dashboard `json:"dashboard,omitempty"`
}

// runDashboard answers POST /api/v1/dashboards/{id}/run with the panels'
// results as NDJSON (application/x-ndjson), one JSON object per line,
// flushed as each is ready. The body (all optional):
//
//	{"timeRange": {"from": "-7d", "to": "now"}, "timeZone": "Europe/Paris",
//	 "variables": {"user": "alice"}, "panels": ["p1", "p3"],
//	 "ignorePanelRanges": false, "limit": 1000, "noCache": false}
//
// Events, each with a "type":
//
//	{"type":"meta","dashboardId":"...","from":<ms>,"to":<ms>,"timeZone":"UTC",
//	 "variables":{"user":"alice"},"panels":["p1","p2",...],
//	 "geoAttribution":{...}}                       first
//	{"type":"panel","panelId":"p2","title":"...","status":"ok",
//	 "query":"<as run>","from":<ms>,"to":<ms>,"aggregate":true,
//	 "fields":[{"name":"user","fieldType":"string","keyField":true},...],
//	 "records":[{"user":"alice","_count":"12"},...],     (or "messages")
//	 "rowCount":N,"truncated":false,"warnings":[...],
//	 "cached":false,"elapsedMs":35}                 one per panel, as each finishes
//	{"type":"panel","panelId":"p3","status":"error",
//	 "error":{"code":"searchjob.parse.error","message":"...","line":2,"column":5}}
//	{"type":"done","panels":12,"errors":0,"cacheHits":3,"elapsedMs":412}   last
//
// A panel's failure is its own event; the others still come. Problems
// with the request itself (a bad range, an unknown variable or panel) are
// answered 400 before the stream starts.
func (a *API) runDashboard(w http.ResponseWriter, r *http.Request) {
	var req runRequest
	if r.ContentLength != 0 && !readDashboard(w, r, &req) {
		return
	}
	if req.Dashboard != nil {
		writeError(w, http.StatusBadRequest, "bad.request", `"dashboard" belongs to POST /api/v1/dashboards/run (an unsaved dashboard)`)
		return
	}
	d, err := a.content.dash.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		a.contentError(w, err)
		return
	}
	a.streamRun(w, r, d, req.RunRequest)
}

func (a *API) runUnsavedDashboard(w http.ResponseWriter, r *http.Request) {
	var req runRequest
	if !readDashboard(w, r, &req) {
		return
	}
	if req.Dashboard == nil {
		writeError(w, http.StatusBadRequest, "bad.request", `send the dashboard to run as "dashboard" (or run a saved one with POST /api/v1/dashboards/{id}/run)`)
		return
	}
	dashboards.Normalize(req.Dashboard)
	if err := dashboards.Validate(req.Dashboard); err != nil {
		a.contentError(w, err)
		return
	}
	a.streamRun(w, r, req.Dashboard, req.RunRequest)
}

func (a *API) streamRun(w http.ResponseWriter, r *http.Request, d *dashboards.Dashboard, req dashboards.RunRequest) {
	rc := http.NewResponseController(w)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	started := false
	attribution := a.geoAttribution()
	emit := func(v any) error {
		if !started {
			started = true
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("X-Accel-Buffering", "no")
			w.WriteHeader(http.StatusOK)
		}
		if info, ok := v.(dashboards.RunInfo); ok && attribution != nil {
			v = struct {
				dashboards.RunInfo
				GeoAttribution any `json:"geoAttribution,omitempty"`
			}{info, attribution}
		}
		if err := enc.Encode(v); err != nil {
			return err
		}
		return rc.Flush()
	}
	sum, err := a.content.dash.Run(r.Context(), PrincipalFrom(r.Context()), d, req, emit)
	if err == nil {
		// The summary is the last event.
		err = emit(sum)
	}
	if err == nil || r.Context().Err() != nil {
		return
	}
	if !started {
		a.contentError(w, err)
		return
	}
	enc.Encode(map[string]any{"type": "error", "code": "internal.error", "message": err.Error()})
	rc.Flush()
}

func (a *API) variableValues(w http.ResponseWriter, r *http.Request) {
	d, err := a.content.dash.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		a.contentError(w, err)
		return
	}
	name := r.PathValue("name")
	var v *dashboards.Variable
	for i := range d.Variables {
		if d.Variables[i].Name == name {
			v = &d.Variables[i]
		}
	}
	if v == nil {
		writeError(w, http.StatusNotFound, "notfound", fmt.Sprintf("dashboard %q has no variable %q", d.Title, name))
		return
	}
	q := r.URL.Query()
	tr := dashboards.TimeRange{From: q.Get("from"), To: q.Get("to")}
	if tr.IsZero() {
		tr = d.TimeRange
	}
	a.answerValues(w, r, v, tr, q.Get("timeZone"))
}

func (a *API) variableValuesUnsaved(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Variable  dashboards.Variable  `json:"variable"`
		TimeRange dashboards.TimeRange `json:"timeRange"`
		TimeZone  string               `json:"timeZone"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	a.answerValues(w, r, &req.Variable, req.TimeRange, req.TimeZone)
}

func (a *API) answerValues(w http.ResponseWriter, r *http.Request, v *dashboards.Variable, tr dashboards.TimeRange, tz string) {
	vals, err := a.content.dash.VariableValues(r.Context(), PrincipalFrom(r.Context()), v, tr, tz)
	if err != nil {
		a.contentError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"values": vals, "allowAll": v.AllowAll, "default": v.DefaultValue()})
}

func (a *API) drillDown(w http.ResponseWriter, r *http.Request) {
	var req dashboards.DrillDownRequest
	if !readJSON(w, r, &req) {
		return
	}
	res, err := dashboards.DrillDown(req)
	if err != nil {
		writeError(w, http.StatusBadRequest, "dashboard.drilldown.invalid", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (a *API) dashboardCache(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, a.content.dash.CacheStats())
}

// ---- apps

func (a *API) listApps(w http.ResponseWriter, r *http.Request) {
	list, err := a.content.apps.List(r.Context())
	if err != nil {
		a.contentError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"apps": list})
}

func (a *API) getApp(w http.ResponseWriter, r *http.Request) {
	info, err := a.content.apps.Info(r.Context(), r.PathValue("name"))
	if err != nil {
		a.contentError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

// appRequest is the body of install and upgrade.
type appRequest struct {
	Params map[string]string `json:"params"`
}

func (a *API) installApp(w http.ResponseWriter, r *http.Request) {
	if !requireAdmin(w, r, "install apps") {
		return
	}
	var req appRequest
	if r.ContentLength != 0 && !readJSON(w, r, &req) {
		return
	}
	rep, err := a.content.apps.Install(r.Context(), PrincipalFrom(r.Context()), r.PathValue("name"), req.Params)
	if err != nil {
		a.contentError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, rep)
}

func (a *API) upgradeApp(w http.ResponseWriter, r *http.Request) {
	if !requireAdmin(w, r, "upgrade apps") {
		return
	}
	var req appRequest
	if r.ContentLength != 0 && !readJSON(w, r, &req) {
		return
	}
	rep, err := a.content.apps.Upgrade(r.Context(), PrincipalFrom(r.Context()), r.PathValue("name"), req.Params)
	if err != nil {
		a.contentError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (a *API) uninstallApp(w http.ResponseWriter, r *http.Request) {
	if !requireAdmin(w, r, "uninstall apps") {
		return
	}
	rep, err := a.content.apps.Uninstall(r.Context(), PrincipalFrom(r.Context()), r.PathValue("name"))
	if err != nil {
		a.contentError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// ---- GeoIP

// geoAttribution is the credit the GeoIP database's licence asks for, or
// nil.
func (a *API) geoAttribution() any {
	if a.cfg.GeoIP == nil {
		return nil
	}
	if at := a.cfg.GeoIP.Attribution(); at != nil {
		return at
	}
	return nil
}

// geoInfo answers GET /api/v1/geoip: whether geo lookup works, which
// database it uses and the attribution its licence asks the UI to show.
func (a *API) geoInfo(w http.ResponseWriter, r *http.Request) {
	if a.cfg.GeoIP == nil {
		writeJSON(w, http.StatusOK, map[string]any{"configured": false,
			"message": "no GeoIP database is configured: geo lookup (maps, countries) fails until the server is started with --geoip-db FILE.mmdb (make run fetches DB-IP's free City Lite database)"})
		return
	}
	db := a.cfg.GeoIP
	writeJSON(w, http.StatusOK, map[string]any{"configured": true, "type": db.Type(), "buildTime": db.BuildTime(), "attribution": db.Attribution()})
}
