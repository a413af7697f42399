package api

import (
	"errors"
	"io"
	"net/http"

	"github.com/dohyo/dohyo/sumoimport"
)

// maxSumoExport bounds an uploaded Sumo Logic content export.
const maxSumoExport = 32 << 20

// sumoImport answers POST /api/v1/sumo/import[?dryRun=true]: the body is a
// Sumo Logic content export (JSON: a folder, a dashboard, a saved search,
// or an array of them). It creates the dashboards and saved searches it
// can, as the caller's, and answers 200 with the report (package
// sumoimport):
//
//	{"dryRun": false,
//	 "imported": [{"kind": "dashboard", "format": "new", "path": "AWS",
//	   "name": "...", "id": "...", "panels": 6, "variables": 2,
//	   "droppedPanels": 1, "notes": ["..."]}, ...],
//	 "notImported": [{"kind": "query", "path": "AWS", "item": "...",
//	   "name": "panel title", "query": "...", "line": 2, "column": 3,
//	   "reason": "..."}, ...]}
//
// With dryRun nothing is created. A body that is not a content export is
// a 400.
func (a *API) sumoImport(w http.ResponseWriter, r *http.Request) {
	dry, ok := boolParam(w, r, "dryRun")
	if !ok {
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSumoExport))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "payload.too.large", "the export is larger than 32 MiB: export folders one by one")
			return
		}
		writeError(w, http.StatusBadRequest, "bad.request", "cannot read the body: "+err.Error())
		return
	}
	rep, err := sumoimport.Import(r.Context(), a.content.dash, a.cfg.Catalog, PrincipalFrom(r.Context()), data, dry)
	if err != nil {
		writeError(w, http.StatusBadRequest, "sumo.import.invalid", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
