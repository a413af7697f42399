package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dohyo/dohyo/demo"
)

// TestDetectionsFireToWebhook: the CloudTrail app installed, the demo's
// attack traffic sent through a receiver, the app's detections enabled with
// a local webhook as their target: the matching detections fire and the
// webhook receives their alerts, once each.
func TestDetectionsFireToWebhook(t *testing.T) {
	p := startServer(t, "")

	// A webhook receiver on loopback.
	var mu sync.Mutex
	var got []map[string]any
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		if json.Unmarshal(b, &m) != nil {
			http.Error(w, "bad json", 400)
			return
		}
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
	}))
	defer hook.Close()

	if code := p.api("POST", "/api/v1/apps/aws-cloudtrail/install", map[string]any{"params": map[string]string{"category": "aws/cloudtrail"}}, nil); code != 201 {
		t.Fatalf("install the CloudTrail app: status %d", code)
	}
	var list struct {
		Monitors []struct {
			Name    string `json:"name"`
			Enabled bool   `json:"enabled"`
		} `json:"monitors"`
	}
	p.api("GET", "/api/v1/monitors?app=aws-cloudtrail", nil, &list)
	if len(list.Monitors) < 10 {
		t.Fatalf("the app installed %d monitors", len(list.Monitors))
	}
	for _, m := range list.Monitors {
		if m.Enabled {
			t.Fatalf("app monitor %q installed enabled", m.Name)
		}
	}

	// The demo's attacks, a couple of minutes ago.
	src := p.createSource("ct", "aws/cloudtrail", nil)
	g := demo.NewGenerator(3)
	end := time.Now().Add(-2 * time.Minute)
	var body strings.Builder
	n := 0
	for _, kind := range []string{demo.ScenarioRootUsage, demo.ScenarioSecurityGroupOpen, demo.ScenarioCloudTrailTampering} {
		evs, err := g.Incident(kind, end)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.Stream == demo.StreamCloudTrail {
				body.WriteString(ev.Raw + "\n")
				n++
			}
		}
	}
	if code, msg := post(t, src.URL, []byte(body.String()), nil); code != 200 {
		t.Fatalf("send: %d %s", code, msg)
	}
	from, to := end.Add(-30*time.Minute), time.Now().Add(time.Minute)
	p.waitMessages("_sourceCategory=aws/cloudtrail", from, to, n)

	var target struct {
		ID string `json:"id"`
	}
	if code := p.api("POST", "/api/v1/notification-targets", map[string]any{"name": "e2e-hook", "type": "webhook", "webhook": map[string]any{"url": hook.URL}}, &target); code != 201 {
		t.Fatalf("create target: %d", code)
	}
	start := time.Now()
	if code := p.api("POST", "/api/v1/monitors/enable-app", map[string]any{"app": "aws-cloudtrail", "notify": []string{"e2e-hook"}}, nil); code != 200 {
		t.Fatalf("enable the app's monitors: %d", code)
	}

	names := map[string]string{}
	for _, f := range []string{"s06-root-account-usage", "s01-security-group-open-to-world", "s10-cloudtrail-tampering"} {
		b, err := os.ReadFile("../apps/aws-cloudtrail/monitors/" + f + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var m struct{ Name string }
		json.Unmarshal(b, &m)
		names[m.Name] = f
	}
	fired := map[string]int{}
	deadline := time.Now().Add(90 * time.Second)
	for {
		mu.Lock()
		clear(fired)
		for _, m := range got {
			mon, _ := m["monitor"].(map[string]any)
			if name, _ := mon["name"].(string); m["kind"] == "fired" && names[name] != "" {
				fired[names[name]]++
			}
		}
		mu.Unlock()
		if len(fired) == len(names) || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if len(fired) != len(names) {
		t.Fatalf("after %s, the webhook heard of %v, want %v\n%s", time.Since(start).Round(time.Second), fired, names, p.logs)
	}
	t.Logf("the three detections fired at the webhook %s after enabling", time.Since(start).Round(100*time.Millisecond))

	// Their state is firing, and nothing fired on an attack that was not
	// sent (no login failures).
	var after struct {
		Monitors []struct {
			Name   string `json:"name"`
			Status struct {
				State string `json:"state"`
			} `json:"status"`
		} `json:"monitors"`
	}
	p.api("GET", "/api/v1/monitors?app=aws-cloudtrail", nil, &after)
	for _, m := range after.Monitors {
		if names[m.Name] != "" && m.Status.State != "critical" {
			t.Errorf("%s: state %s, want critical", m.Name, m.Status.State)
		}
		if strings.Contains(strings.ToLower(m.Name), "login failures") && m.Status.State != "normal" {
			t.Errorf("%s: state %s without login failures", m.Name, m.Status.State)
		}
	}
	// A firing alert is sent once: another evaluation sends nothing new.
	time.Sleep(2 * time.Second)
	mu.Lock()
	count := map[string]int{}
	for _, m := range got {
		mon, _ := m["monitor"].(map[string]any)
		key, _ := mon["name"].(string)
		if grp, ok := m["group"].(map[string]any); ok {
			b, _ := json.Marshal(grp)
			key += string(b)
		}
		if m["kind"] == "fired" {
			count[key]++
		}
	}
	mu.Unlock()
	for k, c := range count {
		if c != 1 {
			t.Errorf("%s fired %d times", k, c)
		}
	}

	// Across a restart the schedule goes on from the last window: the next
	// window evaluated follows it, nothing is skipped, and the firing
	// alerts are not sent again.
	type status struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		Status struct {
			State      string `json:"state"`
			LastWindow *struct {
				To time.Time `json:"to"`
			} `json:"lastWindow"`
		} `json:"status"`
	}
	// Windows end on the minute and are evaluated 15 s later: stay clear of
	// that moment so that none is evaluated between reading the last one
	// and stopping the server.
	if sec := time.Now().Second(); sec >= 12 && sec < 22 {
		time.Sleep(time.Duration(22-sec) * time.Second)
	}
	var before struct{ Monitors []status }
	p.api("GET", "/api/v1/monitors?app=aws-cloudtrail", nil, &before)
	lastTo := map[string]time.Time{}
	for _, m := range before.Monitors {
		if m.Status.LastWindow != nil {
			lastTo[m.ID] = m.Status.LastWindow.To
		}
	}
	p.stop()
	p.start()
	var root status
	for _, m := range before.Monitors {
		if names[m.Name] == "s06-root-account-usage" {
			root = m
		}
	}
	deadline = time.Now().Add(100 * time.Second)
	for {
		var cur status
		p.api("GET", "/api/v1/monitors/"+root.ID, nil, &cur)
		if cur.Status.LastWindow != nil && cur.Status.LastWindow.To.After(lastTo[root.ID]) {
			if got, want := cur.Status.LastWindow.To, lastTo[root.ID].Add(time.Minute); !got.Equal(want) {
				t.Errorf("after the restart, the first window evaluated ends %s, want %s (the one after the last before it)", got, want)
			}
			if cur.Status.State != "critical" {
				t.Errorf("after the restart: state %s, want critical (still firing)", cur.Status.State)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no window evaluated within 100s of the restart:\n%s", p.logs)
		}
		time.Sleep(500 * time.Millisecond)
	}
	var hist struct {
		Events []struct {
			Kind string `json:"kind"`
		} `json:"events"`
	}
	p.api("GET", "/api/v1/monitors/"+root.ID+"/history", nil, &hist)
	kinds := map[string]int{}
	for _, e := range hist.Events {
		kinds[e.Kind]++
	}
	if kinds["fired"] != 1 || kinds["skipped"] != 0 || kinds["error"] != 0 {
		t.Errorf("root usage history after the restart: %v", kinds)
	}
	mu.Lock()
	fires := 0
	for _, m := range got {
		if m["kind"] == "fired" {
			fires++
		}
	}
	mu.Unlock()
	if total := len(count); fires != total {
		t.Errorf("the webhook got %d fired alerts after the restart, %d before", fires, total)
	}
}
