package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SavedSearch is a user's named search: a query and a time range (kept as
// the user wrote it: "-15m", "now", an ISO date-time or epoch
// milliseconds) in a time zone.
type SavedSearch struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Query     string    `json:"query"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	TimeZone  string    `json:"timeZone"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// SearchSpec is what a caller gives to save or record a search.
type SearchSpec struct {
	Name     string `json:"name"`
	Query    string `json:"query"`
	From     string `json:"from"`
	To       string `json:"to"`
	TimeZone string `json:"timeZone"`
}

// maxSavedQuery bounds a saved query (the language's own limit is 15,000
// characters; leave room for multi-byte ones).
const maxSavedQuery = 64 << 10

// maxRecentSearches is how many recent searches a user keeps.
const maxRecentSearches = 50

func (s *SearchSpec) check(named bool) error {
	var err error
	if named {
		if s.Name, err = checkText("name", s.Name, 200, true); err != nil {
			return err
		}
	}
	if s.Query == "" {
		return fmt.Errorf("%w: query is required", ErrInvalid)
	}
	if len(s.Query) > maxSavedQuery {
		return fmt.Errorf("%w: query is longer than %d bytes", ErrInvalid, maxSavedQuery)
	}
	if s.From, err = checkText("from", s.From, 64, true); err != nil {
		return err
	}
	if s.To == "" {
		s.To = "now"
	}
	if s.To, err = checkText("to", s.To, 64, true); err != nil {
		return err
	}
	if s.TimeZone, err = checkText("timeZone", s.TimeZone, 64, false); err != nil {
		return err
	}
	return nil
}

// ListSavedSearches returns the user's saved searches by name.
func (c *Catalog) ListSavedSearches(ctx context.Context, userID string) ([]SavedSearch, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT id, name, query, range_from, range_to, timezone, created_at, updated_at
		FROM saved_searches WHERE user_id = ? ORDER BY name COLLATE NOCASE`, userID)
	if err != nil {
		return nil, fmt.Errorf("list saved searches: %w", err)
	}
	defer rows.Close()
	out := []SavedSearch{}
	for rows.Next() {
		var s SavedSearch
		var created, updated int64
		if err := rows.Scan(&s.ID, &s.Name, &s.Query, &s.From, &s.To, &s.TimeZone, &created, &updated); err != nil {
			return nil, fmt.Errorf("list saved searches: %w", err)
		}
		s.CreatedAt, s.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
		out = append(out, s)
	}
	return out, rows.Err()
}

// GetSavedSearch returns one of the user's saved searches.
func (c *Catalog) GetSavedSearch(ctx context.Context, userID, id string) (*SavedSearch, error) {
	var s SavedSearch
	var created, updated int64
	err := c.db.QueryRowContext(ctx, `SELECT id, name, query, range_from, range_to, timezone, created_at, updated_at
		FROM saved_searches WHERE user_id = ? AND id = ?`, userID, id).
		Scan(&s.ID, &s.Name, &s.Query, &s.From, &s.To, &s.TimeZone, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: saved search %q", ErrNotFound, id)
	} else if err != nil {
		return nil, fmt.Errorf("get saved search: %w", err)
	}
	s.CreatedAt, s.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return &s, nil
}

// CreateSavedSearch saves a search under a name unique for the user.
func (c *Catalog) CreateSavedSearch(ctx context.Context, userID string, spec SearchSpec) (*SavedSearch, error) {
	if err := spec.check(true); err != nil {
		return nil, err
	}
	now := time.Now()
	s := &SavedSearch{ID: newID(), Name: spec.Name, Query: spec.Query, From: spec.From, To: spec.To, TimeZone: spec.TimeZone,
		CreatedAt: now.UTC(), UpdatedAt: now.UTC()}
	_, err := c.db.ExecContext(ctx, `INSERT INTO saved_searches (id, user_id, name, query, range_from, range_to, timezone, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, s.ID, userID, s.Name, s.Query, s.From, s.To, s.TimeZone, now.UnixMilli(), now.UnixMilli())
	if err != nil {
		if isUniqueViolation(err) {
			return nil, fmt.Errorf("%w: a saved search named %q", ErrConflict, spec.Name)
		}
		return nil, fmt.Errorf("save search: %w", err)
	}
	return s, nil
}

// UpdateSavedSearch replaces a saved search's name, query and range.
func (c *Catalog) UpdateSavedSearch(ctx context.Context, userID, id string, spec SearchSpec) (*SavedSearch, error) {
	if err := spec.check(true); err != nil {
		return nil, err
	}
	res, err := c.db.ExecContext(ctx, `UPDATE saved_searches SET name = ?, query = ?, range_from = ?, range_to = ?, timezone = ?, updated_at = ?
		WHERE user_id = ? AND id = ?`, spec.Name, spec.Query, spec.From, spec.To, spec.TimeZone, time.Now().UnixMilli(), userID, id)
	if err != nil {
		if isUniqueViolation(err) {
			return nil, fmt.Errorf("%w: a saved search named %q", ErrConflict, spec.Name)
		}
		return nil, fmt.Errorf("update saved search: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, fmt.Errorf("%w: saved search %q", ErrNotFound, id)
	}
	return c.GetSavedSearch(ctx, userID, id)
}

// DeleteSavedSearch removes one of the user's saved searches.
func (c *Catalog) DeleteSavedSearch(ctx context.Context, userID, id string) error {
	res, err := c.db.ExecContext(ctx, `DELETE FROM saved_searches WHERE user_id = ? AND id = ?`, userID, id)
	if err != nil {
		return fmt.Errorf("delete saved search: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: saved search %q", ErrNotFound, id)
	}
	return nil
}

// RecentSearch is a search the user ran.
type RecentSearch struct {
	Query    string    `json:"query"`
	From     string    `json:"from"`
	To       string    `json:"to"`
	TimeZone string    `json:"timeZone"`
	At       time.Time `json:"at"`
}

// AddRecentSearch records a search the user ran; running the same query
// over the same range again moves it to the top. Only the latest 50 are
// kept.
func (c *Catalog) AddRecentSearch(ctx context.Context, userID string, spec SearchSpec) error {
	if err := spec.check(false); err != nil {
		return err
	}
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record recent search: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM recent_searches WHERE user_id = ? AND query = ? AND range_from = ? AND range_to = ? AND timezone = ?`,
		userID, spec.Query, spec.From, spec.To, spec.TimeZone); err != nil {
		return fmt.Errorf("record recent search: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO recent_searches (user_id, query, range_from, range_to, timezone, at) VALUES (?, ?, ?, ?, ?, ?)`,
		userID, spec.Query, spec.From, spec.To, spec.TimeZone, time.Now().UnixMilli()); err != nil {
		return fmt.Errorf("record recent search: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM recent_searches WHERE user_id = ? AND id NOT IN
		(SELECT id FROM recent_searches WHERE user_id = ? ORDER BY id DESC LIMIT ?)`, userID, userID, maxRecentSearches); err != nil {
		return fmt.Errorf("record recent search: %w", err)
	}
	return tx.Commit()
}

// ListRecentSearches returns the user's recent searches, newest first.
func (c *Catalog) ListRecentSearches(ctx context.Context, userID string, limit int) ([]RecentSearch, error) {
	if limit <= 0 || limit > maxRecentSearches {
		limit = maxRecentSearches
	}
	rows, err := c.db.QueryContext(ctx, `SELECT query, range_from, range_to, timezone, at FROM recent_searches
		WHERE user_id = ? ORDER BY id DESC LIMIT ?`, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("list recent searches: %w", err)
	}
	defer rows.Close()
	out := []RecentSearch{}
	for rows.Next() {
		var r RecentSearch
		var at int64
		if err := rows.Scan(&r.Query, &r.From, &r.To, &r.TimeZone, &at); err != nil {
			return nil, fmt.Errorf("list recent searches: %w", err)
		}
		r.At = time.UnixMilli(at).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}
