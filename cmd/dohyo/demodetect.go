package main

// The demo's detections (dohyo demo, make run): the CloudTrail app's
// monitors enabled, alerting a webhook receiver inside the demo process
// that prints every alert it receives.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/dohyo/dohyo/catalog"
	"github.com/dohyo/dohyo/client"
	"github.com/dohyo/dohyo/monitors"
	"github.com/dohyo/dohyo/query"
	"github.com/dohyo/dohyo/server"
	"github.com/dohyo/dohyo/threatintel"
)

// The demo's notification target and threat list.
const (
	demoTargetName = "demo-webhook"
	demoThreatList = "demo-blocklist"
	demoApp        = "aws-cloudtrail"
)

// demoBlocklist are address blocks the demo's attackers come from
// (demo/ipranges.go), listed as threat indicators so that the CloudTrail
// app's threat intelligence detection has something to find.
var demoBlocklist = []query.ThreatIndicator{
	{Indicator: "176.59.0.0/16", Type: "ipv4-cidr", Actor: "demo: credential thieves", MaliciousConfidence: "high", RawThreat: `{"source":"dohyo demo"}`},
	{Indicator: "197.210.0.0/16", Type: "ipv4-cidr", Actor: "demo: credential thieves", MaliciousConfidence: "medium", RawThreat: `{"source":"dohyo demo"}`},
}

// demoDetections enables the CloudTrail app's detections and sends their
// alerts to a webhook receiver on 127.0.0.1 that prints them to out until
// ctx ends. Problems are warnings: the demo goes on without alerts.
func demoDetections(ctx context.Context, s *server.Server, creds client.Credentials, out io.Writer) {
	url, err := startAlertReceiver(ctx, out)
	if err == nil {
		err = setupDetections(ctx, s, creds, url, out)
	}
	if err != nil {
		fmt.Fprintf(out, "demo: warning: detections are not enabled: %v\n", err)
	}
}

// setupDetections points the demo target at the receiver, uploads the
// demo's threat list and enables every monitor of the CloudTrail app with
// the target.
func setupDetections(ctx context.Context, s *server.Server, creds client.Credentials, receiver string, out io.Writer) error {
	svc := s.Monitors()
	spec := &monitors.TargetSpec{Name: demoTargetName, Type: monitors.TargetWebhook, Webhook: &monitors.WebhookConfig{URL: receiver}}
	t, err := svc.GetTarget(ctx, demoTargetName)
	switch {
	case errors.Is(err, catalog.ErrNotFound):
		t, err = svc.CreateTarget(ctx, spec, "demo")
	case err == nil:
		t, err = svc.UpdateTarget(ctx, t.ID, spec, "demo")
	}
	if err != nil {
		return fmt.Errorf("notification target %s: %w", demoTargetName, err)
	}
	if _, err := threatintel.Import(ctx, s.Catalog(), demoThreatList, "address blocks of the demo's attackers", demoBlocklist, "demo"); err != nil {
		return fmt.Errorf("threat list %s: %w", demoThreatList, err)
	}
	list, err := svc.List(ctx, demoApp)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		// Installed by a demo run whose server had no monitors: install
		// the app's items again (its version did not change).
		c, err := client.New(s.URL(), creds.AccessID, creds.AccessKey, client.WithUserAgent("dohyo-demo"))
		if err != nil {
			return err
		}
		if _, err := c.UpgradeApp(ctx, demoApp, nil); err != nil {
			return fmt.Errorf("app %s has no monitors, and reinstalling it failed: %w", demoApp, err)
		}
		fmt.Fprintf(out, "demo: app %s had no monitors (installed by an older dohyo): its items were installed again\n", demoApp)
		if list, err = svc.List(ctx, demoApp); err != nil {
			return err
		}
		if len(list) == 0 {
			return fmt.Errorf("app %s has no monitors", demoApp)
		}
	}
	if _, err := svc.AddAppTargets(ctx, demoApp, []string{t.ID}, "demo"); err != nil {
		return err
	}
	n, err := svc.SetAppEnabled(ctx, demoApp, true, "demo")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "demo: detections: the %d monitors of the %s app are enabled (%d now); alerts go to the webhook %s and are printed here\n",
		len(list), demoApp, n, receiver)
	return nil
}

// startAlertReceiver serves a webhook on 127.0.0.1 that prints the alerts
// it receives; it stops when ctx ends.
func startAlertReceiver(ctx context.Context, out io.Writer) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("alert receiver: %w", err)
	}
	var mu sync.Mutex
	mux := http.NewServeMux()
	mux.HandleFunc("POST /alerts", func(w http.ResponseWriter, r *http.Request) {
		var p monitors.Payload
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&p); err != nil {
			http.Error(w, "not an alert: "+err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		fmt.Fprintf(out, "demo: ALERT %s: %s\n", p.Title, p.Message)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	return "http://" + ln.Addr().String() + "/alerts", nil
}
