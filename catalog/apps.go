package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// AppInstall records an installed app (package apps): its version, the
// parameters it was installed with, and every item it created, so that
// uninstall removes exactly them and upgrade replaces them.
type AppInstall struct {
	Name        string            `json:"name"`
	Version     string            `json:"version"`
	Params      map[string]string `json:"params"`
	Items       []AppItem         `json:"items"`
	InstalledAt time.Time         `json:"installedAt"`
	InstalledBy string            `json:"installedBy"`
	UpdatedAt   time.Time         `json:"updatedAt"`
	UpdatedBy   string            `json:"updatedBy"`
}

// AppItem is one thing an app created.
type AppItem struct {
	// Kind is "dashboard", "search", "lookup" or "monitor".
	Kind string `json:"kind"`
	// Key names the item within the app (its file name without the
	// extension), stable across versions.
	Key string `json:"key"`
	// ID is the created item's id.
	ID string `json:"id"`
	// Name is its title or name.
	Name string `json:"name"`
	// Owner is the user who owns it (saved searches belong to a user).
	Owner string `json:"owner,omitempty"`
}

const appColumns = `name, version, params, items, installed_at, installed_by, updated_at, updated_by`

func scanAppInstall(sc interface{ Scan(...any) error }) (*AppInstall, error) {
	a := &AppInstall{}
	var params, items string
	var installed, updated int64
	if err := sc.Scan(&a.Name, &a.Version, &params, &items, &installed, &a.InstalledBy, &updated, &a.UpdatedBy); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(params), &a.Params); err != nil {
		return nil, fmt.Errorf("app %s: bad params: %w", a.Name, err)
	}
	if err := json.Unmarshal([]byte(items), &a.Items); err != nil {
		return nil, fmt.Errorf("app %s: bad items: %w", a.Name, err)
	}
	if a.Params == nil {
		a.Params = map[string]string{}
	}
	if a.Items == nil {
		a.Items = []AppItem{}
	}
	a.InstalledAt, a.UpdatedAt = time.UnixMilli(installed).UTC(), time.UnixMilli(updated).UTC()
	return a, nil
}

// ListAppInstalls returns the installed apps by name.
func (c *Catalog) ListAppInstalls(ctx context.Context) ([]*AppInstall, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT `+appColumns+` FROM app_installs ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list installed apps: %w", err)
	}
	defer rows.Close()
	out := []*AppInstall{}
	for rows.Next() {
		a, err := scanAppInstall(rows)
		if err != nil {
			return nil, fmt.Errorf("list installed apps: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// GetAppInstall returns an installed app's record.
func (c *Catalog) GetAppInstall(ctx context.Context, name string) (*AppInstall, error) {
	a, err := scanAppInstall(c.db.QueryRowContext(ctx, `SELECT `+appColumns+` FROM app_installs WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: app %q is not installed", ErrNotFound, name)
	} else if err != nil {
		return nil, fmt.Errorf("get installed app: %w", err)
	}
	return a, nil
}

// PutAppInstall records an installed app, replacing its earlier record
// (keeping its installation time and user).
func (c *Catalog) PutAppInstall(ctx context.Context, a *AppInstall, by string) error {
	params, err := json.Marshal(a.Params)
	if err != nil {
		return fmt.Errorf("record installed app: %w", err)
	}
	if a.Items == nil {
		a.Items = []AppItem{}
	}
	items, err := json.Marshal(a.Items)
	if err != nil {
		return fmt.Errorf("record installed app: %w", err)
	}
	now := time.Now().UnixMilli()
	_, err = c.db.ExecContext(ctx, `INSERT INTO app_installs (`+appColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(name) DO UPDATE SET version = excluded.version, params = excluded.params, items = excluded.items,
		updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
		a.Name, a.Version, string(params), string(items), now, by, now, by)
	if err != nil {
		return fmt.Errorf("record installed app: %w", err)
	}
	return nil
}

// DeleteAppInstall forgets an installed app.
func (c *Catalog) DeleteAppInstall(ctx context.Context, name string) error {
	res, err := c.db.ExecContext(ctx, `DELETE FROM app_installs WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("delete installed app: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: app %q is not installed", ErrNotFound, name)
	}
	return nil
}
