package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dohyo/dohyo/client/clienttest"
)

func newFake(t *testing.T) (*clienttest.Server, *Client) {
	t.Helper()
	srv := clienttest.NewServer("id1", "key1")
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, "id1", "key1", WithPollInterval(time.Millisecond, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func TestSearchMessagesPollsPagesAndDeletes(t *testing.T) {
	srv, c := newFake(t)
	var msgs []map[string]string
	for i := 0; i < 25; i++ {
		// Deliberately oldest first: Search must return newest first.
		msgs = append(msgs, map[string]string{"_messagetime": fmt.Sprint(1763978400000 + int64(i)*1000), "_raw": fmt.Sprintf("line %d", i), "_sourcecategory": "demo/web"})
	}
	srv.Search = func(q string) clienttest.Job {
		return clienttest.Job{Gathering: 3, Messages: msgs, Fields: []map[string]any{{"name": "_raw", "fieldType": "string", "keyField": false}}}
	}
	c.pageSize = 10
	from := time.Date(2025, 11, 24, 0, 0, 0, 0, time.UTC)
	var polls int
	res, err := c.Search(context.Background(), "error", from, from.Add(time.Hour), "Europe/Berlin", WithLimit(0), WithProgress(func(JobStatus) { polls++ }))
	if err != nil {
		t.Fatal(err)
	}
	if res.Aggregate || len(res.Messages) != 25 || res.MessageCount != 25 || res.Truncated || res.State != StateDone {
		t.Fatalf("result %+v", res)
	}
	if res.Messages[0]["_raw"] != "line 24" || res.Messages[24]["_raw"] != "line 0" {
		t.Errorf("not newest first: %v ... %v", res.Messages[0], res.Messages[24])
	}
	if polls != 4 {
		t.Errorf("%d polls, want 4 (3 gathering + done)", polls)
	}
	jobs := srv.Jobs()
	if len(jobs) != 1 {
		t.Fatalf("jobs %v", jobs)
	}
	for _, j := range jobs {
		if !j.Deleted {
			t.Error("job not deleted after the search")
		}
		if j.Request["query"] != "error" || j.Request["from"] != "1763942400000" || j.Request["to"] != "1763946000000" || j.Request["timeZone"] != "Europe/Berlin" {
			t.Errorf("job request %v", j.Request)
		}
	}
}

func TestSearchLimitTruncates(t *testing.T) {
	srv, c := newFake(t)
	msgs := make([]map[string]string, 30)
	for i := range msgs {
		msgs[i] = map[string]string{"_messagetime": fmt.Sprint(1000 - i), "_raw": fmt.Sprint(i)}
	}
	srv.Search = func(string) clienttest.Job { return clienttest.Job{Messages: msgs} }
	res, err := c.Search(context.Background(), "x", time.Unix(0, 0), time.Unix(3600, 0), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Messages) != 30 || res.Truncated {
		t.Errorf("default limit 100: got %d, truncated %v", len(res.Messages), res.Truncated)
	}
	res, err = c.Search(context.Background(), "x", time.Unix(0, 0), time.Unix(3600, 0), "", WithLimit(7))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Messages) != 7 || !res.Truncated {
		t.Errorf("limit 7: got %d, truncated %v", len(res.Messages), res.Truncated)
	}
}

func TestSearchRecords(t *testing.T) {
	srv, c := newFake(t)
	srv.Search = func(string) clienttest.Job {
		return clienttest.Job{
			Gathering: 1,
			Messages:  []map[string]string{{"_raw": "a"}, {"_raw": "b"}},
			Fields:    []map[string]any{{"name": "_sourcecategory", "fieldType": "string", "keyField": true}, {"name": "_count", "fieldType": "int", "keyField": false}},
			Records:   []map[string]string{{"_sourcecategory": "web", "_count": "90"}, {"_sourcecategory": "app", "_count": "10"}},
		}
	}
	res, err := c.Search(context.Background(), "* | count by _sourceCategory", time.Unix(0, 0), time.Unix(60, 0), "UTC")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Aggregate || len(res.Records) != 2 || res.Records[0]["_count"] != "90" || len(res.Fields) != 2 || !res.Fields[0].KeyField {
		t.Errorf("result %+v", res)
	}
	if len(res.Messages) != 0 {
		t.Errorf("messages fetched for an aggregate: %v", res.Messages)
	}
}

func TestSearchAggregateWithoutRows(t *testing.T) {
	srv, c := newFake(t)
	srv.Search = func(string) clienttest.Job {
		return clienttest.Job{Messages: []map[string]string{{"_raw": "a"}}, Records: []map[string]string{},
			Fields: []map[string]any{{"name": "_count", "fieldType": "int"}}}
	}
	res, err := c.Search(context.Background(), "* | where _count > 5", time.Unix(0, 0), time.Unix(60, 0), "UTC")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Aggregate || len(res.Records) != 0 {
		t.Errorf("an aggregate with no rows: %+v", res)
	}
}

func TestSearchParseError(t *testing.T) {
	srv, c := newFake(t)
	srv.Search = func(string) clienttest.Job {
		return clienttest.Job{Error: `line 1, column 17: unknown operator "cout"; did you mean "count"?`}
	}
	_, err := c.Search(context.Background(), "_sourceCategory=x | cout", time.Unix(0, 0), time.Unix(60, 0), "UTC")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != "searchjob.parse.error" || !strings.Contains(err.Error(), "line 1, column 17") {
		t.Fatalf("error %v", err)
	}
}

func TestSearchCancelDeletesJob(t *testing.T) {
	srv, c := newFake(t)
	srv.Search = func(string) clienttest.Job { return clienttest.Job{Gathering: 1 << 30} }
	ctx, cancel := context.WithCancel(context.Background())
	var once bool
	_, err := c.Search(ctx, "slow", time.Unix(0, 0), time.Unix(60, 0), "UTC", WithProgress(func(JobStatus) {
		if !once {
			once = true
			cancel()
		}
	}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	for id, j := range srv.Jobs() {
		if !j.Deleted {
			t.Errorf("job %s not deleted after cancellation", id)
		}
	}
}

func TestSearchRejectsReversedRange(t *testing.T) {
	_, c := newFake(t)
	if _, err := c.Search(context.Background(), "x", time.Unix(60, 0), time.Unix(0, 0), "UTC"); err == nil {
		t.Error("reversed range accepted")
	}
}

func TestPollIntervalIsCapped(t *testing.T) {
	c, err := New("http://127.0.0.1:1", "a", "b", WithPollInterval(time.Minute, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if c.pollMax != 5*time.Second || c.pollMin != 5*time.Second {
		t.Errorf("poll %v..%v, want at most 5s", c.pollMin, c.pollMax)
	}
}

func TestExplain(t *testing.T) {
	srv, c := newFake(t)
	srv.Explain = func(q string) (string, error) {
		if strings.Contains(q, "cout") {
			return "", errors.New("line 1, column 5: unknown operator \"cout\"")
		}
		return "scan _sourceCategory=web\n  count", nil
	}
	plan, err := c.Explain(context.Background(), "_sourceCategory=web | count")
	if err != nil || plan != "scan _sourceCategory=web\n  count" {
		t.Errorf("plan %q, %v", plan, err)
	}
	_, err = c.Explain(context.Background(), "x | cout")
	if err == nil || !strings.Contains(err.Error(), "column 5") {
		t.Errorf("error %v", err)
	}
}

func TestSourcesAPI(t *testing.T) {
	srv, c := newFake(t)
	ctx := context.Background()
	s, err := c.CreateSource(ctx, SourceSpec{Name: "web", Category: "demo/web", Host: "web-1", Fields: map[string]string{"env": "demo"}, Multiline: MultilineOff})
	if err != nil {
		t.Fatal(err)
	}
	if s.ID == "" || !strings.HasPrefix(s.URL, srv.URL+"/receiver/v1/http/") || s.Token == "" || s.Fields["env"] != "demo" || s.CreatedAt.IsZero() {
		t.Errorf("created %+v", s)
	}
	list, err := c.ListSources(ctx)
	if err != nil || len(list) != 1 || list[0].URL != "" || list[0].Category != "demo/web" {
		t.Errorf("list %+v, %v", list, err)
	}
	got, err := c.GetSource(ctx, s.ID)
	if err != nil || got.Name != "web" {
		t.Errorf("get %+v, %v", got, err)
	}
	re, err := c.RegenerateToken(ctx, s.ID)
	if err != nil || re.URL == s.URL || re.Token == s.Token {
		t.Errorf("regenerated %+v, %v", re, err)
	}
	if err := c.DeleteSource(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetSource(ctx, s.ID)
	if !IsNotFound(err) {
		t.Errorf("get after delete: %v", err)
	}
	if _, err := c.CreateSource(ctx, SourceSpec{Name: "x"}); err == nil {
		t.Error("source without category accepted")
	}
}

func TestWrongCredentials(t *testing.T) {
	srv, _ := newFake(t)
	c, _ := New(srv.URL, "id1", "wrong")
	_, err := c.ListSources(context.Background())
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized || ae.Code != "unauthorized" {
		t.Fatalf("error %v", err)
	}
	if !strings.Contains(err.Error(), "GET /api/v1/sources") {
		t.Errorf("error %q does not say which request failed", err)
	}
}

func TestAPIErrorFromNonJSONBody(t *testing.T) {
	e := parseErrorBody(502, []byte("<html>Bad Gateway</html>"))
	if e.Message != "<html>Bad Gateway</html>" || e.Code != "" {
		t.Errorf("%+v", e)
	}
	if !strings.Contains(e.Error(), "502 Bad Gateway") {
		t.Errorf("%q", e.Error())
	}
}

func TestParseFields(t *testing.T) {
	f, err := ParseFields(" env = prod, team=payments ,, ")
	if err != nil || len(f) != 2 || f["env"] != "prod" || f["team"] != "payments" {
		t.Errorf("%v %v", f, err)
	}
	if FormatFields(f) != "env=prod,team=payments" {
		t.Errorf("%q", FormatFields(f))
	}
	if _, err := ParseFields("a=1,oops"); err == nil || !strings.Contains(err.Error(), "item 2") {
		t.Errorf("error %v", err)
	}
}

func TestNewValidatesURL(t *testing.T) {
	for _, u := range []string{"ftp://x", "http://", "::"} {
		if _, err := New(u, "a", "b"); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
	c, err := New("", "a", "b")
	if err != nil || c.BaseURL() != DefaultAPIURL {
		t.Errorf("default URL: %v %v", c, err)
	}
}
