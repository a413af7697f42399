package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dohyo/dohyo/search"
)

// createJobRequest is the body of POST /api/v1/search/jobs.
type createJobRequest struct {
	Query           string `json:"query"`
	From            string `json:"from"`
	To              string `json:"to"`
	TimeZone        string `json:"timeZone"`
	TimeZoneLower   string `json:"timezone"`
	ByReceiptTime   bool   `json:"byReceiptTime"`
	AutoParsingMode string `json:"autoParsingMode"`
}

// parseJobTime parses a search job time: epoch milliseconds, or an ISO-8601
// local date-time in loc (an explicit offset or Z is honoured too).
func parseJobTime(s string, loc *time.Location) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// searchRequest turns the body of a search request into a search.Request,
// answering the error itself (Sumo's codes).
func searchRequest(w http.ResponseWriter, req *createJobRequest) (search.Request, bool) {
	tzName := req.TimeZone
	if tzName == "" {
		tzName = req.TimeZoneLower
	}
	loc := time.UTC
	if tzName != "" {
		var err error
		if loc, err = time.LoadLocation(tzName); err != nil {
			writeError(w, http.StatusBadRequest, "searchjob.unknown.timezone", fmt.Sprintf("unknown time zone %q", tzName))
			return search.Request{}, false
		}
	}
	if req.ByReceiptTime {
		writeError(w, http.StatusBadRequest, "searchjob.unknown.time.type", "byReceiptTime searches are not supported yet")
		return search.Request{}, false
	}
	from, ok := parseJobTime(req.From, loc)
	if !ok {
		writeError(w, http.StatusBadRequest, "searchjob.invalid.timestamp.from", fmt.Sprintf("'from' %q is neither epoch milliseconds nor an ISO-8601 date-time (YYYY-MM-DDTHH:mm:ss)", req.From))
		return search.Request{}, false
	}
	to, ok := parseJobTime(req.To, loc)
	if !ok {
		writeError(w, http.StatusBadRequest, "searchjob.invalid.timestamp.to", fmt.Sprintf("'to' %q is neither epoch milliseconds nor an ISO-8601 date-time (YYYY-MM-DDTHH:mm:ss)", req.To))
		return search.Request{}, false
	}
	return search.Request{Query: req.Query, From: from, To: to, Location: loc}, true
}

// searchError answers an error starting a search.
func (a *API) searchError(w http.ResponseWriter, err error) {
	var se *search.Error
	if errors.As(err, &se) {
		writeError(w, se.Status, se.Code, se.Msg)
		return
	}
	a.cfg.Logger.Error("start search", "err", err)
	writeError(w, http.StatusInternalServerError, "internal.error", "cannot start the search")
}

func (a *API) createJob(w http.ResponseWriter, r *http.Request) {
	var req createJobRequest
	if !readJSONLenient(w, r, &req) {
		return
	}
	sreq, ok := searchRequest(w, &req)
	if !ok {
		return
	}
	job, err := a.cfg.Search.Create(PrincipalFrom(r.Context()), sreq)
	if err != nil {
		a.searchError(w, err)
		return
	}
	self := a.baseURL(r) + "/api/v1/search/jobs/" + job.ID
	w.Header().Set("Location", self)
	http.SetCookie(w, &http.Cookie{Name: "dohyo_search", Value: job.ID, Path: "/api/v1/search/jobs", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	writeJSON(w, http.StatusAccepted, map[string]any{"id": job.ID, "link": map[string]string{"rel": "self", "href": self}})
}

func (a *API) job(w http.ResponseWriter, r *http.Request) *search.Job {
	j, err := a.cfg.Search.Get(PrincipalFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusNotFound, "jobid.invalid", fmt.Sprintf("no search job %q (it may have expired: jobs not polled for a while are cancelled)", r.PathValue("id")))
		return nil
	}
	return j
}

func (a *API) jobStatus(w http.ResponseWriter, r *http.Request) {
	if j := a.job(w, r); j != nil {
		writeJSON(w, http.StatusOK, j.Status())
	}
}

// pageArgs reads offset and limit with Sumo's error codes.
func pageArgs(w http.ResponseWriter, r *http.Request) (offset, limit int, ok bool) {
	q := r.URL.Query()
	get := func(name string) (int, bool) {
		v := q.Get(name)
		if v == "" {
			writeError(w, http.StatusBadRequest, name+".missing", fmt.Sprintf("query parameter %q is required", name))
			return 0, false
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, name+".invalid", fmt.Sprintf("query parameter %q=%q is not an integer", name, v))
			return 0, false
		}
		if n < 0 {
			writeError(w, http.StatusBadRequest, name+".negative", fmt.Sprintf("query parameter %q must not be negative", name))
			return 0, false
		}
		return n, true
	}
	if offset, ok = get("offset"); !ok {
		return
	}
	if limit, ok = get("limit"); !ok {
		return
	}
	if limit == 0 {
		writeError(w, http.StatusBadRequest, "limit.zero", "query parameter \"limit\" must be at least 1")
		return 0, 0, false
	}
	if limit > 10000 {
		writeError(w, http.StatusBadRequest, "limit.too.large", "query parameter \"limit\" must be at most 10000")
		return 0, 0, false
	}
	return offset, limit, true
}

type mapRow struct {
	Map map[string]string `json:"map"`
}

func rowsJSON(rows []map[string]string) []mapRow {
	out := make([]mapRow, len(rows))
	for i, m := range rows {
		out[i].Map = m
	}
	return out
}

func (a *API) jobMessages(w http.ResponseWriter, r *http.Request) {
	j := a.job(w, r)
	if j == nil {
		return
	}
	offset, limit, ok := pageArgs(w, r)
	if !ok {
		return
	}
	p := j.Messages(offset, limit)
	writeJSON(w, http.StatusOK, map[string]any{"fields": nonNil(p.Fields), "messages": rowsJSON(p.Rows)})
}

func (a *API) jobRecords(w http.ResponseWriter, r *http.Request) {
	j := a.job(w, r)
	if j == nil {
		return
	}
	if !j.IsAggregate() {
		writeError(w, http.StatusBadRequest, "no.records.not.an.aggregation.query", "this query has no aggregate, so it has messages but no records")
		return
	}
	offset, limit, ok := pageArgs(w, r)
	if !ok {
		return
	}
	p := j.Records(offset, limit)
	writeJSON(w, http.StatusOK, map[string]any{"fields": nonNil(p.Fields), "records": rowsJSON(p.Rows)})
}

// jobFields answers GET /api/v1/search/jobs/{id}/fields?top=N (dohyo's
// own, for the UI's field browser): the fields present in the job's
// messages (in its records, for an aggregate query) with counts and their
// top N values (default 10, at most 100), computed over what the job
// gathered so far. The body:
//
//	{"kind": "messages",      // or "records"
//	 "rows": 1234,            // messages (records) summarized
//	 "complete": true,        // false while the job still gathers
//	 "fields": [              // by count, highest first, then by name
//	   {"name": "_sourcecategory", "fieldType": "string", "keyField": false,
//	    "count": 1234,                // rows with a (non-empty) value
//	    "distinct": 3,                // distinct values ...
//	    "distinctCapped": false,      // ... or more than 1000 when true
//	    "topValues": [{"value": "prod/web", "count": 800}, ...],
//	    "approximate": false}, ...]}  // true: top counts are estimates
//
// _raw is listed with its count but no values. See search.FieldSummary for
// how the counts stay bounded in memory.
func (a *API) jobFields(w http.ResponseWriter, r *http.Request) {
	j := a.job(w, r)
	if j == nil {
		return
	}
	top := search.DefaultTopValues
	if v := r.URL.Query().Get("top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > search.MaxTopValues {
			writeError(w, http.StatusBadRequest, "top.invalid", fmt.Sprintf("query parameter \"top\"=%q: want an integer from 1 to %d", v, search.MaxTopValues))
			return
		}
		top = n
	}
	writeJSON(w, http.StatusOK, j.FieldSummary(top))
}

func nonNil(f []search.Field) []search.Field {
	if f == nil {
		return []search.Field{}
	}
	return f
}

func (a *API) deleteJob(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := a.cfg.Search.Delete(PrincipalFrom(r.Context()), id); err != nil {
		writeError(w, http.StatusNotFound, "jobid.invalid", fmt.Sprintf("no search job %q", id))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": id})
}

func (a *API) explain(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Query string `json:"query"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	text, err := a.cfg.Search.Explain(req.Query)
	if err != nil {
		writeError(w, http.StatusBadRequest, "searchjob.parse.error", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"explain": text})
}
