package catalog

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dohyo/dohyo/query"
)

// Lookup tables (spec §8): named tables of rows that the lookup operator
// joins with log data and the save operator writes. A table has a
// path-like name (query.NormalizeLookupName: /Library/Users/me/admins,
// /shared/admins), typed columns (lower-cased field names), a primary key
// of one or more columns, and rows, at most MaxLookupTableBytes of them
// (100 MB by default, SetMaxLookupTableBytes).
//
// Rows live in lookup_rows as JSON arrays of strings (one per column, ""
// for null), under a key computed from the primary key columns by
// query.LookupRowKey: strings compared without regard to case, numbers by
// value. Two rows with the same key are the same row: uploads and save
// append upsert by it, and the lookup operator matches on it.
//
// Uploads are CSV with a header line (RFC 4180; a UTF-8 byte-order mark is
// ignored; header names are trimmed and lower-cased and may hold letters,
// digits and _). A row with the wrong number of fields, a value over 1023
// bytes or a CSV syntax error rejects the whole file with the line number;
// a row with a value that does not suit its column's type is skipped and
// reported (Sumo's rules). The first upload of a table created without
// fields sets its columns (typed string); later uploads must have the same
// columns when merging, and may redefine them when replacing (columns kept
// keep their type). Every write is one transaction: it applies whole or not
// at all, and one that would make the table exceed its size limit is
// refused.

// DefaultMaxLookupTableBytes is the size limit of a lookup table (Sumo's).
const DefaultMaxLookupTableBytes = 100 << 20

// Limits of lookup tables.
const (
	MaxLookupValueBytes  = 1023
	MaxLookupColumns     = 256
	MaxLookupDescription = 1024
)

// LookupField is a column of a lookup table (Sumo's API spelling).
type LookupField struct {
	Name string `json:"fieldName"`
	Type string `json:"fieldType"`
}

// LookupTable describes a lookup table.
type LookupTable struct {
	ID             string        `json:"id"`
	Name           string        `json:"name"`
	Description    string        `json:"description"`
	Fields         []LookupField `json:"fields"`
	PrimaryKeys    []string      `json:"primaryKeys"`
	RowCount       int64         `json:"rowCount"`
	SizeBytes      int64         `json:"sizeBytes"`
	SizeLimitBytes int64         `json:"sizeLimitBytes"`
	CreatedAt      time.Time     `json:"createdAt"`
	CreatedBy      string        `json:"createdBy,omitempty"`
	UpdatedAt      time.Time     `json:"updatedAt"`
	UpdatedBy      string        `json:"updatedBy,omitempty"`

	version int64
}

// LookupSpec is what a caller provides to create a lookup table. Fields
// may be left out: the first upload's header then defines them.
type LookupSpec struct {
	Name        string        `json:"name"`
	Description string        `json:"description"`
	PrimaryKeys []string      `json:"primaryKeys"`
	Fields      []LookupField `json:"fields"`
}

// LookupUpload is the outcome of a CSV upload.
type LookupUpload struct {
	// RowsRead is the number of data rows in the file.
	RowsRead int64 `json:"rowsRead"`
	// RowsWritten were inserted or updated (a key repeated in the file
	// counts each time; the last one wins).
	RowsWritten int64 `json:"rowsWritten"`
	// RowsSkipped had a value that does not suit its column's type.
	RowsSkipped  int64  `json:"rowsSkipped"`
	SkippedLines []int  `json:"skippedLines,omitempty"` // the first few
	SkipReason   string `json:"skipReason,omitempty"`   // of the first skipped row
	// RowCount and SizeBytes describe the table after the upload.
	RowCount  int64 `json:"rowCount"`
	SizeBytes int64 `json:"sizeBytes"`
}

// lookupState holds the limit and the cache of loaded tables.
type lookupState struct {
	mu       sync.Mutex
	maxBytes int64
	cache    map[string]*cachedLookup // by table id
	used     int64                    // bytes of cached tables
	tick     int64
}

type cachedLookup struct {
	version int64
	size    int64
	last    int64
	table   *query.LookupTable
}

// SetMaxLookupTableBytes sets the size limit of every lookup table (the
// sum of its rows' stored sizes); 0 restores the default. Tables already
// larger stay readable, but every write that leaves them over the limit is
// refused.
func (c *Catalog) SetMaxLookupTableBytes(n int64) {
	c.lookups.mu.Lock()
	defer c.lookups.mu.Unlock()
	c.lookups.maxBytes = n
}

// MaxLookupTableBytes returns the size limit of a lookup table.
func (c *Catalog) MaxLookupTableBytes() int64 {
	c.lookups.mu.Lock()
	defer c.lookups.mu.Unlock()
	if c.lookups.maxBytes <= 0 {
		return DefaultMaxLookupTableBytes
	}
	return c.lookups.maxBytes
}

var lookupColumnRE = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// checkLookupColumn validates a column name and returns it lower-cased.
func checkLookupColumn(name string) (string, error) {
	n := strings.TrimSpace(name)
	if n == "" {
		return "", fmt.Errorf("%w: empty column name", ErrInvalid)
	}
	if !lookupColumnRE.MatchString(n) {
		return "", fmt.Errorf("%w: column name %q may hold only letters, digits and _", ErrInvalid, n)
	}
	if len(n) > MaxFieldNameLen {
		return "", fmt.Errorf("%w: column name %q is longer than %d characters", ErrInvalid, n, MaxFieldNameLen)
	}
	return strings.ToLower(n), nil
}

// checkLookupType returns the canonical type name.
func checkLookupType(t string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(t)) {
	case "", "string", "text":
		return query.LookupString, nil
	case "long", "int", "integer":
		return query.LookupLong, nil
	case "double", "float", "number":
		return query.LookupDouble, nil
	case "boolean", "bool":
		return query.LookupBoolean, nil
	}
	return "", fmt.Errorf("%w: column type %q (want string, long, double or boolean)", ErrInvalid, t)
}

// normalizeLookupSpec validates a spec in place.
func normalizeLookupSpec(spec *LookupSpec) error {
	name, err := query.NormalizeLookupName(spec.Name)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	spec.Name = name
	if spec.Description, err = checkText("description", spec.Description, MaxLookupDescription, false); err != nil {
		return err
	}
	if len(spec.Fields) > MaxLookupColumns {
		return fmt.Errorf("%w: %d fields, more than the limit of %d", ErrInvalid, len(spec.Fields), MaxLookupColumns)
	}
	seen := map[string]bool{}
	for i, f := range spec.Fields {
		n, err := checkLookupColumn(f.Name)
		if err != nil {
			return err
		}
		if seen[n] {
			return fmt.Errorf("%w: field %q is listed twice", ErrInvalid, n)
		}
		seen[n] = true
		t, err := checkLookupType(f.Type)
		if err != nil {
			return err
		}
		spec.Fields[i] = LookupField{Name: n, Type: t}
	}
	if len(spec.PrimaryKeys) == 0 {
		return fmt.Errorf("%w: primaryKeys is required: the column(s) that identify a row", ErrInvalid)
	}
	keys := map[string]bool{}
	for i, k := range spec.PrimaryKeys {
		n, err := checkLookupColumn(k)
		if err != nil {
			return err
		}
		if keys[n] {
			return fmt.Errorf("%w: primary key %q is listed twice", ErrInvalid, n)
		}
		keys[n] = true
		if len(spec.Fields) > 0 && !seen[n] {
			return fmt.Errorf("%w: primary key %q is not one of the fields", ErrInvalid, n)
		}
		spec.PrimaryKeys[i] = n
	}
	return nil
}

// CreateLookup creates an empty lookup table.
func (c *Catalog) CreateLookup(ctx context.Context, spec LookupSpec, by string) (*LookupTable, error) {
	spec.Fields = append([]LookupField(nil), spec.Fields...)
	spec.PrimaryKeys = append([]string(nil), spec.PrimaryKeys...)
	if err := normalizeLookupSpec(&spec); err != nil {
		return nil, err
	}
	return c.insertLookup(ctx, c.db, spec, by)
}

// execer is a *sql.DB or a *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (c *Catalog) insertLookup(ctx context.Context, db execer, spec LookupSpec, by string) (*LookupTable, error) {
	now := time.Now().UTC()
	t := &LookupTable{
		ID: newID(), Name: spec.Name, Description: spec.Description,
		Fields: spec.Fields, PrimaryKeys: spec.PrimaryKeys,
		CreatedAt: now, CreatedBy: by, UpdatedAt: now, UpdatedBy: by,
		SizeLimitBytes: c.MaxLookupTableBytes(),
	}
	if t.Fields == nil {
		t.Fields = []LookupField{}
	}
	cols, _ := json.Marshal(t.Fields)
	keys, _ := json.Marshal(t.PrimaryKeys)
	_, err := db.ExecContext(ctx, `INSERT INTO lookup_tables (id, name, description, columns, primary_keys, created_at, created_by, updated_at, updated_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, t.ID, t.Name, t.Description, string(cols), string(keys), now.UnixMilli(), by, now.UnixMilli(), by)
	if err != nil {
		if isUniqueViolation(err) {
			return nil, fmt.Errorf("%w: lookup table %q", ErrConflict, t.Name)
		}
		return nil, fmt.Errorf("create lookup table: %w", err)
	}
	return t, nil
}

const lookupColumns = `id, name, description, columns, primary_keys, row_count, size_bytes, version, created_at, created_by, updated_at, updated_by`

func (c *Catalog) scanLookup(row interface{ Scan(...any) error }) (*LookupTable, error) {
	t := &LookupTable{}
	var cols, keys string
	var created, updated int64
	if err := row.Scan(&t.ID, &t.Name, &t.Description, &cols, &keys, &t.RowCount, &t.SizeBytes, &t.version, &created, &t.CreatedBy, &updated, &t.UpdatedBy); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(cols), &t.Fields); err != nil {
		return nil, fmt.Errorf("lookup table %s: bad columns: %w", t.ID, err)
	}
	if err := json.Unmarshal([]byte(keys), &t.PrimaryKeys); err != nil {
		return nil, fmt.Errorf("lookup table %s: bad primary keys: %w", t.ID, err)
	}
	t.CreatedAt, t.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	t.SizeLimitBytes = c.MaxLookupTableBytes()
	return t, nil
}

// GetLookup returns a table's description by id.
func (c *Catalog) GetLookup(ctx context.Context, id string) (*LookupTable, error) {
	return c.getLookup(ctx, c.db, "id", id)
}

// GetLookupByName returns a table's description by name (any spelling
// NormalizeLookupName accepts; ASCII case is ignored).
func (c *Catalog) GetLookupByName(ctx context.Context, name string) (*LookupTable, error) {
	n, err := query.NormalizeLookupName(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return c.getLookup(ctx, c.db, "name", n)
}

func (c *Catalog) getLookup(ctx context.Context, db execer, col, v string) (*LookupTable, error) {
	t, err := c.scanLookup(db.QueryRowContext(ctx, `SELECT `+lookupColumns+` FROM lookup_tables WHERE `+col+` = ?`, v))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: lookup table %q", ErrNotFound, v)
	}
	if err != nil {
		return nil, fmt.Errorf("read lookup table: %w", err)
	}
	return t, nil
}

// ListLookups returns every table, by name.
func (c *Catalog) ListLookups(ctx context.Context) ([]*LookupTable, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT `+lookupColumns+` FROM lookup_tables ORDER BY name COLLATE NOCASE`)
	if err != nil {
		return nil, fmt.Errorf("list lookup tables: %w", err)
	}
	defer rows.Close()
	var out []*LookupTable
	for rows.Next() {
		t, err := c.scanLookup(rows)
		if err != nil {
			return nil, fmt.Errorf("list lookup tables: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteLookup deletes a table and its rows.
func (c *Catalog) DeleteLookup(ctx context.Context, id string) error {
	res, err := c.db.ExecContext(ctx, `DELETE FROM lookup_tables WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete lookup table: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: lookup table %q", ErrNotFound, id)
	}
	c.lookups.mu.Lock()
	if e := c.lookups.cache[id]; e != nil {
		c.lookups.used -= e.size
		delete(c.lookups.cache, id)
	}
	c.lookups.mu.Unlock()
	return nil
}

// LookupRows returns rows [offset, offset+limit) of a table in the order
// they were first written, one value per field.
func (c *Catalog) LookupRows(ctx context.Context, id string, offset, limit int) (*LookupTable, [][]string, error) {
	t, err := c.GetLookup(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	rows, err := c.db.QueryContext(ctx, `SELECT row_json FROM lookup_rows WHERE table_id = ? ORDER BY rowid LIMIT ? OFFSET ?`, id, max(limit, 0), max(offset, 0))
	if err != nil {
		return nil, nil, fmt.Errorf("read lookup rows: %w", err)
	}
	defer rows.Close()
	out := [][]string{}
	for rows.Next() {
		var js string
		if err := rows.Scan(&js); err != nil {
			return nil, nil, fmt.Errorf("read lookup rows: %w", err)
		}
		var vals []string
		if err := json.Unmarshal([]byte(js), &vals); err != nil {
			return nil, nil, fmt.Errorf("lookup table %s: bad row: %w", id, err)
		}
		out = append(out, vals)
	}
	return t, out, rows.Err()
}

// ---- writing rows ----

// rowPrep turns rows of one table into what lookup_rows stores: their key
// and their JSON.
type rowPrep struct {
	types    []string // per column
	keyIdx   []int    // column of each primary key
	keyTypes []string
	keyVals  []string
}

// preparedRow is a row ready to be written.
type preparedRow struct{ key, js string }

func newRowPrep(fields []LookupField, primaryKeys []string) (*rowPrep, error) {
	w := &rowPrep{keyVals: make([]string, len(primaryKeys))}
	for _, f := range fields {
		w.types = append(w.types, f.Type)
	}
	for _, k := range primaryKeys {
		i := fieldIndex(fields, k)
		if i < 0 {
			return nil, fmt.Errorf("%w: primary key %q is not a column of the table", ErrInvalid, k)
		}
		w.keyIdx = append(w.keyIdx, i)
		w.keyTypes = append(w.keyTypes, fields[i].Type)
	}
	return w, nil
}

func fieldIndex(fields []LookupField, name string) int {
	for i, f := range fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// checkRow returns why vals do not suit the column types, or "".
func (w *rowPrep) checkRow(vals []string, names []LookupField) string {
	for i, v := range vals {
		if !query.CheckLookupValue(w.types[i], v) {
			return fmt.Sprintf("value %q of column %s is not a %s", v, names[i].Name, w.types[i])
		}
	}
	return ""
}

// prepare returns the key and JSON of a row (values in the table's column
// order).
func (w *rowPrep) prepare(vals []string) (preparedRow, error) {
	for i, k := range w.keyIdx {
		w.keyVals[i] = vals[k]
	}
	key, ok := query.LookupRowKey(w.keyTypes, w.keyVals)
	if !ok {
		return preparedRow{}, fmt.Errorf("%w: primary key values %q do not suit the key's types", ErrInvalid, w.keyVals)
	}
	js, err := json.Marshal(vals)
	if err != nil {
		return preparedRow{}, err
	}
	return preparedRow{key: key, js: string(js)}, nil
}

// insertRows upserts prepared rows into a table; a later row with the key
// of an earlier one replaces it.
func insertRows(ctx context.Context, tx *sql.Tx, tableID string, rows []preparedRow) error {
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO lookup_rows (table_id, key, row_json) VALUES (?, ?, ?)
		ON CONFLICT (table_id, key) DO UPDATE SET row_json = excluded.row_json`)
	if err != nil {
		return fmt.Errorf("write lookup rows: %w", err)
	}
	defer stmt.Close()
	for _, r := range rows {
		if _, err := stmt.ExecContext(ctx, tableID, r.key, r.js); err != nil {
			return fmt.Errorf("write lookup row: %w", err)
		}
	}
	return nil
}

// finishWrite updates the table's counters and refuses a table over the limit.
func (c *Catalog) finishWrite(ctx context.Context, tx *sql.Tx, t *LookupTable, by string) error {
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(length(CAST(row_json AS BLOB))), 0) FROM lookup_rows WHERE table_id = ?`, t.ID).
		Scan(&t.RowCount, &t.SizeBytes); err != nil {
		return fmt.Errorf("size lookup table: %w", err)
	}
	if limit := c.MaxLookupTableBytes(); t.SizeBytes > limit {
		return fmt.Errorf("%w: lookup table %q would hold %d bytes, over its size limit of %d bytes", ErrInvalid, t.Name, t.SizeBytes, limit)
	}
	now := time.Now().UTC()
	t.UpdatedAt, t.UpdatedBy = now, by
	t.version++
	cols, _ := json.Marshal(t.Fields)
	_, err := tx.ExecContext(ctx, `UPDATE lookup_tables SET columns = ?, row_count = ?, size_bytes = ?, version = version + 1, updated_at = ?, updated_by = ? WHERE id = ?`,
		string(cols), t.RowCount, t.SizeBytes, now.UnixMilli(), by, t.ID)
	if err != nil {
		return fmt.Errorf("update lookup table: %w", err)
	}
	return nil
}

// UploadLookupCSV writes a CSV file into a table: replacing its rows, or
// merging them by primary key when merge is set. A rejected file changes
// nothing; its error (wrapping ErrInvalid) gives the line. The file is read
// and checked before the catalog is locked for the write.
func (c *Catalog) UploadLookupCSV(ctx context.Context, id string, r io.Reader, merge bool, by string) (*LookupUpload, error) {
	t, err := c.GetLookup(ctx, id)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && string(b) == "\xef\xbb\xbf" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%w: the file is empty: a CSV file needs a header line", ErrInvalid)
	}
	if err != nil {
		return nil, csvError(err)
	}
	cols := make([]string, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		n, err := checkLookupColumn(h)
		if err != nil {
			return nil, fmt.Errorf("line 1: header: %w", err)
		}
		if seen[n] {
			return nil, fmt.Errorf("%w: line 1: column %q appears twice in the header", ErrInvalid, n)
		}
		seen[n] = true
		cols[i] = n
	}
	if len(cols) > MaxLookupColumns {
		return nil, fmt.Errorf("%w: line 1: %d columns, more than the limit of %d", ErrInvalid, len(cols), MaxLookupColumns)
	}
	for _, k := range t.PrimaryKeys {
		if !seen[k] {
			return nil, fmt.Errorf("%w: line 1: the header has no column %q, which is part of the table's primary key (%s)", ErrInvalid, k, strings.Join(t.PrimaryKeys, ", "))
		}
	}
	// The table's columns after the upload.
	fields := t.Fields
	if !sameColumns(t.Fields, cols) {
		if merge && len(t.Fields) > 0 {
			return nil, fmt.Errorf("%w: line 1: the header's columns (%s) differ from the table's (%s); replace the table's rows instead of merging to change its columns", ErrInvalid, strings.Join(sortedStrings(cols), ", "), strings.Join(fieldNames(t.Fields), ", "))
		}
		fields = make([]LookupField, len(cols))
		for i, n := range cols {
			fields[i] = LookupField{Name: n, Type: query.LookupString}
			if j := fieldIndex(t.Fields, n); j >= 0 {
				fields[i].Type = t.Fields[j].Type
			}
		}
	}
	from := make([]int, len(fields)) // table column → CSV column
	for i, f := range fields {
		from[i] = indexString(cols, f.Name)
	}
	prep, err := newRowPrep(fields, t.PrimaryKeys)
	if err != nil {
		return nil, err
	}
	res := &LookupUpload{}
	var rows []preparedRow
	var bytes int64
	maxBytes := 2 * c.MaxLookupTableBytes()
	vals := make([]string, len(fields))
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		res.RowsRead++
		if len(rec) != len(cols) {
			return nil, fmt.Errorf("%w: line %d: %d fields, but the header has %d", ErrInvalid, line, len(rec), len(cols))
		}
		for i, v := range rec {
			if len(v) > MaxLookupValueBytes {
				_, col := cr.FieldPos(i)
				return nil, fmt.Errorf("%w: line %d, column %d: the value of %s is %d bytes long; the limit is %d", ErrInvalid, line, col, cols[i], len(v), MaxLookupValueBytes)
			}
		}
		for i, j := range from {
			vals[i] = rec[j]
		}
		if why := prep.checkRow(vals, fields); why != "" {
			res.RowsSkipped++
			if len(res.SkippedLines) < 10 {
				res.SkippedLines = append(res.SkippedLines, line)
			}
			if res.SkipReason == "" {
				res.SkipReason = fmt.Sprintf("line %d: %s", line, why)
			}
			continue
		}
		pr, err := prep.prepare(vals)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if bytes += int64(len(pr.js)); bytes > maxBytes {
			return nil, fmt.Errorf("%w: line %d: the file holds more than twice the size limit of a lookup table (%d bytes)", ErrInvalid, line, maxBytes/2)
		}
		rows = append(rows, pr)
	}
	res.RowsWritten = int64(len(rows))

	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("upload lookup table: %w", err)
	}
	defer tx.Rollback()
	cur, err := c.getLookup(ctx, tx, "id", id)
	if err != nil {
		return nil, err
	}
	if cur.version != t.version {
		return nil, fmt.Errorf("%w: lookup table %q changed during the upload; upload the file again", ErrConflict, t.Name)
	}
	cur.Fields = fields
	if !merge {
		if _, err := tx.ExecContext(ctx, `DELETE FROM lookup_rows WHERE table_id = ?`, cur.ID); err != nil {
			return nil, fmt.Errorf("replace lookup rows: %w", err)
		}
	}
	if err := insertRows(ctx, tx, cur.ID, rows); err != nil {
		return nil, err
	}
	if err := c.finishWrite(ctx, tx, cur, by); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("upload lookup table: %w", err)
	}
	res.RowCount, res.SizeBytes = cur.RowCount, cur.SizeBytes
	return res, nil
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%w: line %d, column %d: %v", ErrInvalid, pe.Line, pe.Column, pe.Err)
	}
	return fmt.Errorf("%w: reading the CSV file: %v", ErrInvalid, err)
}

func sameColumns(fields []LookupField, cols []string) bool {
	if len(fields) != len(cols) {
		return false
	}
	for _, f := range fields {
		if indexString(cols, f.Name) < 0 {
			return false
		}
	}
	return true
}

func indexString(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func fieldNames(fields []LookupField) []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = f.Name
	}
	sort.Strings(out)
	return out
}

func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// ---- query.LookupStore ----

var _ query.LookupStore = (*Catalog)(nil)

// LoadLookup implements query.LookupStore: the table named name with its
// rows. Loaded tables are cached (up to twice the table size limit in all)
// and shared between runs until the table changes.
func (c *Catalog) LoadLookup(ctx context.Context, name string) (*query.LookupTable, error) {
	t, err := c.getLookup(ctx, c.db, "name", name)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", query.ErrLookupNotFound, name)
	}
	if err != nil {
		return nil, err
	}
	st := &c.lookups
	st.mu.Lock()
	if e := st.cache[t.ID]; e != nil && e.version == t.version {
		st.tick++
		e.last = st.tick
		st.mu.Unlock()
		return e.table, nil
	}
	st.mu.Unlock()

	qt := &query.LookupTable{Name: t.Name, PrimaryKey: t.PrimaryKeys}
	for _, f := range t.Fields {
		qt.Columns = append(qt.Columns, query.LookupColumn{Name: f.Name, Type: f.Type})
	}
	rows, err := c.db.QueryContext(ctx, `SELECT row_json FROM lookup_rows WHERE table_id = ? ORDER BY rowid`, t.ID)
	if err != nil {
		return nil, fmt.Errorf("load lookup table %q: %w", t.Name, err)
	}
	defer rows.Close()
	qt.Rows = make([][]string, 0, t.RowCount)
	var size int64
	for rows.Next() {
		var js []byte
		if err := rows.Scan(&js); err != nil {
			return nil, fmt.Errorf("load lookup table %q: %w", t.Name, err)
		}
		size += int64(len(js))
		var vals []string
		if err := json.Unmarshal(js, &vals); err != nil {
			return nil, fmt.Errorf("load lookup table %q: bad row: %w", t.Name, err)
		}
		qt.Rows = append(qt.Rows, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load lookup table %q: %w", t.Name, err)
	}
	c.cacheLookup(t.ID, t.version, size, qt)
	return qt, nil
}

// cacheLookup keeps a loaded table, evicting the least recently used ones
// beyond the budget.
func (c *Catalog) cacheLookup(id string, version, size int64, t *query.LookupTable) {
	budget := 2 * c.MaxLookupTableBytes()
	st := &c.lookups
	st.mu.Lock()
	defer st.mu.Unlock()
	if size > budget {
		return
	}
	if st.cache == nil {
		st.cache = map[string]*cachedLookup{}
	}
	if e := st.cache[id]; e != nil {
		st.used -= e.size
		delete(st.cache, id)
	}
	for st.used+size > budget && len(st.cache) > 0 {
		var oldest string
		var at int64 = -1
		for k, e := range st.cache {
			if at < 0 || e.last < at {
				oldest, at = k, e.last
			}
		}
		st.used -= st.cache[oldest].size
		delete(st.cache, oldest)
	}
	st.tick++
	st.cache[id] = &cachedLookup{version: version, size: size, last: st.tick, table: t}
	st.used += size
}

// SaveLookup implements query.LookupStore for the save operator (see
// query.LookupSave for the rules).
func (c *Catalog) SaveLookup(ctx context.Context, s *query.LookupSave) error {
	name, err := query.NormalizeLookupName(s.Name)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save lookup table: %w", err)
	}
	defer tx.Rollback()
	t, err := c.getLookup(ctx, tx, "name", name)
	if errors.Is(err, ErrNotFound) {
		if len(s.Columns) == 0 {
			return fmt.Errorf("%w: lookup table %q does not exist, and there are no results to create it from", ErrInvalid, name)
		}
		spec := LookupSpec{Name: name, PrimaryKeys: append([]string(nil), s.PrimaryKey...)}
		for i, col := range s.Columns {
			typ := query.LookupString
			if i < len(s.Types) {
				switch s.Types[i] {
				case "int", "long":
					typ = query.LookupLong
				case "double":
					typ = query.LookupDouble
				}
			}
			spec.Fields = append(spec.Fields, LookupField{Name: col, Type: typ})
		}
		if err := normalizeLookupSpec(&spec); err != nil {
			return err
		}
		if t, err = c.insertLookup(ctx, tx, spec, s.User); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	from := make([]int, len(t.Fields)) // table column → saved column
	for i, f := range t.Fields {
		from[i] = indexString(s.Columns, f.Name)
		if from[i] < 0 && len(s.Rows) > 0 {
			return fmt.Errorf("%w: the results have no field %s, a column of lookup table %q (%s)", ErrInvalid, f.Name, t.Name, strings.Join(fieldNames(t.Fields), ", "))
		}
	}
	prep, err := newRowPrep(t.Fields, t.PrimaryKeys)
	if err != nil {
		return err
	}
	rows := make([]preparedRow, 0, len(s.Rows))
	vals := make([]string, len(t.Fields))
	for n, r := range s.Rows {
		for i, j := range from {
			vals[i] = ""
			if j >= 0 && j < len(r) {
				vals[i] = r[j]
			}
			if len(vals[i]) > MaxLookupValueBytes {
				return fmt.Errorf("%w: result %d: the value of %s is %d bytes long; the limit is %d", ErrInvalid, n+1, t.Fields[i].Name, len(vals[i]), MaxLookupValueBytes)
			}
		}
		if why := prep.checkRow(vals, t.Fields); why != "" {
			return fmt.Errorf("%w: result %d: %s", ErrInvalid, n+1, why)
		}
		pr, err := prep.prepare(vals)
		if err != nil {
			return err
		}
		rows = append(rows, pr)
	}
	if !s.Append {
		if _, err := tx.ExecContext(ctx, `DELETE FROM lookup_rows WHERE table_id = ?`, t.ID); err != nil {
			return fmt.Errorf("replace lookup rows: %w", err)
		}
	}
	if err := insertRows(ctx, tx, t.ID, rows); err != nil {
		return err
	}
	if err := c.finishWrite(ctx, tx, t, s.User); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save lookup table: %w", err)
	}
	return nil
}
