package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestKill9LosesNothingAcknowledged kills the server with SIGKILL again and
// again while clients upload, restarts it on the same data folder, and then
// checks that every acknowledged event is stored exactly once and that no
// event at all is stored twice.
func TestKill9LosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("crash loop skipped in -short mode")
	}
	const (
		writers      = 4
		eventsPerReq = 100
		maxEvents    = 90_000
		kills        = 6
		// rate spreads maxEvents over the kill loop (about 1.3 s per kill
		// plus restart).
		rate = maxEvents / (kills * 1.6)
	)
	p := startServer(t, "", "--engine-sync-interval", "1s")
	src := p.createSource("crash", "e2e/crash", nil)
	start := time.Now().Add(-time.Minute)

	var (
		mu      sync.Mutex
		acked   = map[string]bool{} // event id -> acknowledged
		sent    atomic.Int64
		stop    = make(chan struct{})
		wg      sync.WaitGroup
		batchNo atomic.Int64
		failed  atomic.Int64
		refused atomic.Int64
		baseURL atomic.Value
		began   = time.Now()
	)
	baseURL.Store(p.url)
	client := &http.Client{Timeout: 10 * time.Second}
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				// Pace the writers so that uploads go on through every kill.
				if n := sent.Load(); n >= maxEvents || n > int64(time.Since(began).Seconds()*rate) {
					time.Sleep(5 * time.Millisecond)
					continue
				}
				b := batchNo.Add(1)
				var body bytes.Buffer
				ids := make([]string, eventsPerReq)
				for i := range ids {
					ids[i] = fmt.Sprintf("ev%d_%d", b, i)
					fmt.Fprintf(&body, "k9test id=%s payload %d\n", ids[i], rand.IntN(1_000_000))
				}
				sent.Add(eventsPerReq)
				// Each restart listens on a new port.
				resp, err := client.Post(baseURL.Load().(string)+"/receiver/v1/http/"+src.Token, "text/plain", &body)
				if err != nil {
					// Not acknowledged. A refused connection (the server
					// is down) does not count against the pace; anything
					// else was cut in flight by a kill.
					if errors.Is(err, syscall.ECONNREFUSED) {
						refused.Add(1)
					} else {
						failed.Add(1)
					}
					sent.Add(-eventsPerReq)
					time.Sleep(20 * time.Millisecond)
					continue
				}
				resp.Body.Close()
				if resp.StatusCode == 200 {
					mu.Lock()
					for _, id := range ids {
						acked[id] = true
					}
					mu.Unlock()
				}
			}
		}()
	}

	var restarts time.Duration
	for k := 0; k < kills; k++ {
		// Some kills land during the WAL replay right after a restart.
		time.Sleep(time.Duration(200+rand.IntN(1800)) * time.Millisecond)
		p.kill()
		t0 := time.Now()
		p.start()
		baseURL.Store(p.url)
		restarts += time.Since(t0)
	}
	close(stop)
	wg.Wait()
	// One more crash with nothing in flight, then a clean restart.
	time.Sleep(500 * time.Millisecond)
	p.kill()
	p.start()

	mu.Lock()
	nAcked := len(acked)
	mu.Unlock()
	if nAcked < 5_000 {
		t.Fatalf("only %d events acknowledged: the test did not exercise the server", nAcked)
	}
	t.Logf("%d events sent, %d acknowledged, %d requests cut in flight by kills, %d refused while down, %d kills, %v restarting in all",
		sent.Load(), nAcked, failed.Load(), refused.Load(), kills+1, restarts)
	if failed.Load() == 0 {
		t.Fatal("no request was in flight at any kill: the test did not crash the server under load")
	}

	end := time.Now().Add(time.Minute)
	p.waitCount("k9test", start, end, nAcked)
	p.waitMessages("k9test", start, end, nAcked)
	res := p.search("k9test", start, end)
	if res.status.State != "DONE GATHERING RESULTS" {
		t.Fatalf("search state %s (message cap reached?)", res.status.State)
	}
	idRE := regexp.MustCompile(`id=(ev\d+_\d+)`)
	seen := make(map[string]int, len(res.messages))
	for _, m := range res.messages {
		sm := idRE.FindStringSubmatch(m["_raw"])
		if sm == nil {
			t.Fatalf("unexpected message %q", m["_raw"])
		}
		seen[sm[1]]++
	}
	var lost, dup int
	for id := range acked {
		if seen[id] == 0 {
			lost++
		}
	}
	for id, n := range seen {
		if n > 1 {
			dup++
			if dup <= 5 {
				t.Errorf("event %s stored %d times", id, n)
			}
		}
	}
	if lost > 0 || dup > 0 {
		t.Fatalf("%d acknowledged events lost, %d events duplicated (of %d acknowledged, %d stored)", lost, dup, nAcked, len(res.messages))
	}
	t.Logf("all %d acknowledged events stored exactly once (%d stored in all)", nAcked, len(seen))
}

// TestSIGTERMDrainsAndFlushes stops the server with SIGTERM while clients
// upload: every acknowledged event is there after a restart, and the restart
// replays nothing.
func TestSIGTERMDrainsAndFlushes(t *testing.T) {
	p := startServer(t, "")
	src := p.createSource("term", "e2e/term", nil)
	start := time.Now().Add(-time.Minute)
	var acked atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				var body bytes.Buffer
				for i := 0; i < 50; i++ {
					fmt.Fprintf(&body, "termtest w%d n%d i%d\n", w, n, i)
				}
				resp, err := testClient.Post(src.URL, "text/plain", &body)
				if err != nil {
					return
				}
				resp.Body.Close()
				if resp.StatusCode == 200 {
					acked.Add(50)
				}
			}
		}()
	}
	time.Sleep(time.Second)
	p.stop()
	close(stop)
	wg.Wait()
	if acked.Load() == 0 {
		t.Fatal("nothing acknowledged")
	}
	p.start()
	if n := p.count("termtest", start, time.Now().Add(time.Minute)); n != int(acked.Load()) {
		t.Fatalf("after SIGTERM and restart: %d events, want the %d acknowledged", n, acked.Load())
	}
}
