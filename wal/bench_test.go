package wal

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkAppend measures Append throughput for both fsync policies, one and
// sixteen concurrent writers and two payload sizes. A background goroutine
// checkpoints everything durable every 100ms so disk use stays bounded, as
// the applier would.
func BenchmarkAppend(b *testing.B) {
	policies := []struct {
		name string
		p    FsyncPolicy
	}{
		{"always", FsyncPolicy{Always: true}},
		{"interval=100ms", FsyncPolicy{Interval: 100 * time.Millisecond}},
	}
	for _, pol := range policies {
		for _, writers := range []int{1, 16} {
			for _, size := range []int{64 << 10, 1 << 20} {
				name := fmt.Sprintf("%s/writers=%d/size=%dKiB", pol.name, writers, size>>10)
				b.Run(name, func(b *testing.B) { benchAppend(b, pol.p, writers, size) })
			}
		}
	}
}

func benchAppend(b *testing.B, policy FsyncPolicy, writers, size int) {
	w, err := Open(Options{Dir: b.TempDir(), Fsync: policy, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, size)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range payload {
		payload[i] = byte(rng.Uint32())
	}
	stop := make(chan struct{})
	var trim sync.WaitGroup
	trim.Go(func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if err := w.SetCheckpoint(w.Stats().DurableSeq); err != nil {
					b.Error(err)
					return
				}
			}
		}
	})
	ctx := context.Background()
	b.SetBytes(int64(size))
	b.ResetTimer()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if _, err := w.Append(ctx, payload); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
	st := w.Stats()
	b.ReportMetric(float64(st.Appends)/float64(max(st.GroupCommits, 1)), "appends/group")
	close(stop)
	trim.Wait()
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}
