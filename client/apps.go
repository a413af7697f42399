package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// AppParam is an install-time parameter of an app.
type AppParam struct {
	Name        string `json:"name"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Default     string `json:"default"`
	Required    bool   `json:"required"`
}

// AppManifest describes an app of the catalog.
type AppManifest struct {
	Name        string     `json:"name"`
	Title       string     `json:"title"`
	Version     string     `json:"version"`
	Description string     `json:"description"`
	Category    string     `json:"category"`
	Params      []AppParam `json:"params"`
	Setup       string     `json:"setup"`
}

// AppItem is something an app created.
type AppItem struct {
	Kind string `json:"kind"`
	Key  string `json:"key"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

// AppInstall is an installed app.
type AppInstall struct {
	Name        string            `json:"name"`
	Version     string            `json:"version"`
	Params      map[string]string `json:"params"`
	Items       []AppItem         `json:"items"`
	InstalledAt Timestamp         `json:"installedAt"`
	InstalledBy string            `json:"installedBy"`
}

// AppContentItem is one dashboard, search, lookup table or monitor of an
// app.
type AppContentItem struct {
	Key    string `json:"key"`
	Title  string `json:"title"`
	Panels int    `json:"panels"`
}

// App is an app of the catalog and its installation.
type App struct {
	Manifest         AppManifest `json:"manifest"`
	Installed        *AppInstall `json:"installed"`
	UpgradeAvailable bool        `json:"upgradeAvailable"`
	Contents         struct {
		Dashboards []AppContentItem `json:"dashboards"`
		Searches   []AppContentItem `json:"searches"`
		Lookups    []AppContentItem `json:"lookups"`
		Monitors   []AppContentItem `json:"monitors"`
	} `json:"contents"`
}

// AppReport says what an install, upgrade or uninstall did.
type AppReport struct {
	App     string            `json:"app"`
	Version string            `json:"version"`
	Params  map[string]string `json:"params"`
	Created []AppItem         `json:"created"`
	Updated []AppItem         `json:"updated"`
	Removed []AppItem         `json:"removed"`
	Skipped []struct {
		Kind   string `json:"kind"`
		Key    string `json:"key"`
		Name   string `json:"name"`
		Reason string `json:"reason"`
	} `json:"skipped"`
}

// ListApps lists the app catalog.
func (c *Client) ListApps(ctx context.Context) ([]App, error) {
	var out struct {
		Apps []App `json:"apps"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/apps", nil, nil, &out); err != nil {
		return nil, fmt.Errorf("list apps: %w", err)
	}
	return out.Apps, nil
}

// GetApp describes one app.
func (c *Client) GetApp(ctx context.Context, name string) (*App, error) {
	var a App
	if err := c.do(ctx, http.MethodGet, "/api/v1/apps/"+url.PathEscape(name), nil, nil, &a); err != nil {
		return nil, fmt.Errorf("app %s: %w", name, err)
	}
	return &a, nil
}

// InstallApp installs an app with parameter values.
func (c *Client) InstallApp(ctx context.Context, name string, params map[string]string) (*AppReport, error) {
	return c.appAction(ctx, "install", name, params, http.StatusCreated)
}

// UpgradeApp upgrades (or re-applies) an installed app, with new parameter
// values if any.
func (c *Client) UpgradeApp(ctx context.Context, name string, params map[string]string) (*AppReport, error) {
	return c.appAction(ctx, "upgrade", name, params, http.StatusOK)
}

// UninstallApp removes what an app created.
func (c *Client) UninstallApp(ctx context.Context, name string) (*AppReport, error) {
	return c.appAction(ctx, "uninstall", name, nil, http.StatusOK)
}

func (c *Client) appAction(ctx context.Context, action, name string, params map[string]string, want int) (*AppReport, error) {
	var rep AppReport
	body := map[string]any{}
	if params != nil {
		body["params"] = params
	}
	if err := c.do(ctx, http.MethodPost, "/api/v1/apps/"+url.PathEscape(name)+"/"+action, nil, body, &rep, want); err != nil {
		return nil, fmt.Errorf("%s app %s: %w", action, name, err)
	}
	return &rep, nil
}

// SumoImportReport says what a Sumo Logic import brought over.
type SumoImportReport struct {
	DryRun   bool `json:"dryRun"`
	Imported []struct {
		Kind      string   `json:"kind"`
		Format    string   `json:"format"`
		Path      string   `json:"path"`
		Name      string   `json:"name"`
		ID        string   `json:"id"`
		Panels    int      `json:"panels"`
		Variables int      `json:"variables"`
		Dropped   int      `json:"droppedPanels"`
		Notes     []string `json:"notes"`
	} `json:"imported"`
	NotImported []struct {
		Kind   string `json:"kind"`
		Path   string `json:"path"`
		Item   string `json:"item"`
		Name   string `json:"name"`
		Query  string `json:"query"`
		Line   int    `json:"line"`
		Column int    `json:"column"`
		Reason string `json:"reason"`
	} `json:"notImported"`
}

// SumoImport uploads a Sumo Logic content export (JSON); dryRun reports
// without creating anything.
func (c *Client) SumoImport(ctx context.Context, export []byte, dryRun bool) (*SumoImportReport, error) {
	if !json.Valid(export) {
		return nil, fmt.Errorf("sumo import: the file is not JSON (export content from Sumo Logic's Library as JSON)")
	}
	q := url.Values{}
	if dryRun {
		q.Set("dryRun", "true")
	}
	var rep SumoImportReport
	if err := c.do(ctx, http.MethodPost, "/api/v1/sumo/import", q, json.RawMessage(export), &rep, http.StatusOK); err != nil {
		return nil, fmt.Errorf("sumo import: %w", err)
	}
	return &rep, nil
}
