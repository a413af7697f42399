package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Metadata length limits (Sumo Logic's built-in metadata reference).
const (
	MaxCategoryLen   = 1024
	MaxHostLen       = 128
	MaxSourceNameLen = 128
	MaxFieldNameLen  = 64
	MaxFieldValueLen = 1024
	MaxSourceFields  = 50
)

// TokenPrefix starts every source token, so leaked tokens are recognisable.
const TokenPrefix = "dhs_"

// Source is an HTTP source: where its events come from and the metadata they
// get.
type Source struct {
	ID        string            `json:"id"`
	Tenant    uint32            `json:"-"`
	Name      string            `json:"name"`
	Category  string            `json:"category"`
	Host      string            `json:"host"`
	Fields    map[string]string `json:"fields"`
	Multiline string            `json:"multiline"`
	TimeZone  string            `json:"timezone"`
	CreatedAt time.Time         `json:"createdAt"`
	CreatedBy string            `json:"createdBy,omitempty"`
}

// SourceSpec is what a caller provides to create a source.
type SourceSpec struct {
	Name      string            `json:"name"`
	Category  string            `json:"category"`
	Host      string            `json:"host"`
	Fields    map[string]string `json:"fields"`
	Multiline string            `json:"multiline"`
	TimeZone  string            `json:"timezone"`
}

var fieldNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_]*$`)

// CheckFieldName validates a custom field name and returns its canonical
// (lower-case) form: field names are case-insensitive.
func CheckFieldName(name string) (string, error) {
	if !fieldNameRE.MatchString(name) {
		return "", fmt.Errorf("%w: field name %q must start with a letter or digit and hold only letters, digits and '_'", ErrInvalid, name)
	}
	if len(name) > MaxFieldNameLen {
		return "", fmt.Errorf("%w: field name %q is longer than %d characters", ErrInvalid, name, MaxFieldNameLen)
	}
	return strings.ToLower(name), nil
}

// CheckMultiline validates a multiline setting: auto, off, one-per-request or
// regex:<boundary regexp>.
func CheckMultiline(m string) (string, error) {
	switch m {
	case "":
		return "auto", nil
	case "auto", "off", "one-per-request":
		return m, nil
	}
	if re, ok := strings.CutPrefix(m, "regex:"); ok {
		if _, err := regexp.Compile(re); err != nil {
			return "", fmt.Errorf("%w: multiline boundary regex: %v", ErrInvalid, err)
		}
		return m, nil
	}
	return "", fmt.Errorf("%w: multiline %q (want auto, off, one-per-request or regex:<boundary>)", ErrInvalid, m)
}

func (spec *SourceSpec) normalize() error {
	var err error
	if spec.Name, err = checkText("name", spec.Name, MaxSourceNameLen, true); err != nil {
		return err
	}
	if spec.Category, err = checkText("category", spec.Category, MaxCategoryLen, true); err != nil {
		return err
	}
	if spec.Host, err = checkText("host", spec.Host, MaxHostLen, false); err != nil {
		return err
	}
	if len(spec.Fields) > MaxSourceFields {
		return fmt.Errorf("%w: %d fields, more than the limit of %d", ErrInvalid, len(spec.Fields), MaxSourceFields)
	}
	fields := make(map[string]string, len(spec.Fields))
	for k, v := range spec.Fields {
		name, err := CheckFieldName(k)
		if err != nil {
			return err
		}
		if v, err = checkText("value of field "+name, v, MaxFieldValueLen, false); err != nil {
			return err
		}
		fields[name] = v
	}
	spec.Fields = fields
	if spec.Multiline, err = CheckMultiline(spec.Multiline); err != nil {
		return err
	}
	if spec.TimeZone == "" {
		spec.TimeZone = "UTC"
	}
	if _, err := time.LoadLocation(spec.TimeZone); err != nil {
		return fmt.Errorf("%w: time zone %q: %v", ErrInvalid, spec.TimeZone, err)
	}
	return nil
}

// CreateSource adds a source and returns it with its secret token, which is
// not stored and cannot be shown again.
func (c *Catalog) CreateSource(ctx context.Context, spec SourceSpec, createdBy string) (*Source, string, error) {
	if err := spec.normalize(); err != nil {
		return nil, "", err
	}
	fields, err := json.Marshal(spec.Fields)
	if err != nil {
		return nil, "", fmt.Errorf("encode fields: %w", err)
	}
	s := &Source{
		ID: newID(), Name: spec.Name, Category: spec.Category, Host: spec.Host, Fields: spec.Fields,
		Multiline: spec.Multiline, TimeZone: spec.TimeZone, CreatedAt: time.Now().UTC().Truncate(time.Millisecond), CreatedBy: createdBy,
	}
	token := newSecret(TokenPrefix)
	h := hashSecret(token)
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err = c.db.ExecContext(ctx, `INSERT INTO sources (id, tenant, name, category, host, fields, multiline, timezone, token_hash, created_at, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.Tenant, s.Name, s.Category, s.Host, string(fields), s.Multiline, s.TimeZone, h[:], s.CreatedAt.UnixMilli(), createdBy)
	if err != nil {
		return nil, "", fmt.Errorf("create source: %w", err)
	}
	c.tokens[h] = s
	return s, token, nil
}

const sourceColumns = `id, tenant, name, category, host, fields, multiline, timezone, token_hash, created_at, created_by`

func scanSource(sc interface{ Scan(...any) error }) (*Source, []byte, error) {
	s := &Source{}
	var fields string
	var hash []byte
	var created int64
	if err := sc.Scan(&s.ID, &s.Tenant, &s.Name, &s.Category, &s.Host, &fields, &s.Multiline, &s.TimeZone, &hash, &created, &s.CreatedBy); err != nil {
		return nil, nil, err
	}
	if err := json.Unmarshal([]byte(fields), &s.Fields); err != nil {
		return nil, nil, fmt.Errorf("source %s: stored fields are not JSON: %w", s.ID, err)
	}
	s.CreatedAt = time.UnixMilli(created).UTC()
	return s, hash, nil
}

// ListSources returns every source, oldest first.
func (c *Catalog) ListSources(ctx context.Context) ([]*Source, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT `+sourceColumns+` FROM sources ORDER BY created_at, rowid`)
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	defer rows.Close()
	var out []*Source
	for rows.Next() {
		s, _, err := scanSource(rows)
		if err != nil {
			return nil, fmt.Errorf("list sources: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// GetSource returns one source.
func (c *Catalog) GetSource(ctx context.Context, id string) (*Source, error) {
	s, _, err := scanSource(c.db.QueryRowContext(ctx, `SELECT `+sourceColumns+` FROM sources WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("source %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get source %q: %w", id, err)
	}
	return s, nil
}

// DeleteSource removes a source; its token stops working at once.
func (c *Catalog) DeleteSource(ctx context.Context, id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	res, err := c.db.ExecContext(ctx, `DELETE FROM sources WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete source %q: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("source %q: %w", id, ErrNotFound)
	}
	for h, s := range c.tokens {
		if s.ID == id {
			delete(c.tokens, h)
		}
	}
	return nil
}

// RegenerateToken mints a new token for a source and revokes the old one.
func (c *Catalog) RegenerateToken(ctx context.Context, id string) (*Source, string, error) {
	token := newSecret(TokenPrefix)
	h := hashSecret(token)
	c.mu.Lock()
	defer c.mu.Unlock()
	res, err := c.db.ExecContext(ctx, `UPDATE sources SET token_hash = ? WHERE id = ?`, h[:], id)
	if err != nil {
		return nil, "", fmt.Errorf("regenerate token of source %q: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, "", fmt.Errorf("source %q: %w", id, ErrNotFound)
	}
	var src *Source
	for old, s := range c.tokens {
		if s.ID == id {
			delete(c.tokens, old)
			src = s
		}
	}
	if src == nil {
		return nil, "", fmt.Errorf("source %q: token cache out of sync: %w", id, ErrNotFound)
	}
	c.tokens[h] = src
	return src, token, nil
}

// SourceByToken returns the source a receiver token belongs to. It reads only
// memory.
func (c *Catalog) SourceByToken(token string) (*Source, bool) {
	if !strings.HasPrefix(token, TokenPrefix) {
		return nil, false
	}
	h := hashSecret(token)
	c.mu.RLock()
	s, ok := c.tokens[h]
	c.mu.RUnlock()
	return s, ok
}

func (c *Catalog) loadTokens(ctx context.Context) error {
	rows, err := c.db.QueryContext(ctx, `SELECT `+sourceColumns+` FROM sources`)
	if err != nil {
		return fmt.Errorf("load source tokens: %w", err)
	}
	defer rows.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	for rows.Next() {
		s, hash, err := scanSource(rows)
		if err != nil {
			return fmt.Errorf("load source tokens: %w", err)
		}
		var h [32]byte
		if len(hash) != len(h) {
			return fmt.Errorf("source %s: stored token hash has %d bytes", s.ID, len(hash))
		}
		copy(h[:], hash)
		c.tokens[h] = s
	}
	return rows.Err()
}

// SortedFieldNames returns the source's custom field names in order.
func (s *Source) SortedFieldNames() []string {
	names := make([]string, 0, len(s.Fields))
	for k := range s.Fields {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
