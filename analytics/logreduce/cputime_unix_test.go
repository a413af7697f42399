//go:build unix

package logreduce

import "syscall"

// cpuSeconds returns the CPU time (user and system) used by the process so
// far: benchmarks report lines per CPU second, which a busy machine does not
// distort the way it does wall time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
