package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dohyo/dohyo/client/clienttest"
)

func TestSearchStreamEvents(t *testing.T) {
	srv, c := newFake(t)
	var msgs []map[string]string
	for i := 0; i < 5; i++ {
		msgs = append(msgs, map[string]string{"_messagetime": fmt.Sprint(1763978400000 + int64(i)*1000), "_raw": fmt.Sprintf("line %d", i)})
	}
	srv.Search = func(q string) clienttest.Job { return clienttest.Job{Gathering: 2, Messages: msgs} }
	var types []string
	var got []Row
	var done *StreamEvent
	err := c.SearchStream(context.Background(), StreamRequest{JobRequest: JobRequest{Query: "line", From: "1", To: "2", TimeZone: "UTC"}, Limit: 4, FieldSummary: true}, func(ev *StreamEvent) error {
		types = append(types, ev.Type)
		got = append(got, ev.Messages...)
		if ev.Type == EventDone {
			done = ev
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(types, ",") != "meta,progress,progress,messages,messages,done" {
		t.Errorf("events %v", types)
	}
	if len(got) != 4 || got[0]["_raw"] != "line 4" || got[3]["_raw"] != "line 1" {
		t.Errorf("messages %v", got)
	}
	if done == nil || done.State != StateDone || done.MessageCount != 4 || done.HistogramCount != 5 || !done.Truncated {
		t.Errorf("done %+v", done)
	}
	reqs := srv.Streams()
	if len(reqs) != 1 || reqs[0]["query"] != "line" || reqs[0]["limit"] != float64(4) || reqs[0]["fieldSummary"] != true || reqs[0]["timeZone"] != "UTC" {
		t.Errorf("requests %v", reqs)
	}

	// Records and their fields.
	srv.Search = func(q string) clienttest.Job {
		return clienttest.Job{Fields: []map[string]any{{"name": "k", "fieldType": "string", "keyField": true}, {"name": "_count", "fieldType": "int"}},
			Records: []map[string]string{{"k": "a", "_count": "2"}}}
	}
	var meta, recs *StreamEvent
	err = c.SearchStream(context.Background(), StreamRequest{JobRequest: JobRequest{Query: "x | count by k", From: "1", To: "2"}}, func(ev *StreamEvent) error {
		switch ev.Type {
		case EventMeta:
			meta = ev
		case EventRecords:
			recs = ev
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if meta == nil || !meta.Aggregate || len(meta.Fields) != 2 || !meta.Fields[0].KeyField {
		t.Errorf("meta %+v", meta)
	}
	if recs == nil || len(recs.Records) != 1 || recs.Records[0]["_count"] != "2" || len(recs.Fields) != 2 {
		t.Errorf("records %+v", recs)
	}

	// A callback error stops the stream and is returned.
	stop := errors.New("stop")
	if err := c.SearchStream(context.Background(), StreamRequest{JobRequest: JobRequest{Query: "x", From: "1", To: "2"}}, func(*StreamEvent) error { return stop }); err != stop {
		t.Errorf("callback error: %v", err)
	}
	// A refused search is an *APIError.
	srv.Search = func(q string) clienttest.Job {
		return clienttest.Job{Error: `line 1, column 5: unknown operator "cout"`}
	}
	err = c.SearchStream(context.Background(), StreamRequest{JobRequest: JobRequest{Query: "x | cout", From: "1", To: "2"}}, func(*StreamEvent) error { return nil })
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != "searchjob.parse.error" || !strings.Contains(ae.Message, "column 5") {
		t.Errorf("refused search: %v", err)
	}
	if err := c.SearchStream(context.Background(), StreamRequest{}, func(*StreamEvent) error { return nil }); err == nil {
		t.Error("an empty query was sent")
	}
}

func TestSearchStreamCutAndSummary(t *testing.T) {
	body := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		io.WriteString(w, body)
	}))
	defer srv.Close()
	c, err := New(srv.URL, "id", "key")
	if err != nil {
		t.Fatal(err)
	}
	req := StreamRequest{JobRequest: JobRequest{Query: "x", From: "1", To: "2"}}
	body = `{"type":"meta","aggregate":false,"fields":[]}` + "\n" + `{"type":"messages","messages":[{"_raw":"a"}]}` + "\n"
	var n int
	err = c.SearchStream(context.Background(), req, func(*StreamEvent) error { n++; return nil })
	if !errors.Is(err, ErrStreamCut) || n != 2 {
		t.Errorf("a stream without done: %v after %d events", err, n)
	}
	body = `{"type":"meta"}` + "\n" + `not json` + "\n"
	if err := c.SearchStream(context.Background(), req, func(*StreamEvent) error { return nil }); err == nil || !strings.Contains(err.Error(), "unreadable event") {
		t.Errorf("a bad line: %v", err)
	}
	body = `{"type":"fieldSummary","kind":"messages","rows":3,"complete":true,"fields":[{"name":"host","fieldType":"string","count":3,"distinct":1,"topValues":[{"value":"h1","count":3}]}]}` + "\n" +
		`{"type":"error","code":"searchjob.timeout","message":"partial"}` + "\n" + `{"type":"done","state":"DONE GATHERING RESULTS"}` + "\n"
	var sum *FieldSummary
	var errEv *StreamEvent
	err = c.SearchStream(context.Background(), req, func(ev *StreamEvent) error {
		if ev.Type == EventFieldSummary {
			sum = ev.Summary
		}
		if ev.Type == EventError {
			errEv = ev
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum == nil || sum.Rows != 3 || len(sum.Fields) != 1 || sum.Fields[0].TopValues[0].Value != "h1" {
		t.Errorf("summary %+v", sum)
	}
	if errEv == nil || errEv.Code != "searchjob.timeout" || errEv.Message != "partial" {
		t.Errorf("error event %+v", errEv)
	}
}
