package dashboards

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/search"
)

// Errors callers distinguish (besides *ValidationError and the catalog's
// ErrNotFound and ErrVersionConflict, which errors.Is finds).
var (
	// ErrForbidden: the caller may not change the dashboard.
	ErrForbidden = errors.New("forbidden")
	// ErrVersionRequired: an update must say which version it changes.
	ErrVersionRequired = errors.New("version required")
)

// Config tunes a Service. Zero values take the defaults.
type Config struct {
	// CacheTTL is how long a panel's results are reused (default 60 s).
	CacheTTL time.Duration
	// CacheBytes bounds the cached results (default 64 MiB).
	CacheBytes int64
	// PanelConcurrency is how many panels of one run query at once
	// (default 4); the search manager's running slots bound all searches.
	PanelConcurrency int
	// PanelLimit is the most records or messages a panel gets (default
	// 1,000; a request may ask for fewer or up to 10,000).
	PanelLimit int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (c *Config) defaults() {
	if c.CacheTTL <= 0 {
		c.CacheTTL = 60 * time.Second
	}
	if c.CacheBytes <= 0 {
		c.CacheBytes = 64 << 20
	}
	if c.PanelConcurrency <= 0 {
		c.PanelConcurrency = 4
	}
	if c.PanelLimit <= 0 {
		c.PanelLimit = 1000
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Service stores, validates and runs dashboards.
type Service struct {
	cat    *catalog.Catalog
	search *search.Manager
	cfg    Config
	cache  *resultCache
}

// New returns a service over the catalog and the search manager.
func New(cat *catalog.Catalog, mgr *search.Manager, cfg Config) *Service {
	cfg.defaults()
	return &Service{cat: cat, search: mgr, cfg: cfg, cache: newResultCache(cfg.CacheTTL, cfg.CacheBytes, cfg.Now)}
}

// CacheStats returns the counters of the shared result cache.
func (s *Service) CacheStats() CacheStats { return s.cache.stats() }

// body is the stored document: the dashboard without its metadata.
func body(d *Dashboard) ([]byte, error) {
	c := *d
	c.ID, c.App, c.Version, c.CreatedAt, c.CreatedBy, c.UpdatedAt, c.UpdatedBy = "", nil, 0, nil, "", nil, ""
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&c); err != nil {
		return nil, fmt.Errorf("encode dashboard: %w", err)
	}
	return bytes.TrimSpace(buf.Bytes()), nil
}

func fromRecord(r *catalog.DashboardRecord) (*Dashboard, error) {
	var d Dashboard
	if err := json.Unmarshal(r.Body, &d); err != nil {
		return nil, fmt.Errorf("dashboard %s: stored document is not valid: %w", r.ID, err)
	}
	d.ID, d.Version = r.ID, r.Version
	if r.App != "" {
		d.App = &AppRef{Name: r.App, Version: r.AppVersion}
	}
	created, updated := r.CreatedAt, r.UpdatedAt
	d.CreatedAt, d.UpdatedAt = &created, &updated
	d.CreatedBy, d.UpdatedBy = r.CreatedBy, r.UpdatedBy
	if d.Panels == nil {
		d.Panels = []Panel{}
	}
	return &d, nil
}

func spec(d *Dashboard, app *AppRef) (catalog.DashboardSpec, error) {
	b, err := body(d)
	if err != nil {
		return catalog.DashboardSpec{}, err
	}
	s := catalog.DashboardSpec{Title: d.Title, Folder: d.Folder, Body: b}
	if app != nil {
		s.App, s.AppVersion = app.Name, app.Version
	}
	return s, nil
}

// List returns summaries of every dashboard; app, when not empty, keeps
// those the app installed.
func (s *Service) List(ctx context.Context, app string) ([]Summary, error) {
	recs, err := s.cat.ListDashboards(ctx, app)
	if err != nil {
		return nil, err
	}
	out := make([]Summary, 0, len(recs))
	for _, r := range recs {
		d, err := fromRecord(r)
		if err != nil {
			return nil, err
		}
		out = append(out, Summary{ID: d.ID, Title: d.Title, Description: d.Description, Folder: d.Folder, App: d.App,
			PanelCount: len(d.Panels), Version: d.Version, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy})
	}
	return out, nil
}

// Get returns a dashboard.
func (s *Service) Get(ctx context.Context, id string) (*Dashboard, error) {
	r, err := s.cat.GetDashboard(ctx, id)
	if err != nil {
		return nil, err
	}
	return fromRecord(r)
}

// prepare normalizes and validates a dashboard a user writes.
func prepare(d *Dashboard) error {
	Normalize(d)
	return Validate(d)
}

// Create stores a new dashboard. Its id, app and metadata are ignored.
func (s *Service) Create(ctx context.Context, p *catalog.Principal, d *Dashboard) (*Dashboard, error) {
	if err := prepare(d); err != nil {
		return nil, err
	}
	sp, err := spec(d, nil)
	if err != nil {
		return nil, err
	}
	r, err := s.cat.CreateDashboard(ctx, "", sp, p.UserName)
	if err != nil {
		return nil, err
	}
	return fromRecord(r)
}

// mayChange reports whether p may change or delete the dashboard: its
// creator and admins; app dashboards only admins.
func mayChange(p *catalog.Principal, cur *Dashboard) error {
	if p.IsAdmin() {
		return nil
	}
	if cur.App != nil {
		return fmt.Errorf("%w: dashboard %q was installed by the app %s: only admins change it", ErrForbidden, cur.Title, cur.App.Name)
	}
	if cur.CreatedBy != p.UserName {
		return fmt.Errorf("%w: dashboard %q belongs to %s: only they and admins change it (duplicate it to make your own)", ErrForbidden, cur.Title, cur.CreatedBy)
	}
	return nil
}

// Update replaces a dashboard. d.Version must be the version the caller
// read; when it changed since, the error wraps catalog.ErrVersionConflict.
// The app that installed it stays recorded.
func (s *Service) Update(ctx context.Context, p *catalog.Principal, id string, d *Dashboard) (*Dashboard, error) {
	if d.Version <= 0 {
		return nil, fmt.Errorf("%w: send the \"version\" of the dashboard you changed (from GET), so that concurrent changes are not lost", ErrVersionRequired)
	}
	cur, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := mayChange(p, cur); err != nil {
		return nil, err
	}
	if err := prepare(d); err != nil {
		return nil, err
	}
	sp, err := spec(d, cur.App)
	if err != nil {
		return nil, err
	}
	r, err := s.cat.UpdateDashboard(ctx, id, d.Version, sp, p.UserName)
	if err != nil {
		return nil, err
	}
	return fromRecord(r)
}

// Delete removes a dashboard.
func (s *Service) Delete(ctx context.Context, p *catalog.Principal, id string) error {
	cur, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if err := mayChange(p, cur); err != nil {
		return err
	}
	return s.cat.DeleteDashboard(ctx, id)
}

// Duplicate copies a dashboard as the caller's own; title "" means
// "<title> (copy)".
func (s *Service) Duplicate(ctx context.Context, p *catalog.Principal, id, title string) (*Dashboard, error) {
	cur, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	c := Export(cur)
	if title = strings.TrimSpace(title); title == "" {
		title = cur.Title + " (copy)"
	}
	c.Title = title
	return s.Create(ctx, p, c)
}

// Export returns the portable form of a dashboard: without its id, app
// and metadata, ready to import elsewhere.
func Export(d *Dashboard) *Dashboard {
	c := *d
	c.ID, c.App, c.Version, c.CreatedAt, c.CreatedBy, c.UpdatedAt, c.UpdatedBy = "", nil, 0, nil, "", nil, ""
	c.Panels = append([]Panel(nil), d.Panels...)
	c.Variables = append([]Variable(nil), d.Variables...)
	return &c
}

// ExportDocument is the file format of exported dashboards.
type ExportDocument struct {
	// Format is "dohyo.dashboards/v1".
	Format     string       `json:"format"`
	Dashboards []*Dashboard `json:"dashboards"`
}

// ExportFormat names the export file format.
const ExportFormat = "dohyo.dashboards/v1"

// ParseImport reads dashboards to import: an ExportDocument, one
// dashboard object, or an array of them. Unknown fields are errors (they
// are typos, or a Sumo Logic export, which "dohyo sumo import" reads).
func ParseImport(data []byte) ([]*Dashboard, error) {
	data = bytes.TrimSpace(data)
	strict := func(v any) error {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			return err
		}
		return nil
	}
	if len(data) > 0 && data[0] == '[' {
		var list []*Dashboard
		if err := strict(&list); err != nil {
			return nil, fmt.Errorf("%w: not a list of dashboards: %v", catalog.ErrInvalid, err)
		}
		return list, nil
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("%w: not JSON: %v", catalog.ErrInvalid, err)
	}
	if _, ok := probe["format"]; ok {
		var doc ExportDocument
		if err := strict(&doc); err != nil {
			return nil, fmt.Errorf("%w: not a dashboard export: %v", catalog.ErrInvalid, err)
		}
		if doc.Format != ExportFormat {
			return nil, fmt.Errorf("%w: format %q: want %q", catalog.ErrInvalid, doc.Format, ExportFormat)
		}
		return doc.Dashboards, nil
	}
	if _, ok := probe["panels"]; ok {
		if _, sumo := probe["type"]; sumo {
			return nil, fmt.Errorf("%w: this looks like a Sumo Logic export: import it with 'dohyo sumo import' (POST /api/v1/sumo/import)", catalog.ErrInvalid)
		}
	}
	var d Dashboard
	if err := strict(&d); err != nil {
		return nil, fmt.Errorf("%w: not a dashboard: %v", catalog.ErrInvalid, err)
	}
	return []*Dashboard{&d}, nil
}

// Import creates the dashboards of an export as the caller's own. Every
// dashboard is validated first; nothing is created when any is invalid.
func (s *Service) Import(ctx context.Context, p *catalog.Principal, list []*Dashboard) ([]*Dashboard, error) {
	var all []Problem
	for i, d := range list {
		if d == nil {
			return nil, fmt.Errorf("%w: dashboard %d is null", catalog.ErrInvalid, i+1)
		}
		if err := prepare(d); err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				return nil, err
			}
			for _, pr := range ve.Problems {
				if len(list) > 1 {
					pr.Message = fmt.Sprintf("dashboard %d %q: %s", i+1, d.Title, pr.Message)
				}
				all = append(all, pr)
			}
		}
	}
	if len(all) > 0 {
		return nil, &ValidationError{Problems: all}
	}
	out := make([]*Dashboard, 0, len(list))
	for _, d := range list {
		c, err := s.Create(ctx, p, d)
		if err != nil {
			return out, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Put creates or replaces a dashboard for an installer (package apps):
// with id "" it creates one; otherwise it replaces that dashboard whatever
// its version. The dashboard is validated; app tags it.
func (s *Service) Put(ctx context.Context, by, id string, d *Dashboard, app *AppRef) (*Dashboard, error) {
	if err := prepare(d); err != nil {
		return nil, err
	}
	sp, err := spec(d, app)
	if err != nil {
		return nil, err
	}
	var r *catalog.DashboardRecord
	if id == "" {
		r, err = s.cat.CreateDashboard(ctx, "", sp, by)
	} else {
		r, err = s.cat.UpdateDashboard(ctx, id, 0, sp, by)
		if errors.Is(err, catalog.ErrNotFound) {
			r, err = s.cat.CreateDashboard(ctx, id, sp, by)
		}
	}
	if err != nil {
		return nil, err
	}
	return fromRecord(r)
}

// Remove deletes a dashboard for an installer (no permission check).
func (s *Service) Remove(ctx context.Context, id string) error {
	return s.cat.DeleteDashboard(ctx, id)
}
