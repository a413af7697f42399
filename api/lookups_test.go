package api_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/geoip"
	"github.com/dohyo/dohyo/geoip/geoiptest"
	"github.com/dohyo/dohyo/query"
	"github.com/dohyo/dohyo/search"
)

// lateLookups is a query.LookupStore whose catalog is set once the test
// environment opened it.
type lateLookups struct{ c *catalog.Catalog }

func (l *lateLookups) LoadLookup(ctx context.Context, name string) (*query.LookupTable, error) {
	return l.c.LoadLookup(ctx, name)
}

func (l *lateLookups) SaveLookup(ctx context.Context, s *query.LookupSave) error {
	return l.c.SaveLookup(ctx, s)
}

// newLookupEnv is newEnv with searches that reach the catalog's lookup
// tables and, when geo is set, a test GeoIP database.
func newLookupEnv(t *testing.T, geo bool) *env {
	t.Helper()
	late := &lateLookups{}
	qenv := &query.Env{Lookups: late}
	if geo {
		db, err := geoip.Open(geoiptest.Path(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		qenv.GeoIP = db
	}
	e := newEnvWith(t, publicURL, search.Config{Env: qenv}, nil)
	late.c = e.cat
	return e
}

type lookupResp struct {
	ID          string                `json:"id"`
	Name        string                `json:"name"`
	Fields      []catalog.LookupField `json:"fields"`
	PrimaryKeys []string              `json:"primaryKeys"`
	RowCount    int64                 `json:"rowCount"`
	SizeBytes   int64                 `json:"sizeBytes"`
	CreatedBy   string                `json:"createdBy"`
}

func TestLookupAPI(t *testing.T) {
	e := newLookupEnv(t, false)
	// Authentication first, then the admin role for writes.
	wantError(t, e.postJSON("/api/v1/lookups", noCreds, `{"name":"x","primaryKeys":["a"]}`), http.StatusUnauthorized, "unauthorized", "")
	wantError(t, e.postJSON("/api/v1/lookups", e.user, `{"name":"x","primaryKeys":["a"]}`), http.StatusForbidden, "forbidden", "only admins may create lookup tables")
	wantError(t, e.postJSON("/api/v1/lookups", adminCreds, `{"name":"x"}`), http.StatusBadRequest, "bad.request", "primaryKeys is required")
	wantError(t, e.postJSON("/api/v1/lookups", adminCreds, `{"name":"x","primaryKeys":["a"],"bogus":1}`), http.StatusBadRequest, "bad.request", "bogus")

	r := e.postJSON("/api/v1/lookups", adminCreds, `{"name":"shared/teams","primaryKeys":["Category"],"description":"owners of categories"}`)
	wantStatus(t, r, http.StatusCreated)
	var lt lookupResp
	r.json(t, &lt)
	if lt.ID == "" || lt.Name != "/shared/teams" || fmt.Sprint(lt.PrimaryKeys) != "[category]" || lt.CreatedBy != "admin" {
		t.Fatalf("created %+v", lt)
	}
	wantError(t, e.postJSON("/api/v1/lookups", adminCreds, `{"name":"/SHARED/teams","primaryKeys":["a"]}`), http.StatusConflict, "conflict", "already exists")

	// Upload.
	csvPath := "/api/v1/lookups/" + lt.ID + "/csv"
	wantError(t, e.do(http.MethodPut, csvPath, e.user, "text/csv", "category,team\n"), http.StatusForbidden, "forbidden", "")
	wantError(t, e.do(http.MethodPut, csvPath, adminCreds, "application/json", "{}"), http.StatusUnsupportedMediaType, "contenttype.invalid", "")
	wantError(t, e.do(http.MethodPut, csvPath+"?merge=perhaps", adminCreds, "text/csv", "category,team\n"), http.StatusBadRequest, "bad.request", "merge")
	wantError(t, e.do(http.MethodPut, csvPath, adminCreds, "text/csv", "category,team\napi/web,web\napi/db\n"), http.StatusBadRequest, "bad.request", "line 3: 1 fields, but the header has 2")
	wantError(t, e.do(http.MethodPut, "/api/v1/lookups/NOPE/csv", adminCreds, "text/csv", "a\n"), http.StatusNotFound, "notfound", "")
	r = e.do(http.MethodPut, csvPath, adminCreds, "text/csv", "category,team\nAPI/WEB,web team\napi/other,nobody\n")
	wantStatus(t, r, http.StatusOK)
	var up catalog.LookupUpload
	r.json(t, &up)
	if up.RowsWritten != 2 || up.RowCount != 2 {
		t.Errorf("upload %+v", up)
	}
	// Merge, as a multipart form (Sumo's upload shape).
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "teams.csv")
	fw.Write([]byte("category,team\napi/db,db team\n"))
	mw.Close()
	r = e.do(http.MethodPut, csvPath+"?merge=true", adminCreds, mw.FormDataContentType(), body.String())
	wantStatus(t, r, http.StatusOK)
	r.json(t, &up)
	if up.RowCount != 3 {
		t.Errorf("merge %+v", up)
	}

	// Reading needs no admin.
	r = e.do(http.MethodGet, "/api/v1/lookups", e.user, "", "")
	wantStatus(t, r, http.StatusOK)
	var list struct{ Lookups []lookupResp }
	r.json(t, &list)
	if len(list.Lookups) != 1 || list.Lookups[0].RowCount != 3 || fmt.Sprint(list.Lookups[0].Fields) != "[{category string} {team string}]" {
		t.Errorf("list %+v", list)
	}
	r = e.do(http.MethodGet, "/api/v1/lookups/"+lt.ID+"/rows?offset=1&limit=5", e.user, "", "")
	wantStatus(t, r, http.StatusOK)
	var rows struct {
		Rows  []map[string]string
		Total int64
	}
	r.json(t, &rows)
	if rows.Total != 3 || len(rows.Rows) != 2 || rows.Rows[0]["category"] != "api/other" || rows.Rows[1]["team"] != "db team" {
		t.Errorf("rows %+v", rows)
	}
	wantError(t, e.do(http.MethodGet, "/api/v1/lookups/"+lt.ID+"/rows?limit=100000", e.user, "", ""), http.StatusBadRequest, "bad.request", "limit")
	wantError(t, e.do(http.MethodGet, "/api/v1/lookups/NOPE", e.user, "", ""), http.StatusNotFound, "notfound", "")
	wantError(t, e.do(http.MethodPost, "/api/v1/lookups/"+lt.ID, adminCreds, "", ""), http.StatusMethodNotAllowed, "method.unsupported", "")

	// The table in a search: keys match without regard to case.
	id := e.createJob(e.user, e.msBody(`* | count by _sourceCategory | lookup team from shared/teams on _sourceCategory=category`))
	st, _ := e.poll(e.user, id)
	if st.State != search.StateDone {
		t.Fatalf("job %+v", st)
	}
	p := e.page(e.user, id, "records", "offset=0&limit=10")
	if len(p.Records) != 2 || p.Records[0].Map["team"] != "db team" || p.Records[1].Map["team"] != "web team" || p.Records[1].Map["_count"] != "100" {
		t.Errorf("records %+v", p.Records)
	}
	// Before the aggregate too.
	id = e.createJob(e.user, e.msBody(`* | lookup team from path://"/shared/teams" on _sourceCategory=category | count by team`))
	e.poll(e.user, id)
	if p := e.page(e.user, id, "records", "offset=0&limit=10"); len(p.Records) != 2 || p.Records[0].Map["team"] != "db team" {
		t.Errorf("records %+v", p.Records)
	}
	// A missing table, a missing key column: the job is refused, with the
	// position.
	wantError(t, e.postJSON("/api/v1/search/jobs", e.user, e.msBody(`* | lookup team from /shared/nope on _sourceCategory=category`)),
		http.StatusBadRequest, "searchjob.parse.error", `line 1, column 22: lookup table "/shared/nope" does not exist`)
	wantError(t, e.postJSON("/api/v1/search/jobs", e.user, e.msBody(`* | lookup team from /shared/teams on _sourceCategory=team`)),
		http.StatusBadRequest, "searchjob.parse.error", `is not part of its primary key`)
	// No GeoIP database here.
	wantError(t, e.postJSON("/api/v1/search/jobs", e.user, e.msBody(`* | geoip _sourceHost | count by country_code`)),
		http.StatusBadRequest, "searchjob.parse.error", "--geoip-db")

	// save: admins only.
	wantError(t, e.postJSON("/api/v1/search/jobs", e.user, e.msBody(`* | count by _sourceCategory | save /shared/cats`)),
		http.StatusBadRequest, "searchjob.parse.error", "needs the admin role")
	id = e.createJob(adminCreds, e.msBody(`* | count by _sourceCategory | save /shared/cats`))
	if st, _ := e.poll(adminCreds, id); st.State != search.StateDone || st.RecordCount != 2 {
		t.Fatalf("save job %+v", st)
	}
	saved, err := e.cat.GetLookupByName(context.Background(), "shared/cats")
	if err != nil || saved.RowCount != 2 || fmt.Sprint(saved.PrimaryKeys) != "[_sourcecategory]" || saved.CreatedBy != "admin" {
		t.Errorf("saved table %+v, %v", saved, err)
	}

	// Delete.
	wantError(t, e.do(http.MethodDelete, "/api/v1/lookups/"+lt.ID, e.user, "", ""), http.StatusForbidden, "forbidden", "")
	wantStatus(t, e.do(http.MethodDelete, "/api/v1/lookups/"+lt.ID, adminCreds, "", ""), http.StatusOK)
	wantError(t, e.do(http.MethodGet, "/api/v1/lookups/"+lt.ID, adminCreds, "", ""), http.StatusNotFound, "notfound", "")
	wantError(t, e.do(http.MethodDelete, "/api/v1/lookups/"+lt.ID, adminCreds, "", ""), http.StatusNotFound, "notfound", "")
}

func TestGeoLookupSearch(t *testing.T) {
	e := newLookupEnv(t, true)
	// The corpus has no addresses; build them from the host with a
	// lookup table mapping hosts to addresses.
	r := e.postJSON("/api/v1/lookups", adminCreds, `{"name":"hosts","primaryKeys":["host"]}`)
	wantStatus(t, r, http.StatusCreated)
	var lt lookupResp
	r.json(t, &lt)
	wantStatus(t, e.do(http.MethodPut, "/api/v1/lookups/"+lt.ID+"/csv", adminCreds, "text/csv", "host,ip\nh1,81.2.69.160\n"), http.StatusOK)
	id := e.createJob(e.user, e.msBody(`* | count by _sourceHost | lookup ip from hosts on _sourceHost=host | lookup latitude, longitude, country_code from geo://location on ip=ip`))
	if st, _ := e.poll(e.user, id); st.State != search.StateDone {
		t.Fatalf("job %+v", st)
	}
	p := e.page(e.user, id, "records", "offset=0&limit=10")
	if len(p.Records) != 1 || p.Records[0].Map["country_code"] != "GB" || p.Records[0].Map["latitude"] != "51.5142" || p.Records[0].Map["_count"] != "200" {
		t.Errorf("records %+v", p.Records)
	}
	var types []string
	for _, f := range p.Fields {
		types = append(types, f.Name+":"+f.FieldType)
	}
	if got := strings.Join(types, " "); got != "_sourcehost:string _count:int ip:string latitude:double longitude:double country_code:string" {
		t.Errorf("fields %s", got)
	}
}
