package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/internal/units"
	"github.com/dohyo/dohyo/monitors"
	"github.com/dohyo/dohyo/threatintel"
)

// Monitors, notification targets and threat intelligence lists (package
// monitors, package threatintel):
//
//	GET    /api/v1/monitors                  ?app=NAME → {"monitors":[...]}, each with its status (state, firing groups, last window)
//	POST   /api/v1/monitors                  a monitor (monitors.Spec) → 201, the monitor; ?dryRun=true only validates
//	GET    /api/v1/monitors/{id}             → the monitor with its firing alerts
//	PUT    /api/v1/monitors/{id}             a monitor (?version=N: fail with 409 when it changed meanwhile)
//	DELETE /api/v1/monitors/{id}             → {"id"}
//	POST   /api/v1/monitors/{id}/enable      (and /disable) → the monitor
//	POST   /api/v1/monitors/{id}/mute        {"until": RFC 3339} or {"for": "2h"} → the monitor
//	POST   /api/v1/monitors/{id}/unmute      → the monitor
//	GET    /api/v1/monitors/{id}/history     ?kind=fired,resolved&before=ID&limit=N → {"events":[...]}, newest first
//	GET    /api/v1/monitors/history          the same over every monitor
//	GET    /api/v1/monitors/alerts           → {"alerts":[...]}: every firing group of every monitor
//	POST   /api/v1/monitors/enable-app       {"app": "aws-cloudtrail", "enabled": true, "notify": ["secops"]} → {"app","changed","monitors"};
//	                                          notify (optional) adds notification targets to each of the app's monitors
//
//	GET    /api/v1/notification-targets      → {"targets":[...]} (secrets redacted)
//	POST   /api/v1/notification-targets      a target (monitors.TargetSpec) → 201
//	GET    /api/v1/notification-targets/{id}
//	PUT    /api/v1/notification-targets/{id} (secrets sent back redacted are kept)
//	DELETE /api/v1/notification-targets/{id}
//	POST   /api/v1/notification-targets/{id}/test → {"ok","statusCode","error","durationMs"}
//	GET    /api/v1/notification-deliveries   ?monitor=ID&target=ID&before=ID&limit=N → {"deliveries":[...]}
//
//	GET    /api/v1/threatintel               → {"lists":[...]}
//	PUT    /api/v1/threatintel/{name}        body: a CSV file or a STIX 2.1 bundle (or a multipart form with a
//	                                          "file" part); replaces the list → {"list","format","indicators","skipped","skipReasons"}
//	DELETE /api/v1/threatintel/{name}        → {"name"}
//
// Every caller may read. Any user may create monitors; changing one
// (update, delete, enable, mute) takes its creator or an admin. Targets
// (which hold secrets), enabling an app's monitors and threat lists take
// an admin.

func (a *API) monitorRoutes(handle func(string, http.HandlerFunc)) {
	handle("GET /api/v1/monitors", a.listMonitors)
	handle("POST /api/v1/monitors", a.createMonitor)
	handle("GET /api/v1/monitors/history", a.monitorHistory)
	handle("GET /api/v1/monitors/alerts", a.monitorAlerts)
	handle("POST /api/v1/monitors/enable-app", a.enableAppMonitors)
	handle("GET /api/v1/monitors/{id}", a.getMonitor)
	handle("PUT /api/v1/monitors/{id}", a.updateMonitor)
	handle("DELETE /api/v1/monitors/{id}", a.deleteMonitor)
	handle("POST /api/v1/monitors/{id}/enable", a.setMonitorEnabled(true))
	handle("POST /api/v1/monitors/{id}/disable", a.setMonitorEnabled(false))
	handle("POST /api/v1/monitors/{id}/mute", a.muteMonitor)
	handle("POST /api/v1/monitors/{id}/unmute", a.unmuteMonitor)
	handle("GET /api/v1/monitors/{id}/history", a.monitorHistory)

	handle("GET /api/v1/notification-targets", a.listTargets)
	handle("POST /api/v1/notification-targets", a.createTarget)
	handle("GET /api/v1/notification-targets/{id}", a.getTarget)
	handle("PUT /api/v1/notification-targets/{id}", a.updateTarget)
	handle("DELETE /api/v1/notification-targets/{id}", a.deleteTarget)
	handle("POST /api/v1/notification-targets/{id}/test", a.testTarget)
	handle("GET /api/v1/notification-deliveries", a.listDeliveries)

	handle("GET /api/v1/threatintel", a.listThreatLists)
	handle("PUT /api/v1/threatintel/{name}", a.uploadThreatList)
	handle("DELETE /api/v1/threatintel/{name}", a.deleteThreatList)
}

// monitorService returns the monitors service, answering 503 without one.
func (a *API) monitorService(w http.ResponseWriter) *monitors.Service {
	if s, ok := a.cfg.Monitors.(*monitors.Service); ok && s != nil {
		return s
	}
	writeError(w, http.StatusServiceUnavailable, "monitors.unavailable", "monitors are not available on this server")
	return nil
}

// monitorError answers an error of the monitors service.
func (a *API) monitorError(w http.ResponseWriter, err error) {
	if ve, ok := monitors.AsValidationError(err); ok {
		writeJSON(w, http.StatusBadRequest, map[string]any{"status": 400, "id": errorID(), "code": "monitor.invalid", "message": ve.Error(), "problems": ve.Problems})
		return
	}
	a.catalogError(w, err)
}

// readSpec decodes a monitor definition strictly, reporting problems in
// the monitors' format.
func readSpec(w http.ResponseWriter, r *http.Request) (*monitors.Spec, bool) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "contenttype.invalid", fmt.Sprintf("Content-Type %q: send application/json", ct))
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "payload.too.large", fmt.Sprintf("request body over %d bytes", maxJSONBody))
		return nil, false
	}
	var sp monitors.Spec
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sp); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"status": 400, "id": errorID(), "code": "monitor.invalid",
			"message": "not a valid monitor definition: " + err.Error(), "problems": []monitors.Problem{{Message: "not a valid monitor definition: " + err.Error()}}})
		return nil, false
	}
	return &sp, true
}

// canChange reports whether the caller may change a monitor (its creator
// or an admin), answering 403 otherwise.
// monitorReply answers 200 with v, or with the monitors service's error.
func (a *API) monitorReply(w http.ResponseWriter, v any, err error) {
	if err != nil {
		a.monitorError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (a *API) canChange(w http.ResponseWriter, r *http.Request, svc *monitors.Service) bool {
	p := PrincipalFrom(r.Context())
	if p.IsAdmin() {
		return true
	}
	m, err := svc.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		a.monitorError(w, err)
		return false
	}
	if m.CreatedBy != p.UserName {
		writeError(w, http.StatusForbidden, "forbidden", fmt.Sprintf("monitor %s belongs to %s: only its creator or an admin may change it", m.ID, m.CreatedBy))
		return false
	}
	return true
}

func (a *API) listMonitors(w http.ResponseWriter, r *http.Request) {
	svc := a.monitorService(w)
	if svc == nil {
		return
	}
	list, err := svc.List(r.Context(), r.URL.Query().Get("app"))
	a.monitorReply(w, map[string]any{"monitors": list}, err)
}

func (a *API) createMonitor(w http.ResponseWriter, r *http.Request) {
	svc := a.monitorService(w)
	if svc == nil {
		return
	}
	dry, ok := boolParam(w, r, "dryRun")
	if !ok {
		return
	}
	sp, ok := readSpec(w, r)
	if !ok {
		return
	}
	if dry {
		if err := svc.Validate(r.Context(), sp); err != nil {
			a.monitorError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"valid": true, "monitor": sp})
		return
	}
	by := PrincipalFrom(r.Context()).UserName
	m, err := svc.Create(r.Context(), sp, monitors.CreateOptions{By: by})
	if err != nil {
		a.monitorError(w, err)
		return
	}
	a.cfg.Logger.Info("monitor created", "id", m.ID, "name", m.Name, "by", by)
	writeJSON(w, http.StatusCreated, m)
}

func (a *API) getMonitor(w http.ResponseWriter, r *http.Request) {
	svc := a.monitorService(w)
	if svc == nil {
		return
	}
	m, err := svc.Get(r.Context(), r.PathValue("id"))
	a.monitorReply(w, m, err)
}

func (a *API) updateMonitor(w http.ResponseWriter, r *http.Request) {
	svc := a.monitorService(w)
	if svc == nil || !a.canChange(w, r, svc) {
		return
	}
	var version int64
	if v := r.URL.Query().Get("version"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			writeError(w, http.StatusBadRequest, "bad.request", fmt.Sprintf("version=%q: want the monitor's version, a positive number", v))
			return
		}
		version = n
	}
	sp, ok := readSpec(w, r)
	if !ok {
		return
	}
	m, err := svc.Update(r.Context(), r.PathValue("id"), sp, PrincipalFrom(r.Context()).UserName, version)
	a.monitorReply(w, m, err)
}

func (a *API) deleteMonitor(w http.ResponseWriter, r *http.Request) {
	svc := a.monitorService(w)
	if svc == nil || !a.canChange(w, r, svc) {
		return
	}
	id := r.PathValue("id")
	if err := svc.Delete(r.Context(), id); err != nil {
		a.monitorError(w, err)
		return
	}
	a.cfg.Logger.Info("monitor deleted", "id", id, "by", PrincipalFrom(r.Context()).UserName)
	writeJSON(w, http.StatusOK, map[string]string{"id": id})
}

func (a *API) setMonitorEnabled(enabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		svc := a.monitorService(w)
		if svc == nil || !a.canChange(w, r, svc) {
			return
		}
		m, err := svc.SetEnabled(r.Context(), r.PathValue("id"), enabled, PrincipalFrom(r.Context()).UserName)
		if err != nil {
			a.monitorError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, m)
	}
}

func (a *API) muteMonitor(w http.ResponseWriter, r *http.Request) {
	svc := a.monitorService(w)
	if svc == nil || !a.canChange(w, r, svc) {
		return
	}
	var req struct {
		Until *time.Time `json:"until"`
		For   string     `json:"for"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	var until time.Time
	switch {
	case req.Until != nil && req.For != "":
		writeError(w, http.StatusBadRequest, "bad.request", `give "until" or "for", not both`)
		return
	case req.Until != nil:
		until = *req.Until
	case req.For != "":
		d, err := units.ParseDuration(req.For)
		if err != nil || d <= 0 {
			writeError(w, http.StatusBadRequest, "bad.request", fmt.Sprintf("for %q: want a positive duration such as 30m, 2h or 1d", req.For))
			return
		}
		until = time.Now().Add(d)
	default:
		writeError(w, http.StatusBadRequest, "bad.request", `give "until" (RFC 3339 time) or "for" (a duration such as 2h)`)
		return
	}
	if !until.After(time.Now()) {
		writeError(w, http.StatusBadRequest, "bad.request", fmt.Sprintf("until %s is in the past", until.UTC().Format(time.RFC3339)))
		return
	}
	m, err := svc.Mute(r.Context(), r.PathValue("id"), until, PrincipalFrom(r.Context()).UserName)
	a.monitorReply(w, m, err)
}

func (a *API) unmuteMonitor(w http.ResponseWriter, r *http.Request) {
	svc := a.monitorService(w)
	if svc == nil || !a.canChange(w, r, svc) {
		return
	}
	m, err := svc.Mute(r.Context(), r.PathValue("id"), time.Time{}, PrincipalFrom(r.Context()).UserName)
	a.monitorReply(w, m, err)
}

// pageParams reads before and limit.
func pageParams(w http.ResponseWriter, r *http.Request) (before int64, limit int, ok bool) {
	q := r.URL.Query()
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			writeError(w, http.StatusBadRequest, "bad.request", fmt.Sprintf("before=%q: want an id, a positive number", v))
			return 0, 0, false
		}
		before = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > 1000 {
			writeError(w, http.StatusBadRequest, "bad.request", fmt.Sprintf("limit=%q: want a number from 1 to 1000", v))
			return 0, 0, false
		}
		limit = n
	}
	return before, limit, true
}

func (a *API) monitorHistory(w http.ResponseWriter, r *http.Request) {
	svc := a.monitorService(w)
	if svc == nil {
		return
	}
	before, limit, ok := pageParams(w, r)
	if !ok {
		return
	}
	f := catalog.EventFilter{MonitorID: r.PathValue("id"), BeforeID: before, Limit: limit}
	if k := r.URL.Query().Get("kind"); k != "" {
		for _, s := range strings.Split(k, ",") {
			if s = strings.TrimSpace(s); s != "" {
				f.Kinds = append(f.Kinds, s)
			}
		}
	}
	if f.MonitorID != "" {
		if _, err := svc.Get(r.Context(), f.MonitorID); err != nil {
			a.monitorError(w, err)
			return
		}
	}
	evs, err := svc.History(r.Context(), f)
	if err != nil {
		a.monitorError(w, err)
		return
	}
	if evs == nil {
		evs = []catalog.MonitorEvent{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": evs})
}

func (a *API) monitorAlerts(w http.ResponseWriter, r *http.Request) {
	svc := a.monitorService(w)
	if svc == nil {
		return
	}
	al, err := svc.Alerts(r.Context())
	if err != nil {
		a.monitorError(w, err)
		return
	}
	if al == nil {
		al = []catalog.MonitorAlert{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": al})
}

func (a *API) enableAppMonitors(w http.ResponseWriter, r *http.Request) {
	svc := a.monitorService(w)
	if svc == nil || !requireAdmin(w, r, "enable or disable an app's monitors") {
		return
	}
	var req struct {
		App     string   `json:"app"`
		Enabled *bool    `json:"enabled"`
		Notify  []string `json:"notify"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.App) == "" {
		writeError(w, http.StatusBadRequest, "bad.request", `"app" is required: the name of an installed app, e.g. aws-cloudtrail`)
		return
	}
	enabled := req.Enabled == nil || *req.Enabled
	list, err := svc.List(r.Context(), req.App)
	if err != nil {
		a.monitorError(w, err)
		return
	}
	if len(list) == 0 {
		writeError(w, http.StatusNotFound, "notfound", fmt.Sprintf("no monitors of app %q: is it installed? (dohyo app install %s)", req.App, req.App))
		return
	}
	by := PrincipalFrom(r.Context()).UserName
	if len(req.Notify) > 0 {
		if _, err := svc.AddAppTargets(r.Context(), req.App, req.Notify, by); err != nil {
			a.monitorError(w, err)
			return
		}
	}
	n, err := svc.SetAppEnabled(r.Context(), req.App, enabled, by)
	if err != nil {
		a.monitorError(w, err)
		return
	}
	if list, err = svc.List(r.Context(), req.App); err != nil {
		a.monitorError(w, err)
		return
	}
	a.cfg.Logger.Info("app monitors changed", "app", req.App, "enabled", enabled, "changed", n, "by", PrincipalFrom(r.Context()).UserName)
	writeJSON(w, http.StatusOK, map[string]any{"app": req.App, "enabled": enabled, "changed": n, "monitors": list})
}

// ---- notification targets ----

func readTarget(w http.ResponseWriter, r *http.Request) (*monitors.TargetSpec, bool) {
	var t monitors.TargetSpec
	if !readJSON(w, r, &t) {
		return nil, false
	}
	return &t, true
}

func (a *API) listTargets(w http.ResponseWriter, r *http.Request) {
	svc := a.monitorService(w)
	if svc == nil {
		return
	}
	list, err := svc.ListTargets(r.Context())
	a.monitorReply(w, map[string]any{"targets": list}, err)
}

func (a *API) createTarget(w http.ResponseWriter, r *http.Request) {
	svc := a.monitorService(w)
	if svc == nil || !requireAdmin(w, r, "create notification targets") {
		return
	}
	spec, ok := readTarget(w, r)
	if !ok {
		return
	}
	t, err := svc.CreateTarget(r.Context(), spec, PrincipalFrom(r.Context()).UserName)
	if err != nil {
		a.monitorError(w, err)
		return
	}
	a.cfg.Logger.Info("notification target created", "id", t.ID, "name", t.Name, "type", t.Type)
	writeJSON(w, http.StatusCreated, t)
}

func (a *API) getTarget(w http.ResponseWriter, r *http.Request) {
	svc := a.monitorService(w)
	if svc == nil {
		return
	}
	t, err := svc.GetTarget(r.Context(), r.PathValue("id"))
	a.monitorReply(w, t, err)
}

func (a *API) updateTarget(w http.ResponseWriter, r *http.Request) {
	svc := a.monitorService(w)
	if svc == nil || !requireAdmin(w, r, "change notification targets") {
		return
	}
	spec, ok := readTarget(w, r)
	if !ok {
		return
	}
	t, err := svc.UpdateTarget(r.Context(), r.PathValue("id"), spec, PrincipalFrom(r.Context()).UserName)
	a.monitorReply(w, t, err)
}

func (a *API) deleteTarget(w http.ResponseWriter, r *http.Request) {
	svc := a.monitorService(w)
	if svc == nil || !requireAdmin(w, r, "delete notification targets") {
		return
	}
	id := r.PathValue("id")
	if err := svc.DeleteTarget(r.Context(), id); err != nil {
		a.monitorError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": id})
}

func (a *API) testTarget(w http.ResponseWriter, r *http.Request) {
	svc := a.monitorService(w)
	if svc == nil || !requireAdmin(w, r, "send test notifications") {
		return
	}
	res, err := svc.TestTarget(r.Context(), r.PathValue("id"))
	a.monitorReply(w, res, err)
}

func (a *API) listDeliveries(w http.ResponseWriter, r *http.Request) {
	svc := a.monitorService(w)
	if svc == nil {
		return
	}
	before, limit, ok := pageParams(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	list, err := svc.Deliveries(r.Context(), catalog.DeliveryFilter{MonitorID: q.Get("monitor"), TargetID: q.Get("target"), BeforeID: before, Limit: limit})
	if err != nil {
		a.monitorError(w, err)
		return
	}
	if list == nil {
		list = []catalog.DeliveryAttempt{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": list})
}

// ---- threat intelligence lists ----

// maxThreatFile bounds an uploaded indicator file.
const maxThreatFile = 64 << 20

func (a *API) listThreatLists(w http.ResponseWriter, r *http.Request) {
	lists, err := threatintel.Lists(r.Context(), a.cfg.Catalog)
	if err != nil {
		a.catalogError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"lists": lists})
}

func (a *API) uploadThreatList(w http.ResponseWriter, r *http.Request) {
	if !requireAdmin(w, r, "upload threat intelligence lists") {
		return
	}
	name := r.PathValue("name")
	if _, err := threatintel.TableName(name); err != nil {
		writeError(w, http.StatusBadRequest, "bad.request", err.Error())
		return
	}
	body := http.MaxBytesReader(w, r.Body, maxThreatFile)
	var src io.Reader = body
	source := name
	if mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && mt == "multipart/form-data" {
		part, err := filePart(multipart.NewReader(body, params["boundary"]))
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad.request", err.Error())
			return
		}
		if p, ok := part.(*multipart.Part); ok && p.FileName() != "" {
			source = p.FileName()
		}
		src = part
	}
	data, err := io.ReadAll(src)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "payload.too.large", fmt.Sprintf("the file is over %d bytes", maxThreatFile))
			return
		}
		writeError(w, http.StatusBadRequest, "bad.request", "reading the file: "+err.Error())
		return
	}
	parsed, err := threatintel.Parse(data, source)
	if err != nil {
		writeError(w, http.StatusBadRequest, "threatintel.invalid", err.Error())
		return
	}
	desc := r.URL.Query().Get("description")
	by := PrincipalFrom(r.Context()).UserName
	l, err := threatintel.Import(r.Context(), a.cfg.Catalog, name, desc, parsed.Indicators, by)
	if err != nil {
		a.catalogError(w, err)
		return
	}
	a.cfg.Logger.Info("threat list uploaded", "name", l.Name, "format", parsed.Format, "indicators", len(parsed.Indicators), "skipped", parsed.Skipped, "by", by)
	writeJSON(w, http.StatusOK, map[string]any{"list": l, "format": parsed.Format, "indicators": len(parsed.Indicators),
		"skipped": parsed.Skipped, "skipReasons": parsed.Reasons})
}

func (a *API) deleteThreatList(w http.ResponseWriter, r *http.Request) {
	if !requireAdmin(w, r, "delete threat intelligence lists") {
		return
	}
	name := r.PathValue("name")
	if err := threatintel.Delete(r.Context(), a.cfg.Catalog, name); err != nil {
		a.catalogError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"name": name})
}
