package logreduce

import (
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// benchCorpus is ~1M real-looking lines: lines of the 11 Loghub sets, whole
// (header included), with every digit redrawn at random so that the
// variables vary as in a real stream. Without the shared data, a small
// built-in set of lines is varied the same way.
var benchCorpus = sync.OnceValue(func() []string {
	var src []string
	for _, d := range []string{"../../../shared/data/loghub_2k"} {
		for _, set := range loghubSets {
			lines, err := readLines(filepath.Join(d, set, set+"_2k.log"))
			if err == nil {
				src = append(src, lines...)
			}
		}
		if len(src) > 0 {
			break
		}
	}
	if len(src) == 0 {
		src = []string{
			"2024-01-02 10:11:12,345 INFO [main] org.example.Server: Started server on port 8080 in 1234 ms",
			"081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating",
			"Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4",
			"[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6",
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]string, 1<<20)
	buf := make([]byte, 0, 1024)
	for i := range out {
		l := src[r.IntN(len(src))]
		buf = buf[:0]
		for k := 0; k < len(l); k++ {
			c := l[k]
			if c >= '0' && c <= '9' {
				c = '0' + byte(r.IntN(10))
			}
			buf = append(buf, c)
		}
		out[i] = string(buf)
	}
	return out
})

// BenchmarkMinerAdd measures mining alone: one op is one line.
func BenchmarkMinerAdd(b *testing.B) {
	corpus := benchCorpus()
	var bytes int64
	for _, l := range corpus {
		bytes += int64(len(l))
	}
	m := New(Config{})
	mask := len(corpus) - 1
	b.SetBytes(bytes / int64(len(corpus)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuSeconds()
	for i := 0; i < b.N; i++ {
		m.Add(corpus[i&mask])
	}
	reportRates(b, float64(b.N), cpuSeconds()-cpu)
}

// reportRates reports lines per wall-clock second and, where measured, per
// CPU second of the process (mining runs on one goroutine, so this is the
// rate of one core, whatever else the machine is doing).
func reportRates(b *testing.B, lines, cpu float64) {
	b.ReportMetric(lines/b.Elapsed().Seconds(), "lines/s")
	if cpu > 0 {
		b.ReportMetric(lines/cpu, "lines/cpu-s")
	}
}

// BenchmarkMine1M mines the whole corpus (2^20 lines) and computes the
// clusters: one op is 1M lines.
func BenchmarkMine1M(b *testing.B) {
	corpus := benchCorpus()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuSeconds()
	for i := 0; i < b.N; i++ {
		m := New(Config{})
		for _, l := range corpus {
			m.Add(l)
		}
		_ = m.Result()
	}
	reportRates(b, float64(b.N)*float64(len(corpus)), cpuSeconds()-cpu)
}

// BenchmarkResult measures stage 2 alone on the state of the 1M lines.
func BenchmarkResult(b *testing.B) {
	m := New(Config{})
	for _, l := range benchCorpus() {
		m.Add(l)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = m.Result()
	}
	b.ReportMetric(float64(m.Skeletons()), "skeletons")
}

// BenchmarkMergeParallel mines the corpus on GOMAXPROCS workers and merges
// their states, as the query engine does per block.
func BenchmarkMergeParallel(b *testing.B) {
	corpus := benchCorpus()
	w := runtime.GOMAXPROCS(0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ms := make([]*Miner, w)
		var wg sync.WaitGroup
		for k := range ms {
			ms[k] = New(Config{})
			wg.Add(1)
			go func(m *Miner, part []string) {
				defer wg.Done()
				for _, l := range part {
					m.Add(l)
				}
			}(ms[k], corpus[k*len(corpus)/w:(k+1)*len(corpus)/w])
		}
		wg.Wait()
		for _, m := range ms[1:] {
			if err := ms[0].Merge(m); err != nil {
				b.Fatal(err)
			}
		}
		_ = ms[0].Result()
	}
	b.ReportMetric(float64(b.N)*float64(len(corpus))/b.Elapsed().Seconds(), "lines/s")
}
