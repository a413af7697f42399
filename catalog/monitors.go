package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Monitors: the catalog keeps what package monitors needs to survive a
// restart — each monitor's definition (opaque JSON the monitors package
// owns) and schedule state (the end of the last window it evaluated), the
// alert state of each of its groups, its history, the notification targets,
// and the notification outbox with its delivery log.
//
// An evaluation's outcome is committed in one transaction
// (CommitMonitorEvaluation): the new schedule state, alert states, history
// events and the notifications to send. The commit is conditional on the
// monitor's schedule and version being those the evaluation started from,
// so a window is never committed twice (two schedulers, or an edit during
// the evaluation, make the later commit fail with ErrConflict), and a crash
// before the commit leaves no trace: the window is evaluated again. The
// notifications are an outbox that the notifier delivers afterwards, with
// retries, so a restart loses none.

// MonitorRecord is a monitor as the catalog stores it.
type MonitorRecord struct {
	ID   string
	Name string
	// Spec is the definition, JSON owned by package monitors.
	Spec    string
	Enabled bool
	// MutedUntil silences notifications until then; zero is not muted.
	MutedUntil time.Time
	// App, AppVersion and AppKey name the app (and its file) that
	// installed the monitor; empty for the users' own.
	App, AppVersion, AppKey string
	// Version is bumped by every change of the definition or of the
	// enabled state; an evaluation commits only against the version it
	// ran.
	Version              int64
	CreatedAt, UpdatedAt time.Time
	CreatedBy, UpdatedBy string
	Schedule             MonitorSchedule
}

// MonitorSchedule is the evaluation state of a monitor.
type MonitorSchedule struct {
	// LastWindowEnd is the end of the last window evaluated (or skipped);
	// zero when none was yet.
	LastWindowEnd time.Time
	// LastEvalAt is when the last evaluation ran.
	LastEvalAt time.Time
	// LastResultCount is the number of results of the last evaluation.
	LastResultCount int64
	// LastError is the error of the current error streak ("" when the
	// last evaluation succeeded), ErrorSince when the streak began and
	// ErrorCount how many evaluations failed in a row.
	LastError  string
	ErrorSince time.Time
	ErrorCount int
}

// MonitorAlert is the alert state of one group of a monitor: a group
// present here is firing (or missing data).
type MonitorAlert struct {
	MonitorID string            `json:"monitorId"`
	GroupKey  string            `json:"groupKey"`
	Group     map[string]string `json:"group"`
	// State is the severity: "critical", "warning" or "missingData".
	State string `json:"state"`
	// Value is the value that fired (or last kept it firing).
	Value string `json:"value"`
	// AlertID identifies this alert from firing to resolution.
	AlertID   string    `json:"alertId"`
	Since     time.Time `json:"since"`
	UpdatedAt time.Time `json:"updatedAt"`
	// Targets are the notification targets that were told it fired, so
	// that its resolution goes to the same ones.
	Targets []string `json:"targets,omitempty"`
}

// MonitorEvent is an entry of a monitor's history.
type MonitorEvent struct {
	ID        int64     `json:"id"`
	MonitorID string    `json:"monitorId"`
	At        time.Time `json:"at"`
	// Kind is what happened: fired, escalated, deescalated, resolved,
	// error, recovered, skipped, or a change: created, updated, enabled,
	// disabled, muted, unmuted.
	Kind        string            `json:"kind"`
	Severity    string            `json:"severity,omitempty"`
	GroupKey    string            `json:"groupKey,omitempty"`
	Group       map[string]string `json:"group,omitempty"`
	Value       string            `json:"value,omitempty"`
	AlertID     string            `json:"alertId,omitempty"`
	WindowStart time.Time         `json:"windowStart,omitzero"`
	WindowEnd   time.Time         `json:"windowEnd,omitzero"`
	Message     string            `json:"message,omitempty"`
	// Details is JSON (sample results, skipped windows...).
	Details json.RawMessage `json:"details,omitempty"`
	By      string          `json:"by,omitempty"`
}

// Notification states in the outbox.
const (
	NotificationPending   = "pending"
	NotificationDelivered = "delivered"
	NotificationFailed    = "failed"
)

// Notification is a message for one target in the outbox.
type Notification struct {
	ID        int64
	MonitorID string
	TargetID  string
	EventID   int64
	// Kind is the event kind it announces (fired, resolved, error...).
	Kind          string
	Payload       string
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
	LastError     string

	// EventIndex, in a MonitorCommit, is the index in Events of the event
	// the notification announces (its EventID is set on commit); -1 for
	// none.
	EventIndex int
}

// DeliveryAttempt is one attempt to deliver a notification (the delivery
// log).
type DeliveryAttempt struct {
	ID         int64     `json:"id"`
	OutboxID   int64     `json:"notificationId"`
	MonitorID  string    `json:"monitorId"`
	TargetID   string    `json:"targetId"`
	Kind       string    `json:"kind"`
	Attempt    int       `json:"attempt"`
	At         time.Time `json:"at"`
	OK         bool      `json:"ok"`
	StatusCode int       `json:"statusCode,omitempty"`
	Error      string    `json:"error,omitempty"`
	Duration   int64     `json:"durationMs"`
	// Status is the notification's state after the attempt (pending when
	// it will be retried).
	Status string `json:"status"`
}

// NotificationTarget is where notifications go; Config is JSON owned by
// package monitors (URL, SMTP settings, templates).
type NotificationTarget struct {
	ID, Name, Type       string
	Config               string
	CreatedAt, UpdatedAt time.Time
	CreatedBy, UpdatedBy string
}

func msTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func timeMs(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// NewMonitorID returns a new monitor id.
func NewMonitorID() string { return newID() }

const monitorColumns = `id, name, spec, enabled, muted_until, app, app_version, app_key, version, created_at, created_by, updated_at, updated_by,
	last_window_end, last_eval_at, last_result_count, last_error, error_since, error_count`

func scanMonitor(sc interface{ Scan(...any) error }) (*MonitorRecord, error) {
	m := &MonitorRecord{}
	var muted, created, updated, lastEnd, lastEval, errSince int64
	err := sc.Scan(&m.ID, &m.Name, &m.Spec, &m.Enabled, &muted, &m.App, &m.AppVersion, &m.AppKey, &m.Version,
		&created, &m.CreatedBy, &updated, &m.UpdatedBy,
		&lastEnd, &lastEval, &m.Schedule.LastResultCount, &m.Schedule.LastError, &errSince, &m.Schedule.ErrorCount)
	if err != nil {
		return nil, err
	}
	m.MutedUntil, m.CreatedAt, m.UpdatedAt = msTime(muted), msTime(created), msTime(updated)
	m.Schedule.LastWindowEnd, m.Schedule.LastEvalAt, m.Schedule.ErrorSince = msTime(lastEnd), msTime(lastEval), msTime(errSince)
	return m, nil
}

func checkMonitorRecord(m *MonitorRecord) error {
	var err error
	if m.Name, err = checkText("name", m.Name, 300, true); err != nil {
		return err
	}
	if m.Spec == "" || !json.Valid([]byte(m.Spec)) {
		return fmt.Errorf("%w: the monitor definition is not JSON", ErrInvalid)
	}
	return nil
}

// CreateMonitor stores a new monitor (m.ID is set when empty). A creation
// event is added to its history.
func (c *Catalog) CreateMonitor(ctx context.Context, m *MonitorRecord) error {
	if err := checkMonitorRecord(m); err != nil {
		return err
	}
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create monitor: %w", err)
	}
	defer tx.Rollback()
	if err := insertMonitor(ctx, tx, m); err != nil {
		return err
	}
	if _, err := insertMonitorEvent(ctx, tx, &MonitorEvent{MonitorID: m.ID, At: m.CreatedAt, Kind: "created", By: m.CreatedBy, Message: "created"}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create monitor: %w", err)
	}
	return nil
}

func insertMonitor(ctx context.Context, db execer, m *MonitorRecord) error {
	if m.ID == "" {
		m.ID = newID()
	}
	now := time.Now().UTC()
	if m.CreatedAt.IsZero() {
		m.CreatedAt = now
	}
	m.UpdatedAt, m.UpdatedBy = m.CreatedAt, m.CreatedBy
	m.Version = 1
	_, err := db.ExecContext(ctx, `INSERT INTO monitors (id, name, spec, enabled, muted_until, app, app_version, app_key, version, created_at, created_by, updated_at, updated_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`,
		m.ID, m.Name, m.Spec, m.Enabled, timeMs(m.MutedUntil), m.App, m.AppVersion, m.AppKey,
		m.CreatedAt.UnixMilli(), m.CreatedBy, m.UpdatedAt.UnixMilli(), m.UpdatedBy)
	if err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("%w: monitor %q", ErrConflict, m.ID)
		}
		return fmt.Errorf("create monitor: %w", err)
	}
	return nil
}

// GetMonitor returns a monitor.
func (c *Catalog) GetMonitor(ctx context.Context, id string) (*MonitorRecord, error) {
	return getMonitor(ctx, c.db, id)
}

func getMonitor(ctx context.Context, db execer, id string) (*MonitorRecord, error) {
	m, err := scanMonitor(db.QueryRowContext(ctx, `SELECT `+monitorColumns+` FROM monitors WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: monitor %q", ErrNotFound, id)
	} else if err != nil {
		return nil, fmt.Errorf("get monitor: %w", err)
	}
	return m, nil
}

// ListMonitors returns the monitors by name; app, when not empty, keeps
// those of one app.
func (c *Catalog) ListMonitors(ctx context.Context, app string) ([]*MonitorRecord, error) {
	q := `SELECT ` + monitorColumns + ` FROM monitors`
	var args []any
	if app != "" {
		q += ` WHERE app = ?`
		args = append(args, app)
	}
	rows, err := c.db.QueryContext(ctx, q+` ORDER BY name COLLATE NOCASE, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list monitors: %w", err)
	}
	defer rows.Close()
	var out []*MonitorRecord
	for rows.Next() {
		m, err := scanMonitor(rows)
		if err != nil {
			return nil, fmt.Errorf("list monitors: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// MonitorChange is a change to a monitor; nil fields stay as they are.
type MonitorChange struct {
	Name, Spec *string
	Enabled    *bool
	MutedUntil *time.Time
	// App, AppVersion, AppKey re-tag the monitor (an app upgrade).
	App, AppVersion, AppKey *string
	// ResetSchedule forgets the last window evaluated and the error
	// streak: the next evaluation starts from the current window.
	ResetSchedule bool
	// ClearAlerts forgets the alert states (a disabled monitor fires
	// nothing).
	ClearAlerts bool
	// Event, when set, is added to the history.
	Event *MonitorEvent
	By    string
	// IfVersion, when not zero, makes the change fail with ErrConflict
	// unless the monitor is at that version.
	IfVersion int64
}

// ChangeMonitor applies a change in one transaction and returns the
// monitor as it is afterwards. Changes of the definition, the tags or the
// enabled state bump the version.
func (c *Catalog) ChangeMonitor(ctx context.Context, id string, ch MonitorChange) (*MonitorRecord, error) {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("change monitor: %w", err)
	}
	defer tx.Rollback()
	m, err := getMonitor(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if ch.IfVersion != 0 && m.Version != ch.IfVersion {
		return nil, fmt.Errorf("%w: monitor %q changed meanwhile (version %d, expected %d)", ErrConflict, id, m.Version, ch.IfVersion)
	}
	bump := false
	if ch.Name != nil {
		m.Name, bump = *ch.Name, true
	}
	if ch.Spec != nil {
		m.Spec, bump = *ch.Spec, true
	}
	if ch.Enabled != nil && *ch.Enabled != m.Enabled {
		m.Enabled, bump = *ch.Enabled, true
	}
	if ch.MutedUntil != nil {
		m.MutedUntil = *ch.MutedUntil
	}
	if ch.App != nil {
		m.App, bump = *ch.App, true
	}
	if ch.AppVersion != nil {
		m.AppVersion = *ch.AppVersion
	}
	if ch.AppKey != nil {
		m.AppKey = *ch.AppKey
	}
	if err := checkMonitorRecord(m); err != nil {
		return nil, err
	}
	if bump {
		m.Version++
	}
	if ch.ResetSchedule {
		m.Schedule = MonitorSchedule{}
	}
	m.UpdatedAt, m.UpdatedBy = time.Now().UTC(), ch.By
	_, err = tx.ExecContext(ctx, `UPDATE monitors SET name = ?, spec = ?, enabled = ?, muted_until = ?, app = ?, app_version = ?, app_key = ?,
		version = ?, updated_at = ?, updated_by = ?, last_window_end = ?, last_eval_at = ?, last_result_count = ?, last_error = ?, error_since = ?, error_count = ?
		WHERE id = ?`,
		m.Name, m.Spec, m.Enabled, timeMs(m.MutedUntil), m.App, m.AppVersion, m.AppKey, m.Version, m.UpdatedAt.UnixMilli(), m.UpdatedBy,
		timeMs(m.Schedule.LastWindowEnd), timeMs(m.Schedule.LastEvalAt), m.Schedule.LastResultCount, m.Schedule.LastError,
		timeMs(m.Schedule.ErrorSince), m.Schedule.ErrorCount, m.ID)
	if err != nil {
		return nil, fmt.Errorf("change monitor: %w", err)
	}
	if ch.ClearAlerts {
		if _, err := tx.ExecContext(ctx, `DELETE FROM monitor_alerts WHERE monitor_id = ?`, id); err != nil {
			return nil, fmt.Errorf("change monitor: %w", err)
		}
	}
	if ch.Event != nil {
		ev := *ch.Event
		ev.MonitorID = id
		if ev.At.IsZero() {
			ev.At = m.UpdatedAt
		}
		if ev.By == "" {
			ev.By = ch.By
		}
		if _, err := insertMonitorEvent(ctx, tx, &ev); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("change monitor: %w", err)
	}
	return m, nil
}

// DeleteMonitor deletes a monitor with its alerts, history and pending
// notifications.
func (c *Catalog) DeleteMonitor(ctx context.Context, id string) error {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete monitor: %w", err)
	}
	defer tx.Rollback()
	// The delivery log keeps no foreign key on the monitor (it outlives
	// the outbox rows it describes only through them).
	if _, err := tx.ExecContext(ctx, `DELETE FROM notification_deliveries WHERE monitor_id = ?`, id); err != nil {
		return fmt.Errorf("delete monitor: %w", err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM monitors WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete monitor: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: monitor %q", ErrNotFound, id)
	}
	return tx.Commit()
}

// MonitorCommit is the outcome of evaluating (or skipping) windows of a
// monitor.
type MonitorCommit struct {
	MonitorID string
	// Version and PrevWindowEnd are what the evaluation started from; the
	// commit fails with ErrConflict unless the monitor still has them.
	Version       int64
	PrevWindowEnd time.Time
	// Schedule is the new schedule state.
	Schedule MonitorSchedule
	// Upserts set alert states; Deletes remove those of groups (by key).
	Upserts []MonitorAlert
	Deletes []string
	// Events are added to the history, Notifications to the outbox.
	Events        []MonitorEvent
	Notifications []Notification
}

// CommitMonitorEvaluation applies an evaluation's outcome in one
// transaction. It returns the ids of the events added, in order.
func (c *Catalog) CommitMonitorEvaluation(ctx context.Context, cm *MonitorCommit) ([]int64, error) {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("commit monitor evaluation: %w", err)
	}
	defer tx.Rollback()
	s := cm.Schedule
	res, err := tx.ExecContext(ctx, `UPDATE monitors SET last_window_end = ?, last_eval_at = ?, last_result_count = ?, last_error = ?, error_since = ?, error_count = ?
		WHERE id = ? AND version = ? AND last_window_end = ?`,
		timeMs(s.LastWindowEnd), timeMs(s.LastEvalAt), s.LastResultCount, s.LastError, timeMs(s.ErrorSince), s.ErrorCount,
		cm.MonitorID, cm.Version, timeMs(cm.PrevWindowEnd))
	if err != nil {
		return nil, fmt.Errorf("commit monitor evaluation: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, fmt.Errorf("%w: monitor %q was changed or evaluated meanwhile", ErrConflict, cm.MonitorID)
	}
	for _, a := range cm.Upserts {
		g, _ := json.Marshal(nonNilMap(a.Group))
		if a.Targets == nil {
			a.Targets = []string{}
		}
		tg, _ := json.Marshal(a.Targets)
		_, err := tx.ExecContext(ctx, `INSERT INTO monitor_alerts (monitor_id, group_key, group_json, state, value, alert_id, since, updated_at, targets)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT(monitor_id, group_key) DO UPDATE SET group_json = excluded.group_json, state = excluded.state, value = excluded.value,
			alert_id = excluded.alert_id, since = excluded.since, updated_at = excluded.updated_at, targets = excluded.targets`,
			cm.MonitorID, a.GroupKey, string(g), a.State, a.Value, a.AlertID, timeMs(a.Since), timeMs(a.UpdatedAt), string(tg))
		if err != nil {
			return nil, fmt.Errorf("commit monitor evaluation: %w", err)
		}
	}
	for _, k := range cm.Deletes {
		if _, err := tx.ExecContext(ctx, `DELETE FROM monitor_alerts WHERE monitor_id = ? AND group_key = ?`, cm.MonitorID, k); err != nil {
			return nil, fmt.Errorf("commit monitor evaluation: %w", err)
		}
	}
	ids := make([]int64, len(cm.Events))
	for i := range cm.Events {
		ev := cm.Events[i]
		ev.MonitorID = cm.MonitorID
		if ids[i], err = insertMonitorEvent(ctx, tx, &ev); err != nil {
			return nil, err
		}
	}
	now := time.Now().UTC()
	for _, n := range cm.Notifications {
		if n.EventIndex >= 0 && n.EventIndex < len(ids) {
			n.EventID = ids[n.EventIndex]
		}
		next := n.NextAttemptAt
		if next.IsZero() {
			next = now
		}
		created := n.CreatedAt
		if created.IsZero() {
			created = now
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO notification_outbox (monitor_id, target_id, event_id, kind, payload, status, attempts, next_attempt_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?)`,
			cm.MonitorID, n.TargetID, n.EventID, n.Kind, n.Payload, NotificationPending, next.UnixMilli(), created.UnixMilli(), created.UnixMilli())
		if err != nil {
			return nil, fmt.Errorf("commit monitor evaluation: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit monitor evaluation: %w", err)
	}
	return ids, nil
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func insertMonitorEvent(ctx context.Context, db execer, ev *MonitorEvent) (int64, error) {
	g, _ := json.Marshal(nonNilMap(ev.Group))
	details := "{}"
	if len(ev.Details) > 0 {
		if !json.Valid(ev.Details) {
			return 0, fmt.Errorf("%w: event details are not JSON", ErrInvalid)
		}
		details = string(ev.Details)
	}
	at := ev.At
	if at.IsZero() {
		at = time.Now().UTC()
	}
	res, err := db.ExecContext(ctx, `INSERT INTO monitor_events (monitor_id, at, kind, severity, group_key, group_json, value, alert_id, window_start, window_end, message, details, by_user)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ev.MonitorID, at.UnixMilli(), ev.Kind, ev.Severity, ev.GroupKey, string(g), ev.Value, ev.AlertID,
		timeMs(ev.WindowStart), timeMs(ev.WindowEnd), ev.Message, details, ev.By)
	if err != nil {
		return 0, fmt.Errorf("add monitor event: %w", err)
	}
	return res.LastInsertId()
}

// AddMonitorEvent adds an event to a monitor's history.
func (c *Catalog) AddMonitorEvent(ctx context.Context, ev *MonitorEvent) (int64, error) {
	return insertMonitorEvent(ctx, c.db, ev)
}

// MonitorAlerts returns the alert states of a monitor (all monitors when
// id is empty), newest first.
func (c *Catalog) MonitorAlerts(ctx context.Context, id string) ([]MonitorAlert, error) {
	q := `SELECT monitor_id, group_key, group_json, state, value, alert_id, since, updated_at, targets FROM monitor_alerts`
	var args []any
	if id != "" {
		q += ` WHERE monitor_id = ?`
		args = append(args, id)
	}
	rows, err := c.db.QueryContext(ctx, q+` ORDER BY since DESC, monitor_id, group_key`, args...)
	if err != nil {
		return nil, fmt.Errorf("read monitor alerts: %w", err)
	}
	defer rows.Close()
	out := []MonitorAlert{}
	for rows.Next() {
		var a MonitorAlert
		var g, tg string
		var since, updated int64
		if err := rows.Scan(&a.MonitorID, &a.GroupKey, &g, &a.State, &a.Value, &a.AlertID, &since, &updated, &tg); err != nil {
			return nil, fmt.Errorf("read monitor alerts: %w", err)
		}
		if err := json.Unmarshal([]byte(g), &a.Group); err != nil {
			return nil, fmt.Errorf("read monitor alerts: %w", err)
		}
		if err := json.Unmarshal([]byte(tg), &a.Targets); err != nil {
			return nil, fmt.Errorf("read monitor alerts: %w", err)
		}
		a.Since, a.UpdatedAt = msTime(since), msTime(updated)
		out = append(out, a)
	}
	return out, rows.Err()
}

// EventFilter selects history events.
type EventFilter struct {
	// MonitorID keeps one monitor's events; empty means every monitor's.
	MonitorID string
	// Kinds keeps events of these kinds; empty means all.
	Kinds []string
	// BeforeID pages backwards: events with a smaller id.
	BeforeID int64
	// Limit caps the events (default 100, at most 1000).
	Limit int
}

// MonitorEvents returns history events, newest first.
func (c *Catalog) MonitorEvents(ctx context.Context, f EventFilter) ([]MonitorEvent, error) {
	var where []string
	var args []any
	if f.MonitorID != "" {
		where = append(where, "monitor_id = ?")
		args = append(args, f.MonitorID)
	}
	if len(f.Kinds) > 0 {
		where = append(where, "kind IN (?"+strings.Repeat(", ?", len(f.Kinds)-1)+")")
		for _, k := range f.Kinds {
			args = append(args, k)
		}
	}
	if f.BeforeID > 0 {
		where = append(where, "id < ?")
		args = append(args, f.BeforeID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	q := `SELECT id, monitor_id, at, kind, severity, group_key, group_json, value, alert_id, window_start, window_end, message, details, by_user FROM monitor_events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := c.db.QueryContext(ctx, q+fmt.Sprintf(" ORDER BY id DESC LIMIT %d", limit), args...)
	if err != nil {
		return nil, fmt.Errorf("read monitor history: %w", err)
	}
	defer rows.Close()
	out := []MonitorEvent{}
	for rows.Next() {
		var ev MonitorEvent
		var g, details string
		var at, ws, we int64
		if err := rows.Scan(&ev.ID, &ev.MonitorID, &at, &ev.Kind, &ev.Severity, &ev.GroupKey, &g, &ev.Value, &ev.AlertID, &ws, &we, &ev.Message, &details, &ev.By); err != nil {
			return nil, fmt.Errorf("read monitor history: %w", err)
		}
		if err := json.Unmarshal([]byte(g), &ev.Group); err != nil {
			return nil, fmt.Errorf("read monitor history: %w", err)
		}
		if len(ev.Group) == 0 {
			ev.Group = nil
		}
		if details != "{}" {
			ev.Details = json.RawMessage(details)
		}
		ev.At, ev.WindowStart, ev.WindowEnd = msTime(at), msTime(ws), msTime(we)
		out = append(out, ev)
	}
	return out, rows.Err()
}

// ---- notification targets ----

func checkTarget(t *NotificationTarget) error {
	var err error
	if t.Name, err = checkText("name", t.Name, 200, true); err != nil {
		return err
	}
	if t.Type, err = checkText("type", t.Type, 40, true); err != nil {
		return err
	}
	if !json.Valid([]byte(t.Config)) {
		return fmt.Errorf("%w: the target's configuration is not JSON", ErrInvalid)
	}
	return nil
}

const targetColumns = `id, name, type, config, created_at, created_by, updated_at, updated_by`

func scanTarget(sc interface{ Scan(...any) error }) (*NotificationTarget, error) {
	t := &NotificationTarget{}
	var created, updated int64
	if err := sc.Scan(&t.ID, &t.Name, &t.Type, &t.Config, &created, &t.CreatedBy, &updated, &t.UpdatedBy); err != nil {
		return nil, err
	}
	t.CreatedAt, t.UpdatedAt = msTime(created), msTime(updated)
	return t, nil
}

// CreateTarget stores a notification target (t.ID is set); names are
// unique regardless of case.
func (c *Catalog) CreateTarget(ctx context.Context, t *NotificationTarget) error {
	if err := checkTarget(t); err != nil {
		return err
	}
	t.ID = newID()
	now := time.Now().UTC()
	t.CreatedAt, t.UpdatedAt, t.UpdatedBy = now, now, t.CreatedBy
	_, err := c.db.ExecContext(ctx, `INSERT INTO notification_targets (`+targetColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Name, t.Type, t.Config, now.UnixMilli(), t.CreatedBy, now.UnixMilli(), t.UpdatedBy)
	if err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("%w: a notification target named %q", ErrConflict, t.Name)
		}
		return fmt.Errorf("create notification target: %w", err)
	}
	return nil
}

// UpdateTarget replaces a target's name, type and configuration.
func (c *Catalog) UpdateTarget(ctx context.Context, t *NotificationTarget) error {
	if err := checkTarget(t); err != nil {
		return err
	}
	t.UpdatedAt = time.Now().UTC()
	res, err := c.db.ExecContext(ctx, `UPDATE notification_targets SET name = ?, type = ?, config = ?, updated_at = ?, updated_by = ? WHERE id = ?`,
		t.Name, t.Type, t.Config, t.UpdatedAt.UnixMilli(), t.UpdatedBy, t.ID)
	if err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("%w: a notification target named %q", ErrConflict, t.Name)
		}
		return fmt.Errorf("update notification target: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: notification target %q", ErrNotFound, t.ID)
	}
	return nil
}

// GetTarget returns a target by id, or by name when no id matches.
func (c *Catalog) GetTarget(ctx context.Context, ref string) (*NotificationTarget, error) {
	t, err := scanTarget(c.db.QueryRowContext(ctx, `SELECT `+targetColumns+` FROM notification_targets WHERE id = ? OR name = ? COLLATE NOCASE
		ORDER BY id = ? DESC LIMIT 1`, ref, ref, ref))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: notification target %q", ErrNotFound, ref)
	} else if err != nil {
		return nil, fmt.Errorf("get notification target: %w", err)
	}
	return t, nil
}

// ListTargets returns the targets by name.
func (c *Catalog) ListTargets(ctx context.Context) ([]*NotificationTarget, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT `+targetColumns+` FROM notification_targets ORDER BY name COLLATE NOCASE`)
	if err != nil {
		return nil, fmt.Errorf("list notification targets: %w", err)
	}
	defer rows.Close()
	var out []*NotificationTarget
	for rows.Next() {
		t, err := scanTarget(rows)
		if err != nil {
			return nil, fmt.Errorf("list notification targets: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteTarget deletes a target; its pending notifications fail.
func (c *Catalog) DeleteTarget(ctx context.Context, id string) error {
	res, err := c.db.ExecContext(ctx, `DELETE FROM notification_targets WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete notification target: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: notification target %q", ErrNotFound, id)
	}
	return nil
}

// ---- the outbox and the delivery log ----

const outboxColumns = `id, monitor_id, target_id, event_id, kind, payload, status, attempts, next_attempt_at, created_at, updated_at, last_error`

func scanNotification(sc interface{ Scan(...any) error }) (*Notification, error) {
	n := &Notification{EventIndex: -1}
	var next, created, updated int64
	if err := sc.Scan(&n.ID, &n.MonitorID, &n.TargetID, &n.EventID, &n.Kind, &n.Payload, &n.Status, &n.Attempts, &next, &created, &updated, &n.LastError); err != nil {
		return nil, err
	}
	n.NextAttemptAt, n.CreatedAt, n.UpdatedAt = msTime(next), msTime(created), msTime(updated)
	return n, nil
}

// DueNotifications returns up to limit pending notifications whose next
// attempt is due at now, oldest first.
func (c *Catalog) DueNotifications(ctx context.Context, now time.Time, limit int) ([]*Notification, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT `+outboxColumns+` FROM notification_outbox
		WHERE status = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`, NotificationPending, now.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("read the notification outbox: %w", err)
	}
	defer rows.Close()
	var out []*Notification
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			return nil, fmt.Errorf("read the notification outbox: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// NextNotificationAt returns when the earliest pending notification is
// due; ok=false when none is pending.
func (c *Catalog) NextNotificationAt(ctx context.Context) (time.Time, bool, error) {
	var next sql.NullInt64
	if err := c.db.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM notification_outbox WHERE status = ?`, NotificationPending).Scan(&next); err != nil {
		return time.Time{}, false, fmt.Errorf("read the notification outbox: %w", err)
	}
	if !next.Valid {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(next.Int64).UTC(), true, nil
}

// GetNotification returns an outbox entry.
func (c *Catalog) GetNotification(ctx context.Context, id int64) (*Notification, error) {
	n, err := scanNotification(c.db.QueryRowContext(ctx, `SELECT `+outboxColumns+` FROM notification_outbox WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: notification %d", ErrNotFound, id)
	} else if err != nil {
		return nil, fmt.Errorf("read the notification outbox: %w", err)
	}
	return n, nil
}

// RecordDelivery logs a delivery attempt and updates the notification: its
// status (pending to retry at next, delivered or failed), attempts and
// last error.
func (c *Catalog) RecordDelivery(ctx context.Context, d *DeliveryAttempt, status string, next time.Time) error {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record delivery: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO notification_deliveries (outbox_id, monitor_id, target_id, attempt, at, ok, status_code, error, duration_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.OutboxID, d.MonitorID, d.TargetID, d.Attempt, d.At.UnixMilli(), d.OK, d.StatusCode, d.Error, d.Duration)
	if err != nil {
		return fmt.Errorf("record delivery: %w", err)
	}
	d.ID, _ = res.LastInsertId()
	d.Status = status
	if _, err := tx.ExecContext(ctx, `UPDATE notification_outbox SET status = ?, attempts = ?, next_attempt_at = ?, updated_at = ?, last_error = ? WHERE id = ?`,
		status, d.Attempt, timeMs(next), d.At.UnixMilli(), d.Error, d.OutboxID); err != nil {
		return fmt.Errorf("record delivery: %w", err)
	}
	return tx.Commit()
}

// DeliveryFilter selects delivery log entries.
type DeliveryFilter struct {
	MonitorID, TargetID string
	BeforeID            int64
	Limit               int // default 100, at most 1000
}

// Deliveries returns delivery log entries, newest first.
func (c *Catalog) Deliveries(ctx context.Context, f DeliveryFilter) ([]DeliveryAttempt, error) {
	var where []string
	var args []any
	if f.MonitorID != "" {
		where = append(where, "d.monitor_id = ?")
		args = append(args, f.MonitorID)
	}
	if f.TargetID != "" {
		where = append(where, "d.target_id = ?")
		args = append(args, f.TargetID)
	}
	if f.BeforeID > 0 {
		where = append(where, "d.id < ?")
		args = append(args, f.BeforeID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	q := `SELECT d.id, d.outbox_id, d.monitor_id, d.target_id, o.kind, d.attempt, d.at, d.ok, d.status_code, d.error, d.duration_ms, o.status
		FROM notification_deliveries d JOIN notification_outbox o ON o.id = d.outbox_id`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := c.db.QueryContext(ctx, q+fmt.Sprintf(" ORDER BY d.id DESC LIMIT %d", limit), args...)
	if err != nil {
		return nil, fmt.Errorf("read the delivery log: %w", err)
	}
	defer rows.Close()
	out := []DeliveryAttempt{}
	for rows.Next() {
		var d DeliveryAttempt
		var at int64
		if err := rows.Scan(&d.ID, &d.OutboxID, &d.MonitorID, &d.TargetID, &d.Kind, &d.Attempt, &at, &d.OK, &d.StatusCode, &d.Error, &d.Duration, &d.Status); err != nil {
			return nil, fmt.Errorf("read the delivery log: %w", err)
		}
		d.At = msTime(at)
		out = append(out, d)
	}
	return out, rows.Err()
}

// PendingNotifications counts the notifications waiting in the outbox.
func (c *Catalog) PendingNotifications(ctx context.Context) (int, error) {
	var n int
	if err := c.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM notification_outbox WHERE status = ?`, NotificationPending).Scan(&n); err != nil {
		return 0, fmt.Errorf("read the notification outbox: %w", err)
	}
	return n, nil
}
