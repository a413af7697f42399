package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/search"
)

// The web UI's own endpoints: saved and recent searches, a message's
// surrounding messages and live tail. They authenticate like every other
// API endpoint (Basic credentials or a session with its CSRF token).
func (a *API) uiRoutes(handle func(pattern string, h http.HandlerFunc)) {
	handle("GET /api/v1/saved-searches", a.listSavedSearches)
	handle("POST /api/v1/saved-searches", a.createSavedSearch)
	handle("GET /api/v1/saved-searches/{id}", a.getSavedSearch)
	handle("PUT /api/v1/saved-searches/{id}", a.updateSavedSearch)
	handle("DELETE /api/v1/saved-searches/{id}", a.deleteSavedSearch)
	handle("GET /api/v1/recent-searches", a.listRecentSearches)
	handle("POST /api/v1/recent-searches", a.addRecentSearch)
	handle("GET /api/v1/messages/context", a.messageContext)
	handle("POST /api/v1/search/tail", a.tail)
}

func (a *API) listSavedSearches(w http.ResponseWriter, r *http.Request) {
	list, err := a.cfg.Catalog.ListSavedSearches(r.Context(), PrincipalFrom(r.Context()).UserID)
	if err != nil {
		a.catalogError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"savedSearches": list})
}

func (a *API) getSavedSearch(w http.ResponseWriter, r *http.Request) {
	s, err := a.cfg.Catalog.GetSavedSearch(r.Context(), PrincipalFrom(r.Context()).UserID, r.PathValue("id"))
	if err != nil {
		a.catalogError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s)
}

func (a *API) createSavedSearch(w http.ResponseWriter, r *http.Request) {
	var spec catalog.SearchSpec
	if !readJSON(w, r, &spec) {
		return
	}
	s, err := a.cfg.Catalog.CreateSavedSearch(r.Context(), PrincipalFrom(r.Context()).UserID, spec)
	if err != nil {
		a.catalogError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, s)
}

func (a *API) updateSavedSearch(w http.ResponseWriter, r *http.Request) {
	var spec catalog.SearchSpec
	if !readJSON(w, r, &spec) {
		return
	}
	s, err := a.cfg.Catalog.UpdateSavedSearch(r.Context(), PrincipalFrom(r.Context()).UserID, r.PathValue("id"), spec)
	if err != nil {
		a.catalogError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s)
}

func (a *API) deleteSavedSearch(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := a.cfg.Catalog.DeleteSavedSearch(r.Context(), PrincipalFrom(r.Context()).UserID, id); err != nil {
		a.catalogError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": id})
}

func (a *API) listRecentSearches(w http.ResponseWriter, r *http.Request) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	list, err := a.cfg.Catalog.ListRecentSearches(r.Context(), PrincipalFrom(r.Context()).UserID, limit)
	if err != nil {
		a.catalogError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"recentSearches": list})
}

func (a *API) addRecentSearch(w http.ResponseWriter, r *http.Request) {
	var spec catalog.SearchSpec
	if !readJSON(w, r, &spec) {
		return
	}
	if err := a.cfg.Catalog.AddRecentSearch(r.Context(), PrincipalFrom(r.Context()).UserID, spec); err != nil {
		a.catalogError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]bool{"ok": true})
}

// messageContext answers GET /api/v1/messages/context?id=<_messageId>&time=<_messageTime ms>&before=N&after=N:
// the message and the messages before and after it from the same source.
func (a *API) messageContext(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id := q.Get("id")
	if id == "" {
		writeError(w, http.StatusBadRequest, "id.missing", `query parameter "id" (the message's _messageId) is required`)
		return
	}
	ms, err := strconv.ParseInt(q.Get("time"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, "time.missing", `query parameter "time" (the message's _messageTime, epoch milliseconds) is required`)
		return
	}
	count := func(name string) (int, bool) {
		v := q.Get(name)
		if v == "" {
			return 20, true
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1000 {
			writeError(w, http.StatusBadRequest, name+".invalid", fmt.Sprintf("query parameter %q must be an integer from 0 to 1000", name))
			return 0, false
		}
		return n, true
	}
	before, ok := count("before")
	if !ok {
		return
	}
	after, ok := count("after")
	if !ok {
		return
	}
	res, err := a.cfg.Search.FindSurrounding(r.Context(), PrincipalFrom(r.Context()), id, time.UnixMilli(ms), before, after)
	if err != nil {
		var se *search.Error
		switch {
		case errors.Is(err, search.ErrMessageNotFound):
			writeError(w, http.StatusNotFound, "message.notfound", fmt.Sprintf("no message %s at %d", id, ms))
		case errors.As(err, &se):
			writeError(w, se.Status, se.Code, se.Msg)
		default:
			a.cfg.Logger.Error("surrounding messages", "err", err)
			writeError(w, http.StatusInternalServerError, "internal.error", "cannot read the surrounding messages")
		}
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"before": rowsJSON(res.Before), "message": mapRow{Map: res.Message}, "after": rowsJSON(res.After)})
}

// tail answers POST /api/v1/search/tail {"query": "..."} with a live tail as
// NDJSON: one line per look (about every second) with the new matching
// messages, oldest first: {"messages":[{"map":{...}}], "time":<ms>,
// "dropped":false}. It ends when the client disconnects, after an hour, or
// with an {"error":{...}} line.
func (a *API) tail(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Query string `json:"query"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	rc := http.NewResponseController(w)
	started := false
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	err := a.cfg.Search.Tail(r.Context(), PrincipalFrom(r.Context()), req.Query, search.TailConfig{}, func(u search.TailUpdate) error {
		if !started {
			started = true
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("X-Accel-Buffering", "no")
			w.WriteHeader(http.StatusOK)
		}
		msgs := u.Messages
		if msgs == nil {
			msgs = []map[string]string{}
		}
		if err := enc.Encode(map[string]any{"messages": rowsJSON(msgs), "time": u.Time.UnixMilli(), "dropped": u.Dropped}); err != nil {
			return err
		}
		return rc.Flush()
	})
	if err == nil || r.Context().Err() != nil {
		return
	}
	var se *search.Error
	if !started {
		if errors.As(err, &se) {
			writeError(w, se.Status, se.Code, se.Msg)
			return
		}
		a.cfg.Logger.Error("live tail", "err", err)
		writeError(w, http.StatusInternalServerError, "internal.error", "live tail failed")
		return
	}
	enc.Encode(map[string]any{"error": map[string]string{"code": "internal.error", "message": err.Error()}})
	rc.Flush()
}
