package monitors

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dohyo/dohyo/catalog"
)

// firingMonitor makes a monitor that fires at its first evaluation and
// notifies target.
func firingMonitor(t *testing.T, s *Service, target string) *Monitor {
	t.Helper()
	sp := simpleSpec()
	sp.Notifications = []NotifyRef{{Target: target}}
	sp.Labels = map[string]string{"severity": "high"}
	return mustCreate(t, s, sp)
}

// TestWebhookRetries: a failing webhook is retried with backoff, each
// attempt logged; a 4xx answer fails at once; a deleted target fails.
func TestWebhookRetries(t *testing.T) {
	ctx := context.Background()
	cat := testCatalog(t)
	clock := NewFakeClock(t0.Add(30 * time.Second))
	s := newTestService(t, cat, clock, &fakeRunner{fn: func(RunRequest) (*RunResult, error) { return counts("a", 9), nil }})
	sink, url := newWebhook(t)
	sink.fail = 2
	tg, err := s.CreateTarget(ctx, &TargetSpec{Name: "flaky", Type: TargetWebhook, Webhook: &WebhookConfig{URL: url,
		Headers:      map[string]string{"Authorization": "Bearer s3cret", "X-Team": "sec"},
		BodyTemplate: `{"text": {{json .Title}}, "sev": {{json .Monitor.Labels.severity}}, "group": {{json .Group}}}`}}, "tester")
	if err != nil {
		t.Fatal(err)
	}
	if tg.Webhook.Headers["Authorization"] != Redacted || tg.Webhook.Headers["X-Team"] != "sec" {
		t.Errorf("headers not redacted: %v", tg.Webhook.Headers)
	}
	m := firingMonitor(t, s, "flaky")
	s.RunOnce(ctx)
	for i := 0; i < 5; i++ {
		if _, err := s.DeliverOnce(ctx); err != nil {
			t.Fatal(err)
		}
		clock.Advance(10 * time.Second)
	}
	// Attempts at +0 (503), +10s (503), +30s (ok): backoff 10s, 20s.
	log, _ := s.Deliveries(ctx, catalog.DeliveryFilter{MonitorID: m.ID})
	if len(log) != 3 {
		t.Fatalf("delivery log %+v", log)
	}
	if log[2].OK || log[2].StatusCode != 503 || log[1].OK || !log[0].OK || log[0].Attempt != 3 || log[0].Status != catalog.NotificationDelivered {
		t.Errorf("delivery log %+v", log)
	}
	if log[1].At.Sub(log[2].At) != 10*time.Second || log[0].At.Sub(log[1].At) != 20*time.Second {
		t.Errorf("backoff: attempts at %v %v %v", log[2].At, log[1].At, log[0].At)
	}
	sink.mu.Lock()
	body, hdr := sink.bodies[0], sink.headers[0]
	sink.mu.Unlock()
	if body != `{"text": "[CRITICAL] errors (host=a)", "sev": "high", "group": {"host":"a"}}` {
		t.Errorf("templated body %s", body)
	}
	if hdr.Get("Authorization") != "Bearer s3cret" || hdr.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", hdr)
	}

	// A 400 is not retried.
	sink2, url2 := newWebhook(t)
	sink2.status = http.StatusBadRequest
	s.CreateTarget(ctx, &TargetSpec{Name: "bad", Type: TargetWebhook, Webhook: &WebhookConfig{URL: url2}}, "tester")
	m2 := firingMonitor(t, s, "bad")
	s.RunOnce(ctx)
	s.DeliverOnce(ctx)
	clock.Advance(time.Hour)
	s.DeliverOnce(ctx)
	log, _ = s.Deliveries(ctx, catalog.DeliveryFilter{MonitorID: m2.ID})
	if len(log) != 1 || log[0].OK || log[0].Status != catalog.NotificationFailed || log[0].StatusCode != 400 || !strings.Contains(log[0].Error, "answered 400") {
		t.Errorf("400: %+v", log)
	}
	// Unreachable: retried MaxAttempts (4) times, then failed.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	s.CreateTarget(ctx, &TargetSpec{Name: "dead", Type: TargetWebhook, Webhook: &WebhookConfig{URL: dead}}, "tester")
	m3 := firingMonitor(t, s, "dead")
	s.RunOnce(ctx)
	for i := 0; i < 10; i++ {
		s.DeliverOnce(ctx)
		clock.Advance(time.Minute)
	}
	log, _ = s.Deliveries(ctx, catalog.DeliveryFilter{MonitorID: m3.ID})
	if len(log) != 4 || log[0].Status != catalog.NotificationFailed {
		t.Errorf("unreachable: %d attempts, %+v", len(log), log)
	}
	if n, _ := cat.PendingNotifications(ctx); n != 0 {
		t.Errorf("%d notifications still pending", n)
	}
}

// TestOutboxSurvivesRestart: a notification queued before a restart is
// delivered by the next service.
func TestOutboxSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	cat := testCatalog(t)
	clock := NewFakeClock(t0.Add(30 * time.Second))
	r := &fakeRunner{fn: func(RunRequest) (*RunResult, error) { return counts("a", 9), nil }}
	s := newTestService(t, cat, clock, r)
	sink, url := newWebhook(t)
	s.CreateTarget(ctx, &TargetSpec{Name: "hook", Type: TargetWebhook, Webhook: &WebhookConfig{URL: url}}, "tester")
	firingMonitor(t, s, "hook")
	s.RunOnce(ctx) // queued, not delivered
	s2 := newTestService(t, cat, clock, r)
	if n, err := s2.DeliverOnce(ctx); n != 1 || err != nil {
		t.Fatalf("delivered %d, %v", n, err)
	}
	if sink.kinds() != "fired:critical:host=a" {
		t.Errorf("sent %s", sink.kinds())
	}
}

// TestSlackMessage checks the Slack-compatible payload.
func TestSlackMessage(t *testing.T) {
	ctx := context.Background()
	cat := testCatalog(t)
	clock := NewFakeClock(t0.Add(30 * time.Second))
	s := newTestService(t, cat, clock, &fakeRunner{fn: func(RunRequest) (*RunResult, error) { return counts("a", 9), nil }})
	s.SetBaseURL("https://dohyo.example.com/")
	sink, url := newWebhook(t)
	tg, err := s.CreateTarget(ctx, &TargetSpec{Name: "slack", Type: TargetSlack, Slack: &SlackConfig{URL: url + "/services/T000/B000/XXXX", Channel: "#sec"}}, "tester")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(tg.Slack.URL, "/"+Redacted) {
		t.Errorf("slack URL not redacted: %s", tg.Slack.URL)
	}
	m := firingMonitor(t, s, "slack")
	s.RunOnce(ctx)
	s.DeliverOnce(ctx)
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.bodies) != 1 {
		t.Fatalf("got %d messages", len(sink.bodies))
	}
	var msg struct {
		Text        string `json:"text"`
		Channel     string `json:"channel"`
		Attachments []struct {
			Color, Title, TitleLink, Text string
			Fields                        []struct{ Title, Value string }
		} `json:"attachments"`
	}
	json.Unmarshal([]byte(sink.bodies[0]), &msg)
	if msg.Text != "[CRITICAL] errors (host=a)" || msg.Channel != "#sec" || len(msg.Attachments) != 1 || msg.Attachments[0].Color != "#d0021b" {
		t.Errorf("slack message %s", sink.bodies[0])
	}
	if !strings.Contains(sink.bodies[0], `"title_link":"https://dohyo.example.com/monitors/`+m.ID+`"`) || !strings.Contains(sink.bodies[0], `{"title":"Group","value":"host=a","short":true}`) {
		t.Errorf("slack message %s", sink.bodies[0])
	}
	// Updating with the redacted URL keeps the stored one.
	spec := tg.TargetSpec
	spec.Slack.Channel = "#other"
	if _, err := s.UpdateTarget(ctx, tg.ID, &spec, "tester"); err != nil {
		t.Fatal(err)
	}
	raw, _ := cat.GetTarget(ctx, tg.ID)
	if !strings.Contains(raw.Config, "/services/T000/B000/XXXX") || !strings.Contains(raw.Config, "#other") {
		t.Errorf("stored config %s", raw.Config)
	}
}

// ---- a local SMTP sink ----

type smtpMail struct {
	from string
	to   []string
	data string
	auth string
	tls  bool
}

type smtpSink struct {
	ln       net.Listener
	tlsCfg   *tls.Config
	implicit bool
	user     string
	pass     string
	mu       sync.Mutex
	mails    []smtpMail
	wg       sync.WaitGroup
}

// newSMTPSink listens on 127.0.0.1; implicit wraps the listener in TLS,
// else the sink offers STARTTLS.
func newSMTPSink(t *testing.T, cert tls.Certificate, implicit bool) *smtpSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpSink{tlsCfg: &tls.Config{Certificates: []tls.Certificate{cert}}, implicit: implicit, user: "alerts", pass: "pw"}
	if implicit {
		ln = tls.NewListener(ln, s.tlsCfg)
	}
	s.ln = ln
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.serve(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *smtpSink) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *smtpSink) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	w := func(line string) { io.WriteString(c, line+"\r\n") }
	w("220 sink ESMTP")
	var m smtpMail
	m.tls = s.implicit
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		cmd := strings.ToUpper(line)
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			w("250-sink")
			if !m.tls {
				w("250-STARTTLS")
			}
			w("250-AUTH PLAIN")
			w("250 8BITMIME")
		case cmd == "STARTTLS":
			w("220 go ahead")
			tc := tls.Server(c, s.tlsCfg)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, r, m.tls = tc, bufio.NewReader(tc), true
			w = func(line string) { io.WriteString(c, line+"\r\n") }
		case strings.HasPrefix(cmd, "AUTH PLAIN"):
			dec, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(line[len("AUTH PLAIN"):]))
			parts := strings.Split(string(dec), "\x00")
			if len(parts) == 3 && parts[1] == s.user && parts[2] == s.pass {
				m.auth = parts[1]
				w("235 ok")
			} else {
				w("535 bad credentials")
			}
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			m.from = strings.Trim(strings.Fields(line[len("MAIL FROM:"):])[0], "<> ")
			w("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			m.to = append(m.to, strings.Trim(line[len("RCPT TO:"):], "<> "))
			w("250 ok")
		case cmd == "DATA":
			w("354 go on")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			m.data = b.String()
			s.mu.Lock()
			s.mails = append(s.mails, m)
			s.mu.Unlock()
			w("250 queued")
		case cmd == "QUIT":
			w("221 bye")
			return
		default:
			w("502 what")
		}
	}
}

// testCert makes a self-signed certificate for 127.0.0.1.
func testCert(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sink"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	cert, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}))
	if err != nil {
		t.Fatal(err)
	}
	return cert, string(certPEM)
}

// TestEmail sends alerts over SMTP with STARTTLS and with implicit TLS,
// authenticated, to a local sink.
func TestEmail(t *testing.T) {
	ctx := context.Background()
	cert, caPEM := testCert(t)
	for _, implicit := range []bool{false, true} {
		cat := testCatalog(t)
		clock := NewFakeClock(t0.Add(30 * time.Second))
		s := newTestService(t, cat, clock, &fakeRunner{fn: func(RunRequest) (*RunResult, error) { return counts("ä", 9), nil }})
		sink := newSMTPSink(t, cert, implicit)
		mode := "starttls"
		if implicit {
			mode = "tls"
		}
		tg, err := s.CreateTarget(ctx, &TargetSpec{Name: "mail", Type: TargetEmail, Email: &EmailConfig{Host: "127.0.0.1", Port: sink.port(), TLS: mode,
			Username: "alerts", Password: "pw", From: "dohyo <dohyo@example.com>", To: []string{"oncall@example.com", "Sec <sec@example.com>"}, CACertPEM: caPEM}}, "tester")
		if err != nil {
			t.Fatal(err)
		}
		if tg.Email.Password != Redacted {
			t.Errorf("password not redacted")
		}
		firingMonitor(t, s, "mail")
		s.RunOnce(ctx)
		if n, err := s.DeliverOnce(ctx); n != 1 || err != nil {
			t.Fatal(n, err)
		}
		log, _ := s.Deliveries(ctx, catalog.DeliveryFilter{})
		if len(log) != 1 || !log[0].OK {
			t.Fatalf("%s: delivery %+v", mode, log)
		}
		sink.mu.Lock()
		if len(sink.mails) != 1 {
			t.Fatalf("%s: %d mails", mode, len(sink.mails))
		}
		m := sink.mails[0]
		sink.mu.Unlock()
		if !m.tls || m.auth != "alerts" || m.from != "dohyo@example.com" || strings.Join(m.to, ",") != "oncall@example.com,sec@example.com" {
			t.Errorf("%s: mail %+v", mode, m)
		}
		msg, err := mail.ReadMessage(strings.NewReader(m.data))
		if err != nil {
			t.Fatal(err)
		}
		subj, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if subj != "[CRITICAL] errors (host=ä)" {
			t.Errorf("subject %q", subj)
		}
		body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
		for _, want := range []string{"Monitor:   errors", "Group:     host=ä", "Condition: _count >= 5 (value 9)", "Query:\r\n_sourceCategory=app error | count by host"} {
			if !strings.Contains(string(body), want) {
				t.Errorf("%s: body lacks %q:\n%s", mode, want, body)
			}
		}
		// Wrong credentials fail permanently (535).
		spec := tg.TargetSpec
		spec.Email.Password = "wrong"
		s.UpdateTarget(ctx, tg.ID, &spec, "tester")
		res, _ := s.TestTarget(ctx, tg.ID)
		if res.OK || res.StatusCode != 535 {
			t.Errorf("%s: wrong password: %+v", mode, res)
		}
	}
	// Without a trusted certificate, TLS fails.
	cat := testCatalog(t)
	s := newTestService(t, cat, NewFakeClock(t0), &fakeRunner{})
	sink := newSMTPSink(t, cert, false)
	tg, _ := s.CreateTarget(ctx, &TargetSpec{Name: "mail", Type: TargetEmail, Email: &EmailConfig{Host: "127.0.0.1", Port: sink.port(), From: "a@example.com", To: []string{"b@example.com"}}}, "t")
	res, _ := s.TestTarget(ctx, tg.ID)
	if res.OK || !strings.Contains(res.Error, "certificate") {
		t.Errorf("untrusted certificate: %+v", res)
	}
	// Plain SMTP to a remote host is refused.
	tg2, _ := s.CreateTarget(ctx, &TargetSpec{Name: "plain", Type: TargetEmail, Email: &EmailConfig{Host: "mail.example.com", TLS: "none", From: "a@example.com", To: []string{"b@example.com"}}}, "t")
	res, _ = s.TestTarget(ctx, tg2.ID)
	if res.OK || !strings.Contains(res.Error, "without TLS is not allowed") {
		t.Errorf("plain SMTP: %+v", res)
	}
}

func TestTargetValidation(t *testing.T) {
	for _, c := range []struct {
		spec TargetSpec
		want string
	}{
		{TargetSpec{Name: "x", Type: "pager"}, `type "pager"`},
		{TargetSpec{Name: "x", Type: TargetWebhook, Webhook: &WebhookConfig{URL: "ftp://x"}}, "webhook.url"},
		{TargetSpec{Name: "x", Type: TargetWebhook, Webhook: &WebhookConfig{URL: "http://x", BodyTemplate: "{{"}}, "webhook.bodyTemplate"},
		{TargetSpec{Name: "x", Type: TargetEmail, Email: &EmailConfig{Host: "h", From: "nope", TLS: "ssl"}}, "email.tls"},
		{TargetSpec{Name: "x", Type: TargetEmail, Email: &EmailConfig{Host: "h", From: "nope"}}, "email.to"},
		{TargetSpec{Name: "", Type: TargetSlack}, "name"},
	} {
		err := c.spec.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.spec, err, c.want)
		}
	}
	e := &TargetSpec{Name: "m", Type: TargetEmail, Email: &EmailConfig{Host: "h", TLS: "tls", From: "a@b.c", To: []string{"d@e.f"}}}
	if err := e.Validate(); err != nil || e.Email.Port != 465 {
		t.Errorf("defaults: %v, port %d", err, e.Email.Port)
	}
}
