package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Dashboards are stored as opaque JSON documents (the dashboards package
// owns their model and validation) with the columns the catalog needs to
// list, filter and guard them: title, folder, the app that installed them,
// and a version for optimistic concurrency. Dashboards are shared: every
// user sees every dashboard.

// DashboardRecord is a stored dashboard.
type DashboardRecord struct {
	ID     string
	Title  string
	Folder string
	// App and AppVersion name the app that installed the dashboard
	// (empty for users' own dashboards).
	App, AppVersion string
	// Body is the dashboard's JSON document.
	Body []byte
	// Version counts the dashboard's writes, from 1.
	Version   int64
	CreatedAt time.Time
	CreatedBy string
	UpdatedAt time.Time
	UpdatedBy string
}

// DashboardSpec is what a caller writes.
type DashboardSpec struct {
	Title, Folder   string
	App, AppVersion string
	Body            []byte
}

// ErrVersionConflict is returned by UpdateDashboard when the dashboard
// changed since the version the caller read.
var ErrVersionConflict = errors.New("version conflict")

// maxDashboardBytes bounds a dashboard's JSON document.
const maxDashboardBytes = 4 << 20

func (s *DashboardSpec) check() error {
	var err error
	if s.Title, err = checkText("title", s.Title, 300, true); err != nil {
		return err
	}
	if s.Folder, err = checkText("folder", s.Folder, 500, false); err != nil {
		return err
	}
	if len(s.Body) == 0 {
		return fmt.Errorf("%w: the dashboard document is empty", ErrInvalid)
	}
	if len(s.Body) > maxDashboardBytes {
		return fmt.Errorf("%w: the dashboard is %d bytes, more than the limit of %d", ErrInvalid, len(s.Body), maxDashboardBytes)
	}
	return nil
}

const dashboardColumns = `id, title, folder, app, app_version, body, version, created_at, created_by, updated_at, updated_by`

func scanDashboard(sc interface{ Scan(...any) error }) (*DashboardRecord, error) {
	d := &DashboardRecord{}
	var created, updated int64
	var body string
	if err := sc.Scan(&d.ID, &d.Title, &d.Folder, &d.App, &d.AppVersion, &body, &d.Version, &created, &d.CreatedBy, &updated, &d.UpdatedBy); err != nil {
		return nil, err
	}
	d.Body = []byte(body)
	d.CreatedAt, d.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return d, nil
}

// ListDashboards returns every dashboard, by folder then title. app, when
// not empty, keeps only the dashboards that app installed.
func (c *Catalog) ListDashboards(ctx context.Context, app string) ([]*DashboardRecord, error) {
	q := `SELECT ` + dashboardColumns + ` FROM dashboards`
	var args []any
	if app != "" {
		q += ` WHERE app = ?`
		args = append(args, app)
	}
	q += ` ORDER BY folder COLLATE NOCASE, title COLLATE NOCASE, id`
	rows, err := c.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list dashboards: %w", err)
	}
	defer rows.Close()
	out := []*DashboardRecord{}
	for rows.Next() {
		d, err := scanDashboard(rows)
		if err != nil {
			return nil, fmt.Errorf("list dashboards: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// GetDashboard returns one dashboard.
func (c *Catalog) GetDashboard(ctx context.Context, id string) (*DashboardRecord, error) {
	d, err := scanDashboard(c.db.QueryRowContext(ctx, `SELECT `+dashboardColumns+` FROM dashboards WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: dashboard %q", ErrNotFound, id)
	} else if err != nil {
		return nil, fmt.Errorf("get dashboard: %w", err)
	}
	return d, nil
}

// CreateDashboard stores a new dashboard (version 1). id may be empty: a
// new one is chosen.
func (c *Catalog) CreateDashboard(ctx context.Context, id string, spec DashboardSpec, by string) (*DashboardRecord, error) {
	if err := spec.check(); err != nil {
		return nil, err
	}
	if id == "" {
		id = newID()
	}
	now := time.Now()
	_, err := c.db.ExecContext(ctx, `INSERT INTO dashboards (`+dashboardColumns+`) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`,
		id, spec.Title, spec.Folder, spec.App, spec.AppVersion, string(spec.Body), now.UnixMilli(), by, now.UnixMilli(), by)
	if err != nil {
		if isUniqueViolation(err) {
			return nil, fmt.Errorf("%w: a dashboard with id %q", ErrConflict, id)
		}
		return nil, fmt.Errorf("create dashboard: %w", err)
	}
	return c.GetDashboard(ctx, id)
}

// UpdateDashboard replaces a dashboard. version is the version the caller
// read: when the dashboard has changed since, nothing is written and the
// error wraps ErrVersionConflict; 0 skips the check (installers).
func (c *Catalog) UpdateDashboard(ctx context.Context, id string, version int64, spec DashboardSpec, by string) (*DashboardRecord, error) {
	if err := spec.check(); err != nil {
		return nil, err
	}
	q := `UPDATE dashboards SET title = ?, folder = ?, app = ?, app_version = ?, body = ?, version = version + 1, updated_at = ?, updated_by = ? WHERE id = ?`
	args := []any{spec.Title, spec.Folder, spec.App, spec.AppVersion, string(spec.Body), time.Now().UnixMilli(), by, id}
	if version > 0 {
		q += ` AND version = ?`
		args = append(args, version)
	}
	res, err := c.db.ExecContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("update dashboard: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		cur, err := c.GetDashboard(ctx, id)
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: dashboard %q is at version %d, not %d: someone changed it since you read it; reload it and apply your change again", ErrVersionConflict, id, cur.Version, version)
	}
	return c.GetDashboard(ctx, id)
}

// DeleteDashboard removes a dashboard.
func (c *Catalog) DeleteDashboard(ctx context.Context, id string) error {
	res, err := c.db.ExecContext(ctx, `DELETE FROM dashboards WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete dashboard: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: dashboard %q", ErrNotFound, id)
	}
	return nil
}
