package monitors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dohyo/dohyo/catalog"
)

// Config wires a Service.
type Config struct {
	Catalog *catalog.Catalog
	// Runner runs the queries (an EngineRunner on the server's store).
	Runner Runner
	// Clock is the time source (default: the system clock).
	Clock  Clock
	Logger *slog.Logger
	// MaxCatchUp bounds the windows evaluated after a downtime: when
	// more are due, the oldest are skipped (and the skip recorded).
	// Default 10.
	MaxCatchUp int
	// ErrorRetry is how long a failed window waits before it is tried
	// again (default 30s, at most the monitor's frequency).
	ErrorRetry time.Duration
	// Concurrency bounds the monitors evaluated at once (default 4).
	Concurrency int
	// Tick is how often the background loop looks for due windows
	// (default 1s).
	Tick time.Duration
	// BaseURL is where users reach the UI, for links in notifications.
	BaseURL string
	// Delivery configures the notifier.
	Delivery DeliveryConfig
}

// DeliveryConfig configures notification delivery.
type DeliveryConfig struct {
	// MaxAttempts per notification (default 6).
	MaxAttempts int
	// Backoff is the wait after the first failed attempt; it doubles
	// after each (default 10s), up to MaxBackoff (default 10m).
	Backoff, MaxBackoff time.Duration
	// Timeout bounds one attempt (default 15s).
	Timeout time.Duration
	// HTTPClient sends webhooks (default: one with Timeout).
	HTTPClient *http.Client
	// AllowPlainSMTP permits SMTP without TLS to hosts other than
	// loopback ones (default false: email to a remote server needs TLS).
	AllowPlainSMTP bool
}

// Service manages monitors: their definitions (CRUD, used by the API and
// the app installer), their evaluation (scheduler.go) and their
// notifications (notify.go).
type Service struct {
	cfg   Config
	cat   *catalog.Catalog
	clock Clock
	log   *slog.Logger

	mu       sync.Mutex
	inflight map[string]bool
	// badSpecs are the stored definitions the scheduler could not decode,
	// by monitor id: each is logged once, not on every tick.
	badSpecs map[string]string
	sem      chan struct{}
	wake     chan struct{} // the scheduler loop: a monitor changed
	notify   chan struct{} // the notifier loop: notifications queued
	stop     context.CancelFunc
	wg       sync.WaitGroup
}

// New returns a service; Start runs its background loops.
func New(cfg Config) *Service {
	if cfg.Clock == nil {
		cfg.Clock = RealClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxCatchUp <= 0 {
		cfg.MaxCatchUp = 10
	}
	if cfg.ErrorRetry <= 0 {
		cfg.ErrorRetry = 30 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.Tick <= 0 {
		cfg.Tick = time.Second
	}
	d := &cfg.Delivery
	if d.MaxAttempts <= 0 {
		d.MaxAttempts = 6
	}
	if d.Backoff <= 0 {
		d.Backoff = 10 * time.Second
	}
	if d.MaxBackoff <= 0 {
		d.MaxBackoff = 10 * time.Minute
	}
	if d.Timeout <= 0 {
		d.Timeout = 15 * time.Second
	}
	if d.HTTPClient == nil {
		d.HTTPClient = &http.Client{Timeout: d.Timeout}
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	return &Service{cfg: cfg, cat: cfg.Catalog, clock: cfg.Clock, log: cfg.Logger,
		inflight: map[string]bool{}, badSpecs: map[string]string{}, sem: make(chan struct{}, cfg.Concurrency),
		wake: make(chan struct{}, 1), notify: make(chan struct{}, 1)}
}

// SetBaseURL sets where users reach the UI (once the server knows its
// address).
func (s *Service) SetBaseURL(u string) {
	s.mu.Lock()
	s.cfg.BaseURL = strings.TrimRight(u, "/")
	s.mu.Unlock()
}

func (s *Service) baseURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.BaseURL
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Monitor is a monitor as the API shows it: its definition, state and
// tags.
type Monitor struct {
	ID string `json:"id"`
	Spec
	// Muted: notifications are silenced until MutedUntil.
	Muted      bool       `json:"muted"`
	MutedUntil *time.Time `json:"mutedUntil,omitempty"`
	// App and AppVersion name the app that installed it.
	App        string    `json:"app,omitempty"`
	AppVersion string    `json:"appVersion,omitempty"`
	Version    int64     `json:"version"`
	CreatedAt  time.Time `json:"createdAt"`
	CreatedBy  string    `json:"createdBy,omitempty"`
	UpdatedAt  time.Time `json:"updatedAt"`
	UpdatedBy  string    `json:"updatedBy,omitempty"`
	Status     Status    `json:"status"`
}

// Status is a monitor's current state.
type Status struct {
	// State is disabled, normal, critical, warning, missingData or error
	// (the evaluation fails); with several firing groups, the most severe.
	State string `json:"state"`
	// Firing counts the groups firing (or missing data).
	Firing int `json:"firing"`
	// Alerts are the firing groups (in a monitor's detail only).
	Alerts []catalog.MonitorAlert `json:"alerts,omitempty"`
	// LastEvaluatedAt is when the last window was evaluated; LastWindow
	// which window that was; NextEvaluationAt when the next is due.
	LastEvaluatedAt  *time.Time `json:"lastEvaluatedAt,omitempty"`
	LastWindow       *Window    `json:"lastWindow,omitempty"`
	NextEvaluationAt *time.Time `json:"nextEvaluationAt,omitempty"`
	LastResultCount  int64      `json:"lastResultCount"`
	// Error is the current error streak.
	Error *StatusError `json:"error,omitempty"`
}

// Window is a time range [From, To).
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// StatusError describes a failing monitor.
type StatusError struct {
	Message string    `json:"message"`
	Since   time.Time `json:"since"`
	Count   int       `json:"count"`
}

// Errors callers distinguish (besides *ValidationError and the catalog's
// ErrNotFound and ErrConflict).
var ErrUnknownTarget = errors.New("unknown notification target")

func ptrTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// decodeSpec reads a stored definition.
func decodeSpec(rec *catalog.MonitorRecord) (*Spec, error) {
	var sp Spec
	if err := json.Unmarshal([]byte(rec.Spec), &sp); err != nil {
		return nil, fmt.Errorf("monitor %s: stored definition: %w", rec.ID, err)
	}
	sp.Normalize()
	sp.Name, sp.Enabled = rec.Name, rec.Enabled
	return &sp, nil
}

// view builds the API view of a record.
func (s *Service) view(rec *catalog.MonitorRecord, alerts []catalog.MonitorAlert, detail bool) (*Monitor, error) {
	sp, err := decodeSpec(rec)
	if err != nil {
		return nil, err
	}
	m := &Monitor{ID: rec.ID, Spec: *sp, App: rec.App, AppVersion: rec.AppVersion, Version: rec.Version,
		CreatedAt: rec.CreatedAt, CreatedBy: rec.CreatedBy, UpdatedAt: rec.UpdatedAt, UpdatedBy: rec.UpdatedBy}
	now := s.clock.Now()
	if rec.MutedUntil.After(now) {
		m.Muted, m.MutedUntil = true, ptrTime(rec.MutedUntil)
	}
	st := &m.Status
	st.LastEvaluatedAt = ptrTime(rec.Schedule.LastEvalAt)
	st.LastResultCount = rec.Schedule.LastResultCount
	if end := rec.Schedule.LastWindowEnd; !end.IsZero() {
		st.LastWindow = &Window{From: end.Add(-sp.Window.D()).UTC(), To: end.UTC()}
	}
	rank := map[string]int{SevMissingData: 1, SevWarning: 2, SevCritical: 3}
	st.State = "normal"
	best := 0
	for _, a := range alerts {
		st.Firing++
		if rank[a.State] > best {
			best, st.State = rank[a.State], a.State
		}
	}
	if detail {
		st.Alerts = alerts
	}
	if rec.Schedule.LastError != "" {
		st.Error = &StatusError{Message: rec.Schedule.LastError, Since: rec.Schedule.ErrorSince, Count: rec.Schedule.ErrorCount}
		if best == 0 {
			st.State = "error"
		}
	}
	if !rec.Enabled {
		st.State = "disabled"
	} else {
		st.NextEvaluationAt = ptrTime(nextDue(sp, rec, now, s.cfg.ErrorRetry))
	}
	return m, nil
}

// Get returns a monitor with its firing groups.
func (s *Service) Get(ctx context.Context, id string) (*Monitor, error) {
	rec, err := s.cat.GetMonitor(ctx, id)
	if err != nil {
		return nil, err
	}
	alerts, err := s.cat.MonitorAlerts(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.view(rec, alerts, true)
}

// List returns the monitors (those of one app when app is not empty).
func (s *Service) List(ctx context.Context, app string) ([]*Monitor, error) {
	recs, err := s.cat.ListMonitors(ctx, app)
	if err != nil {
		return nil, err
	}
	all, err := s.cat.MonitorAlerts(ctx, "")
	if err != nil {
		return nil, err
	}
	by := map[string][]catalog.MonitorAlert{}
	for _, a := range all {
		by[a.MonitorID] = append(by[a.MonitorID], a)
	}
	out := make([]*Monitor, 0, len(recs))
	for _, r := range recs {
		m, err := s.view(r, by[r.ID], false)
		if err != nil {
			s.log.Warn("monitor with a bad stored definition", "id", r.ID, "err", err)
			continue
		}
		out = append(out, m)
	}
	return out, nil
}

// Validate checks a definition as Create would, including its targets.
func (s *Service) Validate(ctx context.Context, sp *Spec) error {
	if err := sp.Validate(); err != nil {
		return err
	}
	return s.checkTargets(ctx, sp)
}

// checkTargets resolves the notification targets to their ids.
func (s *Service) checkTargets(ctx context.Context, sp *Spec) error {
	var ps []Problem
	for i := range sp.Notifications {
		n := &sp.Notifications[i]
		t, err := s.cat.GetTarget(ctx, strings.TrimSpace(n.Target))
		if errors.Is(err, catalog.ErrNotFound) {
			ps = append(ps, Problem{Field: fmt.Sprintf("notifications[%d].target", i), Message: fmt.Sprintf("no notification target %q (create one with POST /api/v1/notification-targets)", n.Target)})
			continue
		} else if err != nil {
			return err
		}
		n.Target = t.ID
	}
	if len(ps) > 0 {
		return &ValidationError{Problems: ps}
	}
	return nil
}

// CreateOptions tag a new monitor.
type CreateOptions struct {
	By                      string
	App, AppVersion, AppKey string
}

// Create validates and stores a monitor.
func (s *Service) Create(ctx context.Context, sp *Spec, opt CreateOptions) (*Monitor, error) {
	if err := s.Validate(ctx, sp); err != nil {
		return nil, err
	}
	data, err := json.Marshal(sp)
	if err != nil {
		return nil, err
	}
	rec := &catalog.MonitorRecord{Name: sp.Name, Spec: string(data), Enabled: sp.Enabled, App: opt.App, AppVersion: opt.AppVersion, AppKey: opt.AppKey,
		CreatedBy: opt.By, CreatedAt: s.clock.Now().UTC()}
	if err := s.cat.CreateMonitor(ctx, rec); err != nil {
		return nil, err
	}
	signal(s.wake)
	return s.view(rec, nil, true)
}

// Update replaces a monitor's definition. The schedule goes on from the
// last window evaluated (a changed frequency realigns it); the enabled
// state follows sp.Enabled. ifVersion, when not 0, must be the monitor's
// version (optimistic locking for editors).
func (s *Service) Update(ctx context.Context, id string, sp *Spec, by string, ifVersion int64) (*Monitor, error) {
	if err := s.Validate(ctx, sp); err != nil {
		return nil, err
	}
	old, err := s.cat.GetMonitor(ctx, id)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(sp)
	if err != nil {
		return nil, err
	}
	text := string(data)
	ch := catalog.MonitorChange{Name: &sp.Name, Spec: &text, Enabled: &sp.Enabled, By: by, IfVersion: ifVersion,
		Event: &catalog.MonitorEvent{Kind: "updated", Message: "definition updated"}}
	if sp.Enabled && !old.Enabled {
		ch.ResetSchedule = true
	}
	if !sp.Enabled && old.Enabled {
		ch.ClearAlerts = true
	}
	rec, err := s.cat.ChangeMonitor(ctx, id, ch)
	if err != nil {
		return nil, err
	}
	signal(s.wake)
	return s.Get(ctx, rec.ID)
}

// SetEnabled enables or disables a monitor. Enabling starts it at the
// current window; disabling forgets its alerts (without notifying).
func (s *Service) SetEnabled(ctx context.Context, id string, enabled bool, by string) (*Monitor, error) {
	old, err := s.cat.GetMonitor(ctx, id)
	if err != nil {
		return nil, err
	}
	if old.Enabled == enabled {
		return s.Get(ctx, id)
	}
	kind := "enabled"
	if !enabled {
		kind = "disabled"
	}
	_, err = s.cat.ChangeMonitor(ctx, id, catalog.MonitorChange{Enabled: &enabled, ResetSchedule: enabled, ClearAlerts: !enabled, By: by,
		Event: &catalog.MonitorEvent{Kind: kind, Message: kind}})
	if err != nil {
		return nil, err
	}
	signal(s.wake)
	return s.Get(ctx, id)
}

// Mute silences a monitor's notifications until the given time (zero:
// unmute). Evaluation and history go on.
func (s *Service) Mute(ctx context.Context, id string, until time.Time, by string) (*Monitor, error) {
	kind, msg := "muted", "muted until "+until.UTC().Format(time.RFC3339)
	if until.IsZero() || !until.After(s.clock.Now()) {
		until, kind, msg = time.Time{}, "unmuted", "unmuted"
	}
	if _, err := s.cat.ChangeMonitor(ctx, id, catalog.MonitorChange{MutedUntil: &until, By: by, Event: &catalog.MonitorEvent{Kind: kind, Message: msg}}); err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// Delete removes a monitor with its history.
func (s *Service) Delete(ctx context.Context, id string) error { return s.cat.DeleteMonitor(ctx, id) }

// History returns a monitor's history (every monitor's when id is
// empty), newest first.
func (s *Service) History(ctx context.Context, f catalog.EventFilter) ([]catalog.MonitorEvent, error) {
	return s.cat.MonitorEvents(ctx, f)
}

// Alerts returns every firing group of every monitor.
func (s *Service) Alerts(ctx context.Context) ([]catalog.MonitorAlert, error) {
	return s.cat.MonitorAlerts(ctx, "")
}

// SetAppEnabled enables or disables every monitor of an app (one command
// to turn on an app's detections). It returns how many changed.
func (s *Service) SetAppEnabled(ctx context.Context, app string, enabled bool, by string) (int, error) {
	recs, err := s.cat.ListMonitors(ctx, app)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range recs {
		if r.Enabled == enabled {
			continue
		}
		if _, err := s.SetEnabled(ctx, r.ID, enabled, by); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// AddAppTargets makes every monitor of an app notify the given targets
// (ids or names) too, for all severities; monitors already notifying a
// target are left alone. It returns how many monitors changed.
func (s *Service) AddAppTargets(ctx context.Context, app string, targets []string, by string) (int, error) {
	var ids []string
	for _, ref := range targets {
		t, err := s.cat.GetTarget(ctx, strings.TrimSpace(ref))
		if errors.Is(err, catalog.ErrNotFound) {
			return 0, fmt.Errorf("%w: no notification target %q", catalog.ErrNotFound, ref)
		} else if err != nil {
			return 0, err
		}
		ids = append(ids, t.ID)
	}
	recs, err := s.cat.ListMonitors(ctx, app)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range recs {
		sp, err := decodeSpec(r)
		if err != nil {
			return n, err
		}
		changed := false
		for _, id := range ids {
			has := false
			for _, ref := range sp.Notifications {
				has = has || ref.Target == id
			}
			if !has {
				sp.Notifications = append(sp.Notifications, NotifyRef{Target: id})
				changed = true
			}
		}
		if !changed {
			continue
		}
		if _, err := s.Update(ctx, r.ID, sp, by, 0); err != nil {
			return n, fmt.Errorf("monitor %s: %w", r.Name, err)
		}
		n++
	}
	return n, nil
}

// ---- apps.MonitorInstaller ----

// CheckMonitor validates an app's monitor definition (its parameters
// substituted) without creating anything. Notification targets are not
// checked: app monitors ship without them.
func (s *Service) CheckMonitor(def json.RawMessage) error {
	_, err := ParseSpec(def)
	return err
}

// CreateMonitor creates a monitor from an app's definition, owned by p and
// tagged with the app.
func (s *Service) CreateMonitor(ctx context.Context, p *catalog.Principal, def json.RawMessage, appName, appVersion string) (id, name string, err error) {
	sp, err := ParseSpec(def)
	if err != nil {
		return "", "", err
	}
	by := ""
	if p != nil {
		by = p.UserName
	}
	m, err := s.Create(ctx, sp, CreateOptions{By: by, App: appName, AppVersion: appVersion})
	if err != nil {
		return "", "", err
	}
	return m.ID, m.Name, nil
}

// DeleteMonitor removes a monitor an app created; one that no longer
// exists is not an error.
func (s *Service) DeleteMonitor(ctx context.Context, id string) error {
	err := s.cat.DeleteMonitor(ctx, id)
	if errors.Is(err, catalog.ErrNotFound) {
		return nil
	}
	return err
}
