package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/dohyo/dohyo/query"
	"github.com/dohyo/dohyo/search"
)

// Drill-down into the signatures of logreduce and logcompare (the query
// form is "... | logreduce details <id>", see query/op_logreduce.go):
//
//	GET /api/v1/signatures/{id}/query?query=<the logreduce query>
//	    → {"signatureId", "query": "<the drill-down query>"}
//	GET /api/v1/signatures/{id}/messages?query=<the logreduce query>&from=&to=[&timeZone=][&limit=100]
//	    → {"signatureId", "query", "messages": [{"map": {...}}], "truncated", "warnings"}
//
// {id} is the _signature_id of a logreduce or logcompare record (or the
// _cluster_id of logreduce values). query is the query that produced it;
// the drill-down keeps everything before its (first) logreduce or
// logcompare stage and drills into the signature there. from, to and
// timeZone are read as for search jobs and must be the range of the
// logreduce run (the signatures are those of that range).
//
// The first form only builds the query: the UI runs it through the search
// job API like any search (pages of messages, histogram, fields). The
// second runs it at once and answers the newest limit messages (at most
// 10,000), newest first; truncated says there were more. Both answer 400
// with the query error when the query has no logreduce stage or the id is
// not 16 hex digits.

func (a *API) signatureRoutes(handle func(string, http.HandlerFunc)) {
	handle("GET /api/v1/signatures/{id}/query", a.signatureQuery)
	handle("GET /api/v1/signatures/{id}/messages", a.signatureMessages)
}

// drillDown builds the drill-down query of the request, answering errors.
func drillDown(w http.ResponseWriter, r *http.Request) (string, bool) {
	text := r.URL.Query().Get("query")
	if text == "" {
		writeError(w, http.StatusBadRequest, "searchjob.no.query", `query parameter "query" (the logreduce query) is required`)
		return "", false
	}
	q, err := query.DrillDownQuery(text, r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "searchjob.parse.error", err.Error())
		return "", false
	}
	return q, true
}

func (a *API) signatureQuery(w http.ResponseWriter, r *http.Request) {
	q, ok := drillDown(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"signatureId": r.PathValue("id"), "query": q})
}

func (a *API) signatureMessages(w http.ResponseWriter, r *http.Request) {
	q, ok := drillDown(w, r)
	if !ok {
		return
	}
	args := r.URL.Query()
	limit := 100
	if v := args.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			writeError(w, http.StatusBadRequest, "limit.invalid", fmt.Sprintf("query parameter \"limit\"=%q must be an integer from 1 to 10000", v))
			return
		}
		limit = n
	}
	body := createJobRequest{Query: q, From: args.Get("from"), To: args.Get("to"), TimeZone: args.Get("timeZone"), TimeZoneLower: args.Get("timezone")}
	sreq, ok := searchRequest(w, &body)
	if !ok {
		return
	}
	res, err := a.cfg.Search.Run(r.Context(), PrincipalFrom(r.Context()), sreq, search.RunOptions{Limit: limit, NoSave: true})
	if err != nil {
		var se *search.Error
		if errors.As(err, &se) && se.Status == 0 {
			writeError(w, http.StatusUnprocessableEntity, se.Code, se.Msg)
			return
		}
		a.searchError(w, err)
		return
	}
	warns := res.Warnings
	if warns == nil {
		warns = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"signatureId": r.PathValue("id"),
		"query":       q,
		"messages":    rowsJSON(res.Messages),
		"truncated":   res.Truncated,
		"warnings":    warns,
	})
}
