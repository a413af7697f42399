package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"

	"github.com/dohyo/dohyo/catalog"
)

// Lookup tables (catalog/lookups.go), for the lookup and save operators:
//
//	POST   /api/v1/lookups              {"name","primaryKeys":[...],"description","fields":[{"fieldName","fieldType"}]} → 201, the table
//	GET    /api/v1/lookups              → {"lookups":[...]}
//	GET    /api/v1/lookups/{id}         → the table: fields, primary keys, row count, size
//	GET    /api/v1/lookups/{id}/rows    ?offset=0&limit=100 (at most 10000) → {"fields":[...],"rows":[{...}],"offset","total"}
//	PUT    /api/v1/lookups/{id}/csv     body: CSV with a header line (or a multipart form with a "file" part);
//	                                    ?merge=true upserts by primary key, else the rows are replaced → the counts
//	DELETE /api/v1/lookups/{id}         → {"id"}
//
// Every caller may read; creating, uploading and deleting need the admin
// role. A rejected CSV file answers 400 with the line number and changes
// nothing.

func (a *API) lookupRoutes(handle func(string, http.HandlerFunc)) {
	handle("POST /api/v1/lookups", a.createLookup)
	handle("GET /api/v1/lookups", a.listLookups)
	handle("GET /api/v1/lookups/{id}", a.getLookup)
	handle("GET /api/v1/lookups/{id}/rows", a.lookupRows)
	handle("PUT /api/v1/lookups/{id}/csv", a.uploadLookup)
	handle("DELETE /api/v1/lookups/{id}", a.deleteLookup)
}

func (a *API) createLookup(w http.ResponseWriter, r *http.Request) {
	if !requireAdmin(w, r, "create lookup tables") {
		return
	}
	var spec catalog.LookupSpec
	if !readJSON(w, r, &spec) {
		return
	}
	t, err := a.cfg.Catalog.CreateLookup(r.Context(), spec, PrincipalFrom(r.Context()).UserName)
	if err != nil {
		a.catalogError(w, err)
		return
	}
	a.cfg.Logger.Info("lookup table created", "id", t.ID, "name", t.Name, "by", PrincipalFrom(r.Context()).UserName)
	writeJSON(w, http.StatusCreated, t)
}

func (a *API) listLookups(w http.ResponseWriter, r *http.Request) {
	list, err := a.cfg.Catalog.ListLookups(r.Context())
	if err != nil {
		a.catalogError(w, err)
		return
	}
	if list == nil {
		list = []*catalog.LookupTable{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"lookups": list})
}

func (a *API) getLookup(w http.ResponseWriter, r *http.Request) {
	t, err := a.cfg.Catalog.GetLookup(r.Context(), r.PathValue("id"))
	if err != nil {
		a.catalogError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// maxLookupPage bounds the rows of one page.
const maxLookupPage = 10000

func (a *API) lookupRows(w http.ResponseWriter, r *http.Request) {
	offset, limit := 0, 100
	for _, p := range []struct {
		name string
		dst  *int
		max  int
	}{{"offset", &offset, 1 << 40}, {"limit", &limit, maxLookupPage}} {
		v := r.URL.Query().Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > p.max {
			writeError(w, http.StatusBadRequest, "bad.request", fmt.Sprintf("%s=%q: want a number from 0 to %d", p.name, v, p.max))
			return
		}
		*p.dst = n
	}
	t, rows, err := a.cfg.Catalog.LookupRows(r.Context(), r.PathValue("id"), offset, limit)
	if err != nil {
		a.catalogError(w, err)
		return
	}
	out := make([]map[string]string, len(rows))
	for i, row := range rows {
		m := make(map[string]string, len(t.Fields))
		for j, f := range t.Fields {
			if j < len(row) {
				m[f.Name] = row[j]
			}
		}
		out[i] = m
	}
	writeJSON(w, http.StatusOK, map[string]any{"fields": t.Fields, "rows": out, "offset": offset, "total": t.RowCount})
}

// boolParam reads the query parameter name as a boolean (false when
// absent); a value that is not one answers 400.
func boolParam(w http.ResponseWriter, r *http.Request, name string) (value, ok bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, true
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad.request", fmt.Sprintf("%s=%q: want true or false", name, v))
		return false, false
	}
	return b, true
}

func (a *API) uploadLookup(w http.ResponseWriter, r *http.Request) {
	if !requireAdmin(w, r, "upload lookup tables") {
		return
	}
	merge, ok := boolParam(w, r, "merge")
	if !ok {
		return
	}
	// The body may hold the table's size limit in CSV text plus quoting
	// and a multipart envelope.
	limit := a.cfg.Catalog.MaxLookupTableBytes()*2 + 1<<20
	body := http.MaxBytesReader(w, r.Body, limit)
	var src io.Reader = body
	if mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && mt == "multipart/form-data" {
		part, err := filePart(multipart.NewReader(body, params["boundary"]))
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad.request", err.Error())
			return
		}
		src = part
	} else if ct := r.Header.Get("Content-Type"); ct != "" && !csvContentType(mt) {
		writeError(w, http.StatusUnsupportedMediaType, "contenttype.invalid", fmt.Sprintf("Content-Type %q: send text/csv (or a multipart form with a \"file\" part)", ct))
		return
	}
	res, err := a.cfg.Catalog.UploadLookupCSV(r.Context(), r.PathValue("id"), src, merge, PrincipalFrom(r.Context()).UserName)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "payload.too.large", fmt.Sprintf("the file is over %d bytes; a lookup table holds at most %d", limit, a.cfg.Catalog.MaxLookupTableBytes()))
			return
		}
		a.catalogError(w, err)
		return
	}
	a.cfg.Logger.Info("lookup table uploaded", "id", r.PathValue("id"), "merge", merge, "rows", res.RowsWritten, "skipped", res.RowsSkipped, "by", PrincipalFrom(r.Context()).UserName)
	writeJSON(w, http.StatusOK, res)
}

func csvContentType(mt string) bool {
	switch mt {
	case "text/csv", "text/plain", "application/csv", "application/octet-stream", "text/comma-separated-values":
		return true
	}
	return false
}

// filePart returns the "file" part of a multipart form (or its first file).
func filePart(mr *multipart.Reader) (io.Reader, error) {
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil, errors.New(`the multipart form has no "file" part`)
		}
		if err != nil {
			return nil, fmt.Errorf("reading the multipart form: %v", err)
		}
		if p.FormName() == "file" || p.FileName() != "" {
			return p, nil
		}
	}
}

func (a *API) deleteLookup(w http.ResponseWriter, r *http.Request) {
	if !requireAdmin(w, r, "delete lookup tables") {
		return
	}
	id := r.PathValue("id")
	if err := a.cfg.Catalog.DeleteLookup(r.Context(), id); err != nil {
		a.catalogError(w, err)
		return
	}
	a.cfg.Logger.Info("lookup table deleted", "id", id, "by", PrincipalFrom(r.Context()).UserName)
	writeJSON(w, http.StatusOK, map[string]string{"id": id})
}
