// Package monitors runs scheduled monitors on queries: it evaluates each
// monitor's query over consecutive time windows, turns the results into
// alerts per group with a state machine, and notifies humans through
// webhooks, Slack-compatible webhooks and email.
//
// # Model
//
// A monitor (Spec, model.go) is a query, a window (the time range each
// evaluation covers), a frequency (how often it is evaluated; windows end on
// multiples of it, UTC), an evaluation delay (how long after a window ends
// it is evaluated, so that late events are counted), trigger conditions
// (critical and warning thresholds on a result field or on the number of
// results, "missing data", a resolution condition), grouping (one alert per
// value of the groupBy fields) and notification targets. Its JSON is the
// body of the REST API and the format of the app files
// (apps/<app>/monitors/*.json).
//
// # Schedule (scheduler.go)
//
// A window ends at a multiple of the frequency (aligned in UTC) and covers
// [end-window, end). It is evaluated once the clock passes end+delay. The
// catalog keeps, per monitor, the end of the last window evaluated; every
// evaluation commits its outcome (new alert states, history, the
// notifications to send) together with the new window end, in one
// transaction conditional on the previous window end and the monitor's
// version. So a window is never evaluated twice (a second commit fails) and
// never skipped across a restart (the next window after the last committed
// one is evaluated next) — except after a long downtime: when more than
// Config.MaxCatchUp windows are due, the oldest are skipped, and the skip
// is recorded in the history. A newly enabled monitor starts at the latest
// complete window.
//
// A failing evaluation (a query error, a missing lookup table, the engine
// unavailable) records the error on the monitor, adds an "error" event and
// sends an error notification once per streak; the window is retried
// (after Config.ErrorRetry) until it succeeds or the catch-up bound skips
// it; the first success after a streak records "recovered" and notifies it.
//
// # Alerts (state.go)
//
// Each (monitor, group) is normal, or firing at critical or warning, or
// missing data. Transitions: normal → firing notifies "fired"; warning →
// critical notifies "escalated"; critical → warning is recorded only;
// firing → normal (the resolution condition holds, or without one the
// trigger no longer does) notifies "resolved" to the targets told of the
// firing. Nothing else notifies, so a firing alert is sent once and again
// when it resolves, never once per window. A muted monitor keeps its state
// and history but sends nothing.
//
// # Notifications (notify.go)
//
// Notifications go through an outbox in the catalog: the notifier delivers
// each one, retries failures with exponential backoff, and logs every
// attempt (the delivery log). Webhooks get the alert JSON (Payload) or a
// body rendered from a text/template; Slack-compatible webhooks a message
// with an attachment; email goes over SMTP with STARTTLS or implicit TLS.
package monitors
