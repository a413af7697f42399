package monitors

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/query"
)

// Kinds of history events and notifications.
const (
	KindFired       = "fired"
	KindEscalated   = "escalated"
	KindDeescalated = "deescalated"
	KindResolved    = "resolved"
	KindError       = "error"
	KindRecovered   = "recovered"
	KindSkipped     = "skipped"
	KindTest        = "test"
)

// notice is a transition that may be notified.
type notice struct {
	kind     string
	severity string // critical, warning, missingData, error
	alert    *catalog.MonitorAlert
	group    *GroupOutcome
	event    int // index in the transition's events
}

// transition is the outcome of applying an evaluation to the alert states.
type transition struct {
	upserts []*catalog.MonitorAlert
	deletes []string
	events  []catalog.MonitorEvent
	notices []notice
	// outbox holds the notifications of the notices (fanOut), outcome
	// the evaluation they come from (nil for errors).
	outbox  []catalog.Notification
	outcome *Outcome
}

func newAlertID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// eventDetails is the JSON of an alert event's details.
type eventDetails struct {
	Condition   string              `json:"condition,omitempty"`
	Count       int64               `json:"count"`
	ResultCount int64               `json:"resultCount"`
	Results     []map[string]string `json:"results,omitempty"`
	Muted       bool                `json:"muted,omitempty"`
}

func detailsJSON(d eventDetails) json.RawMessage {
	d.Results = trimRows(d.Results)
	b, _ := json.Marshal(d)
	return b
}

// trimRows shortens long values (_raw) of sample results.
func trimRows(rows []map[string]string) []map[string]string {
	const maxValue = 2048
	out := make([]map[string]string, len(rows))
	for i, r := range rows {
		m := make(map[string]string, len(r))
		for k, v := range r {
			if len(v) > maxValue {
				v = v[:maxValue] + "…"
			}
			m[k] = v
		}
		out[i] = m
	}
	return out
}

// applyOutcome runs the state machine of every group over an outcome.
func applyOutcome(spec *Spec, now time.Time, win query.Range, prev []catalog.MonitorAlert, out *Outcome, muted bool) *transition {
	tr := &transition{}
	prevBy := map[string]catalog.MonitorAlert{}
	for _, a := range prev {
		prevBy[a.GroupKey] = a
	}
	event := func(kind, sev string, a *catalog.MonitorAlert, g *GroupOutcome, msg string) int {
		ev := catalog.MonitorEvent{At: now, Kind: kind, Severity: sev, GroupKey: a.GroupKey, Group: a.Group, Value: a.Value,
			AlertID: a.AlertID, WindowStart: win.Start, WindowEnd: win.End, Message: msg}
		d := eventDetails{ResultCount: out.ResultCount, Muted: muted}
		if g != nil {
			d.Condition, d.Count, d.Results = g.Condition, g.Count, g.Rows
		}
		ev.Details = detailsJSON(d)
		tr.events = append(tr.events, ev)
		return len(tr.events) - 1
	}
	for _, g := range out.Groups {
		p, had := prevBy[g.Key]
		switch {
		case g.Severity != "" && !had:
			a := &catalog.MonitorAlert{GroupKey: g.Key, Group: g.Group, State: g.Severity, Value: g.Value, AlertID: newAlertID(), Since: now, UpdatedAt: now}
			tr.upserts = append(tr.upserts, a)
			i := event(KindFired, g.Severity, a, g, g.Condition)
			tr.notices = append(tr.notices, notice{kind: KindFired, severity: g.Severity, alert: a, group: g, event: i})
		case g.Severity != "" && had:
			a := p
			a.Value, a.UpdatedAt = g.Value, now
			if g.Severity != p.State {
				a.State = g.Severity
				if g.Severity == SevCritical {
					i := event(KindEscalated, g.Severity, &a, g, g.Condition)
					tr.notices = append(tr.notices, notice{kind: KindEscalated, severity: g.Severity, alert: &a, group: g, event: i})
				} else {
					event(KindDeescalated, g.Severity, &a, g, g.Condition)
				}
			}
			tr.upserts = append(tr.upserts, &a)
		case had && g.Resolved:
			a := p
			a.Value = g.Value
			tr.deletes = append(tr.deletes, g.Key)
			i := event(KindResolved, p.State, &a, g, "resolved")
			tr.notices = append(tr.notices, notice{kind: KindResolved, severity: p.State, alert: &a, group: g, event: i})
		}
	}
	if md := spec.Triggers.MissingData; md != nil {
		p, had := prevBy[missingDataKey]
		switch {
		case out.NoData && !had:
			a := &catalog.MonitorAlert{GroupKey: missingDataKey, State: SevMissingData, Value: "0", AlertID: newAlertID(), Since: now, UpdatedAt: now}
			tr.upserts = append(tr.upserts, a)
			i := event(KindFired, SevMissingData, a, nil, "no data in the window")
			tr.notices = append(tr.notices, notice{kind: KindFired, severity: SevMissingData, alert: a, event: i})
		case !out.NoData && had:
			a := p
			tr.deletes = append(tr.deletes, missingDataKey)
			i := event(KindResolved, SevMissingData, &a, nil, "data is back")
			tr.notices = append(tr.notices, notice{kind: KindResolved, severity: SevMissingData, alert: &a, event: i})
		}
	} else if _, had := prevBy[missingDataKey]; had {
		// The trigger was removed: forget its alert quietly.
		tr.deletes = append(tr.deletes, missingDataKey)
	}
	return tr
}
