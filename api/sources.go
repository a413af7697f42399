package api

import (
	"net/http"

	"github.com/dohyo/dohyo/catalog"
)

// sourceJSON is a source as the API shows it. URL and Token are only set
// when a token was just minted: the server keeps no copy of it.
type sourceJSON struct {
	*catalog.Source
	URL   string `json:"url,omitempty"`
	Token string `json:"token,omitempty"`
}

func (a *API) receiverURL(r *http.Request, token string) string {
	return a.baseURL(r) + "/receiver/v1/http/" + token
}

// requireAdmin answers 403 unless the caller is an admin.
func requireAdmin(w http.ResponseWriter, r *http.Request, what string) bool {
	if !PrincipalFrom(r.Context()).IsAdmin() {
		writeError(w, http.StatusForbidden, "forbidden", "only admins may "+what)
		return false
	}
	return true
}

func (a *API) createSource(w http.ResponseWriter, r *http.Request) {
	if !requireAdmin(w, r, "create sources") {
		return
	}
	var spec catalog.SourceSpec
	if !readJSON(w, r, &spec) {
		return
	}
	src, token, err := a.cfg.Catalog.CreateSource(r.Context(), spec, PrincipalFrom(r.Context()).UserName)
	if err != nil {
		a.catalogError(w, err)
		return
	}
	a.cfg.Logger.Info("source created", "id", src.ID, "name", src.Name, "category", src.Category, "by", PrincipalFrom(r.Context()).UserName)
	writeJSON(w, http.StatusCreated, sourceJSON{Source: src, URL: a.receiverURL(r, token), Token: token})
}

func (a *API) listSources(w http.ResponseWriter, r *http.Request) {
	list, err := a.cfg.Catalog.ListSources(r.Context())
	if err != nil {
		a.catalogError(w, err)
		return
	}
	if list == nil {
		list = []*catalog.Source{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sources": list})
}

func (a *API) getSource(w http.ResponseWriter, r *http.Request) {
	src, err := a.cfg.Catalog.GetSource(r.Context(), r.PathValue("id"))
	if err != nil {
		a.catalogError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, src)
}

func (a *API) deleteSource(w http.ResponseWriter, r *http.Request) {
	if !requireAdmin(w, r, "delete sources") {
		return
	}
	id := r.PathValue("id")
	if err := a.cfg.Catalog.DeleteSource(r.Context(), id); err != nil {
		a.catalogError(w, err)
		return
	}
	a.cfg.Logger.Info("source deleted", "id", id, "by", PrincipalFrom(r.Context()).UserName)
	writeJSON(w, http.StatusOK, map[string]string{"id": id})
}

func (a *API) regenerateToken(w http.ResponseWriter, r *http.Request) {
	if !requireAdmin(w, r, "regenerate source tokens") {
		return
	}
	src, token, err := a.cfg.Catalog.RegenerateToken(r.Context(), r.PathValue("id"))
	if err != nil {
		a.catalogError(w, err)
		return
	}
	a.cfg.Logger.Info("source token regenerated", "id", src.ID, "by", PrincipalFrom(r.Context()).UserName)
	writeJSON(w, http.StatusOK, sourceJSON{Source: src, URL: a.receiverURL(r, token), Token: token})
}
