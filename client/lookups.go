package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// LookupField is a column of a lookup table.
type LookupField struct {
	Name string `json:"fieldName"`
	Type string `json:"fieldType"`
}

// LookupSpec describes a lookup table to create.
type LookupSpec struct {
	Name        string        `json:"name"`
	Description string        `json:"description,omitempty"`
	PrimaryKeys []string      `json:"primaryKeys"`
	Fields      []LookupField `json:"fields,omitempty"`
}

// Lookup is a lookup table as the API describes it.
type Lookup struct {
	ID             string        `json:"id"`
	Name           string        `json:"name"`
	Description    string        `json:"description"`
	Fields         []LookupField `json:"fields"`
	PrimaryKeys    []string      `json:"primaryKeys"`
	RowCount       int64         `json:"rowCount"`
	SizeBytes      int64         `json:"sizeBytes"`
	SizeLimitBytes int64         `json:"sizeLimitBytes"`
	CreatedAt      Timestamp     `json:"createdAt"`
	CreatedBy      string        `json:"createdBy"`
	UpdatedAt      Timestamp     `json:"updatedAt"`
	UpdatedBy      string        `json:"updatedBy"`
}

// LookupUpload is the outcome of a CSV upload.
type LookupUpload struct {
	RowsRead     int64  `json:"rowsRead"`
	RowsWritten  int64  `json:"rowsWritten"`
	RowsSkipped  int64  `json:"rowsSkipped"`
	SkippedLines []int  `json:"skippedLines"`
	SkipReason   string `json:"skipReason"`
	RowCount     int64  `json:"rowCount"`
	SizeBytes    int64  `json:"sizeBytes"`
}

// CreateLookup creates an empty lookup table.
func (c *Client) CreateLookup(ctx context.Context, spec LookupSpec) (*Lookup, error) {
	var l Lookup
	if err := c.do(ctx, http.MethodPost, "/api/v1/lookups", nil, spec, &l, http.StatusCreated); err != nil {
		return nil, fmt.Errorf("create lookup table %q: %w", spec.Name, err)
	}
	return &l, nil
}

// ListLookups returns every lookup table.
func (c *Client) ListLookups(ctx context.Context) ([]Lookup, error) {
	var out struct {
		Lookups []Lookup `json:"lookups"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/lookups", nil, nil, &out, http.StatusOK); err != nil {
		return nil, fmt.Errorf("list lookup tables: %w", err)
	}
	return out.Lookups, nil
}

// GetLookup returns a lookup table by id.
func (c *Client) GetLookup(ctx context.Context, id string) (*Lookup, error) {
	var l Lookup
	if err := c.do(ctx, http.MethodGet, "/api/v1/lookups/"+url.PathEscape(id), nil, nil, &l, http.StatusOK); err != nil {
		return nil, fmt.Errorf("get lookup table %s: %w", id, err)
	}
	return &l, nil
}

// DeleteLookup deletes a lookup table and its rows.
func (c *Client) DeleteLookup(ctx context.Context, id string) error {
	if err := c.do(ctx, http.MethodDelete, "/api/v1/lookups/"+url.PathEscape(id), nil, nil, nil, http.StatusOK); err != nil {
		return fmt.Errorf("delete lookup table %s: %w", id, err)
	}
	return nil
}

// UploadLookupCSV sends a CSV file (with a header line) to a lookup table:
// its rows replace the table's, or are merged by primary key when merge is
// set.
func (c *Client) UploadLookupCSV(ctx context.Context, id string, csv io.Reader, merge bool) (*LookupUpload, error) {
	var out LookupUpload
	query := url.Values{"merge": {strconv.FormatBool(merge)}}
	if err := c.do(ctx, http.MethodPut, "/api/v1/lookups/"+url.PathEscape(id)+"/csv", query, rawBody{csv, "text/csv"}, &out, http.StatusOK); err != nil {
		return nil, fmt.Errorf("upload lookup table %s: %w", id, err)
	}
	return &out, nil
}
