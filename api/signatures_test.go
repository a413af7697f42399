package api_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/dohyo/dohyo/search"
)

// The drill-down into a logreduce signature: the query form and the
// messages, for a signature found by a logreduce search job.
func TestSignatureDrillDown(t *testing.T) {
	e := newEnv(t, publicURL)
	from, to := strconv.FormatInt(e.from.UnixMilli(), 10), strconv.FormatInt(e.to.UnixMilli(), 10)

	// The signatures, through the search job API.
	id := e.createJob(adminCreds, e.msBody("_sourceCategory=api/* | logreduce | where _count > 0"))
	st, _ := e.poll(adminCreds, id)
	if st.State != search.StateDone {
		t.Fatalf("job state %s", st.State)
	}
	recs := e.page(adminCreds, id, "records", "offset=0&limit=10")
	if len(recs.Records) != 1 {
		t.Fatalf("records %+v", recs.Records)
	}
	rec := recs.Records[0].Map
	sig := rec["_signature_id"]
	if rec["_signature"] != "event *" || rec["_count"] != "200" || len(sig) != 16 {
		t.Fatalf("record %v", rec)
	}

	q := url.Values{"query": {"_sourceCategory=api/* | logreduce | where _count > 0"}}
	r := e.do(http.MethodGet, "/api/v1/signatures/"+sig+"/query?"+q.Encode(), e.user, "", "")
	wantStatus(t, r, http.StatusOK)
	var form struct {
		SignatureID string `json:"signatureId"`
		Query       string `json:"query"`
	}
	r.json(t, &form)
	if want := "_sourceCategory=api/* | logreduce details " + sig; form.Query != want || form.SignatureID != sig {
		t.Errorf("query form %+v, want %q", form, want)
	}

	q.Set("from", from)
	q.Set("to", to)
	q.Set("limit", "5")
	r = e.do(http.MethodGet, "/api/v1/signatures/"+sig+"/messages?"+q.Encode(), e.user, "", "")
	wantStatus(t, r, http.StatusOK)
	var msgs struct {
		Query    string `json:"query"`
		Messages []struct {
			Map map[string]string `json:"map"`
		} `json:"messages"`
		Truncated bool     `json:"truncated"`
		Warnings  []string `json:"warnings"`
	}
	r.json(t, &msgs)
	if len(msgs.Messages) != 5 || !msgs.Truncated || msgs.Warnings == nil || msgs.Query != form.Query {
		t.Fatalf("messages %+v", msgs)
	}
	if raw := msgs.Messages[0].Map["_raw"]; raw != "event 199" {
		t.Errorf("newest message %q, want event 199", raw)
	}

	// An unknown signature has no messages.
	r = e.do(http.MethodGet, "/api/v1/signatures/0123456789abcdef/messages?"+q.Encode(), e.user, "", "")
	wantStatus(t, r, http.StatusOK)
	r.json(t, &msgs)
	if len(msgs.Messages) != 0 || msgs.Truncated {
		t.Errorf("unknown signature: %+v", msgs)
	}

	// Errors.
	wantError(t, e.do(http.MethodGet, "/api/v1/signatures/xyz/query?"+q.Encode(), e.user, "", ""), http.StatusBadRequest, "searchjob.parse.error", "not a signature id")
	wantError(t, e.do(http.MethodGet, "/api/v1/signatures/"+sig+"/query?query=error+%7C+count", e.user, "", ""), http.StatusBadRequest, "searchjob.parse.error", "no logreduce or logcompare stage")
	wantError(t, e.do(http.MethodGet, "/api/v1/signatures/"+sig+"/query", e.user, "", ""), http.StatusBadRequest, "searchjob.no.query", "required")
	q.Set("limit", "0")
	wantError(t, e.do(http.MethodGet, "/api/v1/signatures/"+sig+"/messages?"+q.Encode(), e.user, "", ""), http.StatusBadRequest, "limit.invalid", "from 1 to 10000")
	q.Set("limit", "5")
	q.Set("from", "yesterday")
	wantError(t, e.do(http.MethodGet, "/api/v1/signatures/"+sig+"/messages?"+q.Encode(), e.user, "", ""), http.StatusBadRequest, "searchjob.invalid.timestamp.from", "yesterday")
	wantStatus(t, e.do(http.MethodGet, "/api/v1/signatures/"+sig+"/query?"+q.Encode(), noCreds, "", ""), http.StatusUnauthorized)
	wantStatus(t, e.do(http.MethodPost, "/api/v1/signatures/"+sig+"/query", e.user, "", ""), http.StatusMethodNotAllowed)
}
