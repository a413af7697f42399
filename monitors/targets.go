package monitors

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dohyo/dohyo/catalog"
)

// Target types.
const (
	TargetWebhook = "webhook"
	TargetSlack   = "slack"
	TargetEmail   = "email"
)

// TargetSpec is a notification target: the body of POST
// /api/v1/notification-targets.
//
//	{"name": "secops", "type": "webhook",
//	 "webhook": {"url": "https://hooks.example.com/dohyo", "headers": {"Authorization": "Bearer ..."},
//	             "bodyTemplate": "{\"text\": {{json .Title}}}"}}
//	{"name": "slack-sec", "type": "slack", "slack": {"url": "https://hooks.slack.com/services/..."}}
//	{"name": "oncall-mail", "type": "email",
//	 "email": {"host": "smtp.example.com", "port": 587, "tls": "starttls", "username": "...", "password": "...",
//	           "from": "dohyo@example.com", "to": ["oncall@example.com"]}}
type TargetSpec struct {
	Name    string         `json:"name"`
	Type    string         `json:"type"`
	Webhook *WebhookConfig `json:"webhook,omitempty"`
	Slack   *SlackConfig   `json:"slack,omitempty"`
	Email   *EmailConfig   `json:"email,omitempty"`
}

// WebhookConfig is a generic webhook.
type WebhookConfig struct {
	URL string `json:"url"`
	// Method is POST (default) or PUT.
	Method  string            `json:"method,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	// BodyTemplate renders the body from the Payload (text/template, with
	// the functions json, upper, lower, join, default, time); empty sends
	// the Payload's JSON.
	BodyTemplate string `json:"bodyTemplate,omitempty"`
	// ContentType of the body (default application/json).
	ContentType string `json:"contentType,omitempty"`
}

// SlackConfig is a Slack-compatible incoming webhook (Slack, Mattermost,
// Rocket.Chat, ...).
type SlackConfig struct {
	URL       string `json:"url"`
	Channel   string `json:"channel,omitempty"`
	Username  string `json:"username,omitempty"`
	IconEmoji string `json:"iconEmoji,omitempty"`
	// TextTemplate renders the message text (default: the title and the
	// message).
	TextTemplate string `json:"textTemplate,omitempty"`
}

// EmailConfig sends email over SMTP.
type EmailConfig struct {
	Host string `json:"host"`
	// Port defaults to 587 (starttls), 465 (tls) or 25 (none).
	Port int `json:"port,omitempty"`
	// TLS is starttls (the default: the server must offer STARTTLS), tls
	// (implicit TLS, "SMTPS") or none (only to loopback hosts unless the
	// server allows plain SMTP).
	TLS      string   `json:"tls,omitempty"`
	Username string   `json:"username,omitempty"`
	Password string   `json:"password,omitempty"`
	From     string   `json:"from"`
	To       []string `json:"to"`
	// SubjectTemplate and BodyTemplate render the mail (defaults: the
	// title, and a plain text summary).
	SubjectTemplate string `json:"subjectTemplate,omitempty"`
	BodyTemplate    string `json:"bodyTemplate,omitempty"`
	// CACertPEM trusts a private certificate authority; InsecureSkipVerify
	// trusts any certificate (testing only).
	CACertPEM          string `json:"caCertPem,omitempty"`
	InsecureSkipVerify bool   `json:"insecureSkipVerify,omitempty"`
}

// Target is a target as the API shows it: secrets redacted.
type Target struct {
	ID string `json:"id"`
	TargetSpec
	CreatedAt time.Time `json:"createdAt"`
	CreatedBy string    `json:"createdBy,omitempty"`
	UpdatedAt time.Time `json:"updatedAt"`
	UpdatedBy string    `json:"updatedBy,omitempty"`
}

// Redacted stands for a secret in the API's answers; sending it back in
// an update keeps the stored secret.
const Redacted = "********"

func secretHeader(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"auth", "token", "key", "secret", "signature", "cookie", "password"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func (t *TargetSpec) redact() {
	if t.Webhook != nil {
		w := *t.Webhook
		h := map[string]string{}
		for k, v := range w.Headers {
			if secretHeader(k) {
				v = Redacted
			}
			h[k] = v
		}
		if len(h) > 0 {
			w.Headers = h
		}
		if u, err := url.Parse(w.URL); err == nil && u.User != nil {
			u.User = url.User(Redacted)
			w.URL = u.String()
		}
		t.Webhook = &w
	}
	if t.Slack != nil {
		s := *t.Slack
		// A Slack webhook URL is its secret: keep the host only.
		if u, err := url.Parse(s.URL); err == nil && u.Path != "" && u.Path != "/" {
			s.URL = u.Scheme + "://" + u.Host + "/" + Redacted
		}
		t.Slack = &s
	}
	if t.Email != nil && t.Email.Password != "" {
		e := *t.Email
		e.Password = Redacted
		t.Email = &e
	}
}

// keepSecrets puts the stored secrets back where an update sent Redacted.
func (t *TargetSpec) keepSecrets(old *TargetSpec) {
	if t.Webhook != nil && old.Webhook != nil {
		for k, v := range t.Webhook.Headers {
			if v == Redacted {
				t.Webhook.Headers[k] = old.Webhook.Headers[k]
			}
		}
		if strings.Contains(t.Webhook.URL, Redacted) {
			t.Webhook.URL = old.Webhook.URL
		}
	}
	if t.Slack != nil && old.Slack != nil && strings.HasSuffix(t.Slack.URL, "/"+Redacted) {
		t.Slack.URL = old.Slack.URL
	}
	if t.Email != nil && old.Email != nil && t.Email.Password == Redacted {
		t.Email.Password = old.Email.Password
	}
}

func checkHTTPURL(field, s string) *Problem {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &Problem{Field: field, Message: fmt.Sprintf("%q is not an http(s) URL", s)}
	}
	return nil
}

// Validate checks a target and fills in defaults.
func (t *TargetSpec) Validate() error {
	var ps []Problem
	add := func(field, format string, args ...any) {
		ps = append(ps, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" {
		add("name", "a target needs a name")
	}
	checkTpl := func(field, text string) {
		if text != "" {
			if _, err := parseTemplate(field, text); err != nil {
				add(field, "%v", err)
			}
		}
	}
	n := 0
	for _, b := range []bool{t.Webhook != nil, t.Slack != nil, t.Email != nil} {
		if b {
			n++
		}
	}
	if n > 1 {
		add("type", "give only the settings of the target's type")
	}
	switch t.Type {
	case TargetWebhook:
		if t.Webhook == nil {
			add("webhook", "a webhook target needs \"webhook\": {\"url\": ...}")
			break
		}
		w := t.Webhook
		if p := checkHTTPURL("webhook.url", w.URL); p != nil {
			ps = append(ps, *p)
		}
		w.Method = strings.ToUpper(strings.TrimSpace(w.Method))
		if w.Method == "" {
			w.Method = http.MethodPost
		}
		if w.Method != http.MethodPost && w.Method != http.MethodPut {
			add("webhook.method", "method %q: want POST or PUT", w.Method)
		}
		for k, v := range w.Headers {
			if k == "" || strings.ContainsAny(k, "\r\n:") || strings.ContainsAny(v, "\r\n") {
				add("webhook.headers", "header %q is not valid", k)
			}
		}
		checkTpl("webhook.bodyTemplate", w.BodyTemplate)
	case TargetSlack:
		if t.Slack == nil {
			add("slack", "a slack target needs \"slack\": {\"url\": ...}")
			break
		}
		if p := checkHTTPURL("slack.url", t.Slack.URL); p != nil {
			ps = append(ps, *p)
		}
		checkTpl("slack.textTemplate", t.Slack.TextTemplate)
	case TargetEmail:
		if t.Email == nil {
			add("email", "an email target needs \"email\": {\"host\", \"from\", \"to\"}")
			break
		}
		e := t.Email
		e.Host = strings.TrimSpace(e.Host)
		if e.Host == "" || strings.ContainsAny(e.Host, " /\r\n") {
			add("email.host", "the SMTP server's host name is required")
		}
		e.TLS = strings.ToLower(strings.TrimSpace(e.TLS))
		switch e.TLS {
		case "":
			e.TLS = "starttls"
		case "starttls", "tls", "none":
		default:
			add("email.tls", "tls %q: want starttls, tls or none", e.TLS)
		}
		if e.Port == 0 {
			e.Port = map[string]int{"starttls": 587, "tls": 465, "none": 25}[e.TLS]
		}
		if e.Port < 1 || e.Port > 65535 {
			add("email.port", "port %d is not valid", e.Port)
		}
		if _, err := mail.ParseAddress(e.From); err != nil {
			add("email.from", "%q is not an email address", e.From)
		}
		if len(e.To) == 0 {
			add("email.to", "an email target needs at least one recipient")
		}
		for i, a := range e.To {
			if _, err := mail.ParseAddress(a); err != nil {
				add(fmt.Sprintf("email.to[%d]", i), "%q is not an email address", a)
			}
		}
		if e.CACertPEM != "" && !x509.NewCertPool().AppendCertsFromPEM([]byte(e.CACertPEM)) {
			add("email.caCertPem", "no PEM certificate found")
		}
		checkTpl("email.subjectTemplate", e.SubjectTemplate)
		checkTpl("email.bodyTemplate", e.BodyTemplate)
	default:
		add("type", "type %q: want webhook, slack or email", t.Type)
	}
	if len(ps) > 0 {
		return &ValidationError{Problems: ps}
	}
	return nil
}

func targetFromRecord(r *catalog.NotificationTarget) (*Target, error) {
	t := &Target{ID: r.ID, CreatedAt: r.CreatedAt, CreatedBy: r.CreatedBy, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy}
	if err := json.Unmarshal([]byte(r.Config), &t.TargetSpec); err != nil {
		return nil, fmt.Errorf("notification target %s: stored configuration: %w", r.ID, err)
	}
	t.Name, t.Type = r.Name, r.Type
	return t, nil
}

// redactedTarget is the target of a catalog record, secrets redacted.
func redactedTarget(r *catalog.NotificationTarget) (*Target, error) {
	t, err := targetFromRecord(r)
	if err != nil {
		return nil, err
	}
	t.redact()
	return t, nil
}

// CreateTarget validates and stores a notification target.
func (s *Service) CreateTarget(ctx context.Context, spec *TargetSpec, by string) (*Target, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	cfg, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("encoding the target's settings: %w", err)
	}
	r := &catalog.NotificationTarget{Name: spec.Name, Type: spec.Type, Config: string(cfg), CreatedBy: by}
	if err := s.cat.CreateTarget(ctx, r); err != nil {
		return nil, err
	}
	return redactedTarget(r)
}

// UpdateTarget replaces a target's settings; secrets sent back as
// Redacted are kept.
func (s *Service) UpdateTarget(ctx context.Context, id string, spec *TargetSpec, by string) (*Target, error) {
	r, err := s.cat.GetTarget(ctx, id)
	if err != nil {
		return nil, err
	}
	old, err := targetFromRecord(r)
	if err != nil {
		return nil, err
	}
	spec.keepSecrets(&old.TargetSpec)
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	cfg, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("encoding the target's settings: %w", err)
	}
	r.Name, r.Type, r.Config, r.UpdatedBy = spec.Name, spec.Type, string(cfg), by
	if err := s.cat.UpdateTarget(ctx, r); err != nil {
		return nil, err
	}
	return redactedTarget(r)
}

// GetTarget returns a target by id or name, secrets redacted.
func (s *Service) GetTarget(ctx context.Context, ref string) (*Target, error) {
	r, err := s.cat.GetTarget(ctx, ref)
	if err != nil {
		return nil, err
	}
	return redactedTarget(r)
}

// ListTargets returns the targets, secrets redacted.
func (s *Service) ListTargets(ctx context.Context) ([]*Target, error) {
	rs, err := s.cat.ListTargets(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Target, 0, len(rs))
	for _, r := range rs {
		t, err := redactedTarget(r)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// DeleteTarget deletes a target.
func (s *Service) DeleteTarget(ctx context.Context, id string) error {
	r, err := s.cat.GetTarget(ctx, id)
	if err != nil {
		return err
	}
	return s.cat.DeleteTarget(ctx, r.ID)
}

// TestResult is the outcome of a test notification.
type TestResult struct {
	OK         bool   `json:"ok"`
	StatusCode int    `json:"statusCode,omitempty"`
	Error      string `json:"error,omitempty"`
	DurationMs int64  `json:"durationMs"`
}

// TestTarget sends a test notification to a target, now, without the
// outbox, and says how it went.
func (s *Service) TestTarget(ctx context.Context, id string) (*TestResult, error) {
	r, err := s.cat.GetTarget(ctx, id)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now().UTC()
	p := &Payload{Version: 1, Kind: KindTest, State: "firing", Severity: SevWarning, At: now,
		Monitor: PayloadMonitor{ID: "test", Name: "Test notification", Query: "_sourceCategory=test | count"},
		Group:   map[string]string{"target": r.Name}, Value: "1", Condition: "results > 0",
		Window: Window{From: now.Add(-5 * time.Minute), To: now}, Since: now, ResultCount: 1,
		Message: "This is a test notification from dohyo: the target " + r.Name + " works."}
	if base := s.baseURL(); base != "" {
		p.URL = base + "/monitors"
	}
	p.Title = title(p)
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Delivery.Timeout)
	defer cancel()
	start := time.Now()
	res := s.send(ctx, r, p)
	out := &TestResult{OK: res.err == nil, StatusCode: res.status, DurationMs: time.Since(start).Milliseconds()}
	if res.err != nil {
		out.Error = res.err.Error()
	}
	return out, nil
}

// ---- senders ----

// send delivers a payload to a target once.
func (s *Service) send(ctx context.Context, r *catalog.NotificationTarget, p *Payload) deliveryResult {
	t, err := targetFromRecord(r)
	if err != nil {
		return deliveryResult{err: err, permanent: true}
	}
	switch t.Type {
	case TargetWebhook:
		if t.Webhook == nil {
			break
		}
		body, ct := []byte(nil), t.Webhook.ContentType
		if t.Webhook.BodyTemplate != "" {
			text, err := render("body", t.Webhook.BodyTemplate, p)
			if err != nil {
				return deliveryResult{err: fmt.Errorf("body template: %w", err), permanent: true}
			}
			body = []byte(text)
		} else {
			body, _ = json.Marshal(p)
		}
		if ct == "" {
			ct = "application/json"
		}
		return s.postHTTP(ctx, t.Webhook.Method, t.Webhook.URL, ct, t.Webhook.Headers, body)
	case TargetSlack:
		if t.Slack == nil {
			break
		}
		body, err := slackMessage(t.Slack, p)
		if err != nil {
			return deliveryResult{err: err, permanent: true}
		}
		return s.postHTTP(ctx, http.MethodPost, t.Slack.URL, "application/json", nil, body)
	case TargetEmail:
		if t.Email == nil {
			break
		}
		return s.sendMail(ctx, t.Email, p)
	}
	return deliveryResult{err: fmt.Errorf("target %s has no settings for its type %q", r.Name, r.Type), permanent: true}
}

func (s *Service) postHTTP(ctx context.Context, method, u, ct string, headers map[string]string, body []byte) deliveryResult {
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return deliveryResult{err: err, permanent: true}
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("User-Agent", "dohyo-monitors/1")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := s.cfg.Delivery.HTTPClient.Do(req)
	if err != nil {
		return deliveryResult{err: err}
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return deliveryResult{status: resp.StatusCode}
	}
	err = fmt.Errorf("%s answered %d %s: %s", redactURL(u), resp.StatusCode, http.StatusText(resp.StatusCode), strings.TrimSpace(string(snippet)))
	retry := resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
	return deliveryResult{status: resp.StatusCode, err: err, permanent: !retry}
}

// redactURL keeps a URL's scheme and host (its path may be a secret).
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "the webhook"
	}
	return p.Scheme + "://" + p.Host
}

var slackColors = map[string]string{SevCritical: "#d0021b", SevWarning: "#f5a623", SevMissingData: "#9b9b9b", SevError: "#8b572a"}

func slackMessage(c *SlackConfig, p *Payload) ([]byte, error) {
	text := p.Title
	if c.TextTemplate != "" {
		t, err := render("text", c.TextTemplate, p)
		if err != nil {
			return nil, fmt.Errorf("text template: %w", err)
		}
		text = t
	}
	color := slackColors[p.Severity]
	if p.State == "resolved" || p.State == "ok" {
		color = "#2eb886"
	}
	type field struct {
		Title string `json:"title"`
		Value string `json:"value"`
		Short bool   `json:"short"`
	}
	var fields []field
	if g := p.GroupText(); g != "" {
		fields = append(fields, field{"Group", g, true})
	}
	if p.Value != "" {
		fields = append(fields, field{"Value", p.Value, true})
	}
	if p.Condition != "" {
		fields = append(fields, field{"Condition", p.Condition, true})
	}
	fields = append(fields, field{"Window", p.Window.From.Format("15:04") + "–" + p.Window.To.Format("15:04 MST"), true})
	if sev := p.Monitor.Labels["severity"]; sev != "" {
		fields = append(fields, field{"Severity", sev, true})
	}
	att := map[string]any{
		"fallback": p.Title, "color": color, "title": p.Monitor.Name, "text": p.Message,
		"fields": fields, "footer": "dohyo", "ts": p.At.Unix(),
	}
	if p.URL != "" {
		att["title_link"] = p.URL
	}
	msg := map[string]any{"text": text, "attachments": []any{att}}
	if c.Channel != "" {
		msg["channel"] = c.Channel
	}
	if c.Username != "" {
		msg["username"] = c.Username
	}
	if c.IconEmoji != "" {
		msg["icon_emoji"] = c.IconEmoji
	}
	return json.Marshal(msg)
}

const defaultEmailBody = `{{.Title}}

{{.Message}}

Monitor:   {{.Monitor.Name}}
{{if .Monitor.Description}}About:     {{.Monitor.Description}}
{{end}}{{if .GroupText}}Group:     {{.GroupText}}
{{end}}{{if .Condition}}Condition: {{.Condition}} (value {{.Value}})
{{end}}Window:    {{time .Window.From}} to {{time .Window.To}}
{{if .Error}}Error:     {{.Error}}
{{end}}{{if .URL}}
Open:      {{.URL}}
{{end}}{{if .Results}}
First results:
{{range .Results}}{{json .}}
{{end}}{{end}}
Query:
{{.Monitor.Query}}
`

func headerSafe(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// buildMail renders the message of an email (headers and a quoted-
// printable plain text body).
func buildMail(c *EmailConfig, p *Payload, now time.Time) ([]byte, error) {
	subject := p.Title
	if c.SubjectTemplate != "" {
		s, err := render("subject", c.SubjectTemplate, p)
		if err != nil {
			return nil, fmt.Errorf("subject template: %w", err)
		}
		subject = s
	}
	bodyTpl := c.BodyTemplate
	if bodyTpl == "" {
		bodyTpl = defaultEmailBody
	}
	body, err := render("body", bodyTpl, p)
	if err != nil {
		return nil, fmt.Errorf("body template: %w", err)
	}
	var b bytes.Buffer
	from, _ := mail.ParseAddress(c.From)
	fmt.Fprintf(&b, "From: %s\r\n", headerSafe(from.String()))
	var to []string
	for _, a := range c.To {
		if ad, err := mail.ParseAddress(a); err == nil {
			to = append(to, ad.String())
		}
	}
	fmt.Fprintf(&b, "To: %s\r\n", headerSafe(strings.Join(to, ", ")))
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", headerSafe(subject)))
	fmt.Fprintf(&b, "Date: %s\r\n", now.Format(time.RFC1123Z))
	host := "dohyo"
	if at := strings.LastIndex(from.Address, "@"); at >= 0 {
		host = from.Address[at+1:]
	}
	fmt.Fprintf(&b, "Message-ID: <%s.%d@%s>\r\n", newAlertID(), now.UnixNano(), headerSafe(host))
	if p.AlertID != "" {
		fmt.Fprintf(&b, "X-Dohyo-Alert-Id: %s\r\n", headerSafe(p.AlertID))
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(strings.ReplaceAll(body, "\n", "\r\n")))
	qp.Close()
	b.WriteString("\r\n")
	return b.Bytes(), nil
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// sendMail delivers an email over SMTP.
func (s *Service) sendMail(ctx context.Context, c *EmailConfig, p *Payload) deliveryResult {
	msg, err := buildMail(c, p, s.clock.Now())
	if err != nil {
		return deliveryResult{err: err, permanent: true}
	}
	if c.TLS == "none" && !isLoopbackHost(c.Host) && !s.cfg.Delivery.AllowPlainSMTP {
		return deliveryResult{err: fmt.Errorf("email to %s without TLS is not allowed (use tls starttls or tls)", c.Host), permanent: true}
	}
	tlsCfg := &tls.Config{ServerName: c.Host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.InsecureSkipVerify}
	if c.CACertPEM != "" {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM([]byte(c.CACertPEM))
		tlsCfg.RootCAs = pool
	}
	addr := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	d := &net.Dialer{Timeout: s.cfg.Delivery.Timeout}
	var conn net.Conn
	if c.TLS == "tls" {
		conn, err = (&tls.Dialer{NetDialer: d, Config: tlsCfg}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return deliveryResult{err: fmt.Errorf("connect to %s: %w", addr, err)}
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	cl, err := smtp.NewClient(conn, c.Host)
	if err != nil {
		conn.Close()
		return smtpResult("greeting", err)
	}
	defer cl.Close()
	if err := cl.Hello("dohyo"); err != nil {
		return smtpResult("EHLO", err)
	}
	if c.TLS == "starttls" {
		if ok, _ := cl.Extension("STARTTLS"); !ok {
			return deliveryResult{err: fmt.Errorf("%s does not offer STARTTLS (set tls to \"tls\" for implicit TLS, or \"none\")", addr), permanent: true}
		}
		if err := cl.StartTLS(tlsCfg); err != nil {
			return deliveryResult{err: fmt.Errorf("STARTTLS with %s: %w", addr, err), permanent: true}
		}
	}
	if c.Username != "" {
		if ok, _ := cl.Extension("AUTH"); !ok {
			return deliveryResult{err: fmt.Errorf("%s does not offer AUTH", addr), permanent: true}
		}
		if err := cl.Auth(smtp.PlainAuth("", c.Username, c.Password, c.Host)); err != nil {
			return smtpResult("AUTH", err)
		}
	}
	from, _ := mail.ParseAddress(c.From)
	if err := cl.Mail(from.Address); err != nil {
		return smtpResult("MAIL FROM", err)
	}
	for _, a := range c.To {
		ad, err := mail.ParseAddress(a)
		if err != nil {
			continue
		}
		if err := cl.Rcpt(ad.Address); err != nil {
			return smtpResult("RCPT TO "+ad.Address, err)
		}
	}
	w, err := cl.Data()
	if err != nil {
		return smtpResult("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return smtpResult("DATA", err)
	}
	if err := w.Close(); err != nil {
		return smtpResult("end of DATA", err)
	}
	if err := cl.Quit(); err != nil {
		// The message was accepted; a failing QUIT does not undo that.
		s.log.Debug("monitors: SMTP QUIT", "err", err)
	}
	return deliveryResult{status: 250}
}

// smtpResult classifies an SMTP error: 5xx answers are permanent, others
// (4xx, connection problems) worth a retry.
func smtpResult(step string, err error) deliveryResult {
	var te *textproto.Error
	if errors.As(err, &te) {
		return deliveryResult{status: te.Code, err: fmt.Errorf("SMTP %s: %w", step, err), permanent: te.Code >= 500}
	}
	return deliveryResult{err: fmt.Errorf("SMTP %s: %w", step, err)}
}
