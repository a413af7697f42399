package monitors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/query"
)

// Payload is an alert as notifications carry it: the JSON body of a
// webhook without a template, and the data of every template (the
// monitor's message, a webhook's body, Slack text, email subject and body).
//
//	{
//	  "version": 1,
//	  "kind": "fired",                // fired, escalated, resolved, error, recovered, test
//	  "state": "firing",              // firing, resolved, error, ok
//	  "severity": "critical",         // critical, warning, missingData, error
//	  "title": "[CRITICAL] Root account usage (src_ip=203.0.113.9)",
//	  "message": "...",               // the monitor's message template, rendered
//	  "monitor": {"id", "name", "description", "query", "labels", "app"},
//	  "alertId": "6f1c...",           // the same from firing to resolution
//	  "group": {"src_ip": "203.0.113.9"},
//	  "value": "3", "condition": "_count >= 1",
//	  "window": {"from": "...", "to": "..."},
//	  "since": "...", "at": "...",
//	  "resultCount": 3,
//	  "results": [{...}, ...],        // the group's first results
//	  "error": "...",                 // for error and recovered
//	  "url": "https://dohyo.example.com/monitors/<id>"
//	}
type Payload struct {
	Version     int                 `json:"version"`
	Kind        string              `json:"kind"`
	State       string              `json:"state"`
	Severity    string              `json:"severity"`
	Title       string              `json:"title"`
	Message     string              `json:"message,omitempty"`
	Monitor     PayloadMonitor      `json:"monitor"`
	AlertID     string              `json:"alertId,omitempty"`
	Group       map[string]string   `json:"group,omitempty"`
	Value       string              `json:"value,omitempty"`
	Condition   string              `json:"condition,omitempty"`
	Window      Window              `json:"window"`
	Since       time.Time           `json:"since,omitzero"`
	At          time.Time           `json:"at"`
	ResultCount int64               `json:"resultCount"`
	Results     []map[string]string `json:"results,omitempty"`
	Error       string              `json:"error,omitempty"`
	URL         string              `json:"url,omitempty"`
}

// PayloadMonitor describes the monitor in a payload.
type PayloadMonitor struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Query       string            `json:"query"`
	Labels      map[string]string `json:"labels,omitempty"`
	App         string            `json:"app,omitempty"`
}

// GroupText describes a group: "user=alice, src_ip=1.2.3.4".
func (p *Payload) GroupText() string {
	keys := make([]string, 0, len(p.Group))
	for k := range p.Group {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+p.Group[k])
	}
	return strings.Join(parts, ", ")
}

var templateFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return "", err
		}
		return strings.TrimRight(b.String(), "\n"), nil
	},
	"upper": strings.ToUpper,
	"lower": strings.ToLower,
	"join":  func(sep string, l []string) string { return strings.Join(l, sep) },
	"default": func(def string, v any) string {
		s := fmt.Sprint(v)
		if v == nil || s == "" {
			return def
		}
		return s
	},
	"time": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}

// render executes a template over a payload.
func render(name, text string, p *Payload) (string, error) {
	t, err := parseTemplate(name, text)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, p); err != nil {
		return "", err
	}
	return b.String(), nil
}

func title(p *Payload) string {
	var tag string
	switch p.Kind {
	case KindResolved:
		tag = "RESOLVED"
	case KindRecovered:
		tag = "RECOVERED"
	case KindError:
		tag = "ERROR"
	case KindTest:
		tag = "TEST"
	default:
		tag = strings.ToUpper(p.Severity)
		if p.Severity == SevMissingData {
			tag = "MISSING DATA"
		}
	}
	t := "[" + tag + "] " + p.Monitor.Name
	if g := p.GroupText(); g != "" {
		t += " (" + g + ")"
	}
	if p.Kind == KindError {
		t += " is failing"
	}
	return t
}

// buildPayload makes the payload of a notice.
func (s *Service) buildPayload(rec *catalog.MonitorRecord, sp *Spec, n notice, win query.Range, out *Outcome, now time.Time) *Payload {
	p := &Payload{Version: 1, Kind: n.kind, Severity: n.severity, At: now.UTC(),
		Monitor: PayloadMonitor{ID: rec.ID, Name: sp.Name, Description: sp.Description, Query: sp.Query, Labels: sp.Labels, App: rec.App},
		Window:  Window{From: win.Start.UTC(), To: win.End.UTC()}}
	if base := s.baseURL(); base != "" {
		p.URL = base + "/monitors/" + rec.ID
	}
	switch n.kind {
	case KindResolved:
		p.State = "resolved"
	case KindError:
		p.State, p.Error = "error", n.alert.Value
	case KindRecovered:
		p.State, p.Error = "ok", n.alert.Value
	default:
		p.State = "firing"
	}
	if n.alert != nil && n.kind != KindError && n.kind != KindRecovered {
		p.AlertID, p.Group, p.Value, p.Since = n.alert.AlertID, n.alert.Group, n.alert.Value, n.alert.Since.UTC()
		if len(p.Group) == 0 {
			p.Group = nil
		}
	}
	if n.severity == SevMissingData {
		p.Condition = "no results in the window"
	}
	if n.group != nil {
		p.Condition = n.group.Condition
		p.Results = trimRows(n.group.Rows)
	}
	if out != nil {
		p.ResultCount = out.ResultCount
	}
	p.Title = title(p)
	if sp.Message != "" && n.kind != KindError && n.kind != KindRecovered {
		msg, err := render("message", sp.Message, p)
		if err != nil {
			msg = "(the monitor's message template failed: " + err.Error() + ")"
		}
		p.Message = strings.TrimSpace(msg)
	}
	if p.Message == "" {
		switch {
		case n.kind == KindError:
			p.Message = "The monitor's evaluation fails: " + p.Error
		case n.kind == KindRecovered:
			p.Message = "The monitor's evaluations succeed again."
		case n.kind == KindResolved:
			p.Message = "Resolved."
		case p.Condition != "":
			p.Message = fmt.Sprintf("%s (value %s) in the window %s to %s.", p.Condition, p.Value, p.Window.From.Format(time.RFC3339), p.Window.To.Format(time.RFC3339))
		}
	}
	return p
}

// wants reports whether a notification reference takes a severity.
func (r NotifyRef) wants(sev string) bool {
	return len(r.Severities) == 0 || contains(r.Severities, sev)
}

// fanOut turns the notices of a transition into outbox entries, one per
// target, and records on each firing alert the targets told of it.
func (s *Service) fanOut(ctx context.Context, rec *catalog.MonitorRecord, sp *Spec, tr *transition, win query.Range, muted bool) error {
	if muted || len(tr.notices) == 0 {
		return nil
	}
	now := s.clock.Now()
	for _, n := range tr.notices {
		var targets []string
		switch n.kind {
		case KindResolved:
			targets = n.alert.Targets
		default:
			for _, r := range sp.Notifications {
				if r.wants(n.severity) && !contains(targets, r.Target) {
					targets = append(targets, r.Target)
				}
			}
		}
		if len(targets) == 0 {
			continue
		}
		p := s.buildPayload(rec, sp, n, win, tr.outcome, now)
		body, err := json.Marshal(p)
		if err != nil {
			return err
		}
		for _, t := range targets {
			tr.outbox = append(tr.outbox, catalog.Notification{TargetID: t, Kind: n.kind, Payload: string(body), EventIndex: n.event, NextAttemptAt: now, CreatedAt: now})
			if (n.kind == KindFired || n.kind == KindEscalated) && !contains(n.alert.Targets, t) {
				n.alert.Targets = append(n.alert.Targets, t)
			}
		}
	}
	return nil
}

// ---- delivery ----

func (s *Service) notifierLoop(ctx context.Context) {
	for {
		if _, err := s.DeliverOnce(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("monitors: notification delivery", "err", err)
		}
		wait := 5 * time.Second
		if next, ok, err := s.cat.NextNotificationAt(ctx); err == nil && ok {
			wait = min(wait, max(next.Sub(s.clock.Now()), 50*time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return
		case <-s.notify:
		case <-s.clock.After(wait):
		}
	}
}

// DeliverOnce attempts every notification that is due now and returns how
// many were attempted.
func (s *Service) DeliverOnce(ctx context.Context) (int, error) {
	total := 0
	for {
		due, err := s.cat.DueNotifications(ctx, s.clock.Now(), 50)
		if err != nil || len(due) == 0 {
			return total, err
		}
		for _, n := range due {
			if err := s.deliver(ctx, n); err != nil {
				return total, err
			}
			total++
		}
		if len(due) < 50 {
			return total, nil
		}
	}
}

// deliveryResult is the outcome of one attempt.
type deliveryResult struct {
	status    int
	err       error
	permanent bool
}

// deliver makes one attempt at a notification and logs it.
func (s *Service) deliver(ctx context.Context, n *catalog.Notification) error {
	start := s.clock.Now()
	var res deliveryResult
	t, err := s.cat.GetTarget(ctx, n.TargetID)
	switch {
	case errors.Is(err, catalog.ErrNotFound):
		res = deliveryResult{err: fmt.Errorf("the notification target %s was deleted", n.TargetID), permanent: true}
	case err != nil:
		return err
	default:
		var p Payload
		if err := json.Unmarshal([]byte(n.Payload), &p); err != nil {
			res = deliveryResult{err: fmt.Errorf("bad payload: %w", err), permanent: true}
		} else {
			actx, cancel := context.WithTimeout(ctx, s.cfg.Delivery.Timeout)
			res = s.send(actx, t, &p)
			cancel()
		}
	}
	if ctx.Err() != nil {
		return ctx.Err() // shutting down: the attempt does not count
	}
	now := s.clock.Now()
	d := &catalog.DeliveryAttempt{OutboxID: n.ID, MonitorID: n.MonitorID, TargetID: n.TargetID, Attempt: n.Attempts + 1, At: now,
		OK: res.err == nil, StatusCode: res.status, Duration: now.Sub(start).Milliseconds()}
	status, next := catalog.NotificationDelivered, time.Time{}
	if res.err != nil {
		d.Error = res.err.Error()
		if res.permanent || d.Attempt >= s.cfg.Delivery.MaxAttempts {
			status = catalog.NotificationFailed
		} else {
			status = catalog.NotificationPending
			back := s.cfg.Delivery.Backoff << (d.Attempt - 1)
			if back > s.cfg.Delivery.MaxBackoff || back <= 0 {
				back = s.cfg.Delivery.MaxBackoff
			}
			next = now.Add(back)
		}
		s.log.Warn("monitors: notification not delivered", "target", n.TargetID, "kind", n.Kind, "attempt", d.Attempt, "status", status, "err", res.err)
	}
	return s.cat.RecordDelivery(ctx, d, status, next)
}

// Deliveries returns the delivery log.
func (s *Service) Deliveries(ctx context.Context, f catalog.DeliveryFilter) ([]catalog.DeliveryAttempt, error) {
	return s.cat.Deliveries(ctx, f)
}
