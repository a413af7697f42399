package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Monitor is a monitor as the API describes it (its definition is
// package monitors' Spec; the fields a client shows are decoded here, and
// Raw keeps the whole JSON).
type Monitor struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Query       string            `json:"query"`
	Window      string            `json:"window"`
	Frequency   string            `json:"frequency"`
	Delay       string            `json:"delay"`
	GroupBy     []string          `json:"groupBy"`
	Labels      map[string]string `json:"labels"`
	Enabled     bool              `json:"enabled"`
	Muted       bool              `json:"muted"`
	MutedUntil  *Timestamp        `json:"mutedUntil"`
	App         string            `json:"app"`
	Version     int64             `json:"version"`
	CreatedBy   string            `json:"createdBy"`
	Status      MonitorStatus     `json:"status"`
	Raw         json.RawMessage   `json:"-"`
}

// MonitorStatus is a monitor's current state.
type MonitorStatus struct {
	State           string         `json:"state"`
	Firing          int            `json:"firing"`
	Alerts          []MonitorAlert `json:"alerts"`
	LastEvaluatedAt *Timestamp     `json:"lastEvaluatedAt"`
	LastWindow      *struct {
		From Timestamp `json:"from"`
		To   Timestamp `json:"to"`
	} `json:"lastWindow"`
	NextEvaluationAt *Timestamp `json:"nextEvaluationAt"`
	LastResultCount  int64      `json:"lastResultCount"`
	Error            *struct {
		Message string    `json:"message"`
		Since   Timestamp `json:"since"`
		Count   int       `json:"count"`
	} `json:"error"`
}

// MonitorAlert is a firing group of a monitor.
type MonitorAlert struct {
	MonitorID string            `json:"monitorId"`
	GroupKey  string            `json:"groupKey"`
	Group     map[string]string `json:"group"`
	State     string            `json:"state"`
	Value     string            `json:"value"`
	AlertID   string            `json:"alertId"`
	Since     Timestamp         `json:"since"`
}

// MonitorEvent is an entry of a monitor's history.
type MonitorEvent struct {
	ID          int64             `json:"id"`
	MonitorID   string            `json:"monitorId"`
	At          Timestamp         `json:"at"`
	Kind        string            `json:"kind"`
	Severity    string            `json:"severity"`
	Group       map[string]string `json:"group"`
	Value       string            `json:"value"`
	WindowStart *Timestamp        `json:"windowStart"`
	WindowEnd   *Timestamp        `json:"windowEnd"`
	Message     string            `json:"message"`
	By          string            `json:"by"`
}

// UnmarshalJSON keeps the raw JSON.
func (m *Monitor) UnmarshalJSON(b []byte) error {
	type plain Monitor
	if err := json.Unmarshal(b, (*plain)(m)); err != nil {
		return err
	}
	m.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// ListMonitors returns the monitors (of one app when app is not empty).
func (c *Client) ListMonitors(ctx context.Context, app string) ([]Monitor, error) {
	var out struct {
		Monitors []Monitor `json:"monitors"`
	}
	var q url.Values
	if app != "" {
		q = url.Values{"app": {app}}
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/monitors", q, nil, &out, http.StatusOK); err != nil {
		return nil, fmt.Errorf("list monitors: %w", err)
	}
	return out.Monitors, nil
}

// GetMonitor returns a monitor by id, with its firing alerts.
func (c *Client) GetMonitor(ctx context.Context, id string) (*Monitor, error) {
	var m Monitor
	if err := c.do(ctx, http.MethodGet, "/api/v1/monitors/"+url.PathEscape(id), nil, nil, &m, http.StatusOK); err != nil {
		return nil, fmt.Errorf("get monitor %s: %w", id, err)
	}
	return &m, nil
}

// CreateMonitor creates a monitor from its JSON definition; dryRun only
// validates it (the monitor returned then has no id).
func (c *Client) CreateMonitor(ctx context.Context, def json.RawMessage, dryRun bool) (*Monitor, error) {
	if dryRun {
		var out struct {
			Monitor Monitor `json:"monitor"`
		}
		if err := c.do(ctx, http.MethodPost, "/api/v1/monitors", url.Values{"dryRun": {"true"}}, def, &out, http.StatusOK); err != nil {
			return nil, fmt.Errorf("validate monitor: %w", err)
		}
		return &out.Monitor, nil
	}
	var m Monitor
	if err := c.do(ctx, http.MethodPost, "/api/v1/monitors", nil, def, &m, http.StatusCreated); err != nil {
		return nil, fmt.Errorf("create monitor: %w", err)
	}
	return &m, nil
}

// UpdateMonitor replaces a monitor's definition.
func (c *Client) UpdateMonitor(ctx context.Context, id string, def json.RawMessage) (*Monitor, error) {
	var m Monitor
	if err := c.do(ctx, http.MethodPut, "/api/v1/monitors/"+url.PathEscape(id), nil, def, &m, http.StatusOK); err != nil {
		return nil, fmt.Errorf("update monitor %s: %w", id, err)
	}
	return &m, nil
}

// DeleteMonitor deletes a monitor and its history.
func (c *Client) DeleteMonitor(ctx context.Context, id string) error {
	if err := c.do(ctx, http.MethodDelete, "/api/v1/monitors/"+url.PathEscape(id), nil, nil, nil, http.StatusOK); err != nil {
		return fmt.Errorf("delete monitor %s: %w", id, err)
	}
	return nil
}

// SetMonitorEnabled enables or disables a monitor.
func (c *Client) SetMonitorEnabled(ctx context.Context, id string, enabled bool) (*Monitor, error) {
	op := "disable"
	if enabled {
		op = "enable"
	}
	var m Monitor
	if err := c.do(ctx, http.MethodPost, "/api/v1/monitors/"+url.PathEscape(id)+"/"+op, nil, nil, &m, http.StatusOK); err != nil {
		return nil, fmt.Errorf("%s monitor %s: %w", op, id, err)
	}
	return &m, nil
}

// MuteMonitor silences a monitor's notifications for a duration ("2h");
// an empty duration unmutes it.
func (c *Client) MuteMonitor(ctx context.Context, id, duration string) (*Monitor, error) {
	var m Monitor
	var err error
	if duration == "" {
		err = c.do(ctx, http.MethodPost, "/api/v1/monitors/"+url.PathEscape(id)+"/unmute", nil, nil, &m, http.StatusOK)
	} else {
		err = c.do(ctx, http.MethodPost, "/api/v1/monitors/"+url.PathEscape(id)+"/mute", nil, map[string]string{"for": duration}, &m, http.StatusOK)
	}
	if err != nil {
		return nil, fmt.Errorf("mute monitor %s: %w", id, err)
	}
	return &m, nil
}

// MonitorHistory returns a monitor's history (every monitor's when id is
// empty), newest first; kinds filters (fired, resolved, error...).
func (c *Client) MonitorHistory(ctx context.Context, id string, kinds []string, limit int) ([]MonitorEvent, error) {
	path := "/api/v1/monitors/history"
	if id != "" {
		path = "/api/v1/monitors/" + url.PathEscape(id) + "/history"
	}
	q := url.Values{}
	if len(kinds) > 0 {
		q.Set("kind", strings.Join(kinds, ","))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out struct {
		Events []MonitorEvent `json:"events"`
	}
	if err := c.do(ctx, http.MethodGet, path, q, nil, &out, http.StatusOK); err != nil {
		return nil, fmt.Errorf("monitor history: %w", err)
	}
	return out.Events, nil
}

// SetAppMonitorsEnabled enables or disables every monitor of an app (and
// makes each notify the targets named in notify, if any) and returns how
// many changed state, with the app's monitors.
func (c *Client) SetAppMonitorsEnabled(ctx context.Context, app string, enabled bool, notify ...string) (int, []Monitor, error) {
	var out struct {
		Changed  int       `json:"changed"`
		Monitors []Monitor `json:"monitors"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/v1/monitors/enable-app", nil, map[string]any{"app": app, "enabled": enabled, "notify": notify}, &out, http.StatusOK); err != nil {
		return 0, nil, fmt.Errorf("enable the monitors of app %s: %w", app, err)
	}
	return out.Changed, out.Monitors, nil
}

// NotificationTarget is a notification target (secrets redacted).
type NotificationTarget struct {
	ID   string          `json:"id"`
	Name string          `json:"name"`
	Type string          `json:"type"`
	Raw  json.RawMessage `json:"-"`
}

// CreateNotificationTarget creates a target from its JSON definition.
func (c *Client) CreateNotificationTarget(ctx context.Context, def json.RawMessage) (*NotificationTarget, error) {
	var raw json.RawMessage
	if err := c.do(ctx, http.MethodPost, "/api/v1/notification-targets", nil, def, &raw, http.StatusCreated); err != nil {
		return nil, fmt.Errorf("create notification target: %w", err)
	}
	var t NotificationTarget
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, err
	}
	t.Raw = raw
	return &t, nil
}

// ListNotificationTargets returns the targets.
func (c *Client) ListNotificationTargets(ctx context.Context) ([]NotificationTarget, error) {
	var out struct {
		Targets []NotificationTarget `json:"targets"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/notification-targets", nil, nil, &out, http.StatusOK); err != nil {
		return nil, fmt.Errorf("list notification targets: %w", err)
	}
	return out.Targets, nil
}

// TargetTest is the outcome of a test notification.
type TargetTest struct {
	OK         bool   `json:"ok"`
	StatusCode int    `json:"statusCode"`
	Error      string `json:"error"`
	DurationMs int64  `json:"durationMs"`
}

// TestNotificationTarget sends a test notification to a target (by id).
func (c *Client) TestNotificationTarget(ctx context.Context, id string) (*TargetTest, error) {
	var out TargetTest
	if err := c.do(ctx, http.MethodPost, "/api/v1/notification-targets/"+url.PathEscape(id)+"/test", nil, nil, &out, http.StatusOK); err != nil {
		return nil, fmt.Errorf("test notification target %s: %w", id, err)
	}
	return &out, nil
}

// DeleteNotificationTarget deletes a target (by id).
func (c *Client) DeleteNotificationTarget(ctx context.Context, id string) error {
	if err := c.do(ctx, http.MethodDelete, "/api/v1/notification-targets/"+url.PathEscape(id), nil, nil, nil, http.StatusOK); err != nil {
		return fmt.Errorf("delete notification target %s: %w", id, err)
	}
	return nil
}

// ThreatList is a stored threat intelligence list.
type ThreatList struct {
	Name        string    `json:"name"`
	Table       string    `json:"table"`
	Description string    `json:"description"`
	RowCount    int64     `json:"rowCount"`
	SizeBytes   int64     `json:"sizeBytes"`
	UpdatedAt   Timestamp `json:"updatedAt"`
	UpdatedBy   string    `json:"updatedBy"`
}

// ThreatUpload is the outcome of a threat list upload.
type ThreatUpload struct {
	List        ThreatList `json:"list"`
	Format      string     `json:"format"`
	Indicators  int        `json:"indicators"`
	Skipped     int        `json:"skipped"`
	SkipReasons []string   `json:"skipReasons"`
}

// UploadThreatList replaces (or creates) the threat list named name with
// a CSV file or a STIX 2.1 bundle.
func (c *Client) UploadThreatList(ctx context.Context, name string, data []byte, description string) (*ThreatUpload, error) {
	var query url.Values
	if description != "" {
		query = url.Values{"description": {description}}
	}
	ct := "text/csv"
	if t := bytes.TrimLeft(data, " \t\r\n\xef\xbb\xbf"); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		ct = "application/json"
	}
	var out ThreatUpload
	if err := c.do(ctx, http.MethodPut, "/api/v1/threatintel/"+url.PathEscape(name), query, rawBody{bytes.NewReader(data), ct}, &out, http.StatusOK); err != nil {
		return nil, fmt.Errorf("upload threat list %s: %w", name, err)
	}
	return &out, nil
}

// ListThreatLists returns the threat intelligence lists.
func (c *Client) ListThreatLists(ctx context.Context) ([]ThreatList, error) {
	var out struct {
		Lists []ThreatList `json:"lists"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/threatintel", nil, nil, &out, http.StatusOK); err != nil {
		return nil, fmt.Errorf("list threat lists: %w", err)
	}
	return out.Lists, nil
}

// DeleteThreatList deletes a threat intelligence list.
func (c *Client) DeleteThreatList(ctx context.Context, name string) error {
	if err := c.do(ctx, http.MethodDelete, "/api/v1/threatintel/"+url.PathEscape(name), nil, nil, nil, http.StatusOK); err != nil {
		return fmt.Errorf("delete threat list %s: %w", name, err)
	}
	return nil
}
