package agentsvc

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
)

// debugProfile is a benchmark aid, off by default: with vessel.cpuprofile=1 on the
// kernel command line, SIGUSR1 to the agent (re)starts a CPU profile into
// /tmp/vessel-cpu.pprof and SIGUSR2 stops it, writing GC counters for the profiled span
// to /tmp/vessel-mem.txt (bench/stream-profile.ts drives it).
func debugProfile() {
	b, err := os.ReadFile("/proc/cmdline")
	if err != nil || !strings.Contains(" "+strings.TrimSpace(string(b))+" ", " vessel.cpuprofile=1 ") {
		return
	}
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		var f *os.File
		var ms0 runtime.MemStats
		for sig := range ch {
			if f != nil {
				pprof.StopCPUProfile()
				f.Close()
				f = nil
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				_ = os.WriteFile("/tmp/vessel-mem.txt", fmt.Appendf(nil, "numgc %d gcpause_ns %d alloc_bytes %d mallocs %d\n",
					ms.NumGC-ms0.NumGC, ms.PauseTotalNs-ms0.PauseTotalNs, ms.TotalAlloc-ms0.TotalAlloc, ms.Mallocs-ms0.Mallocs), 0o644)
			}
			if sig == syscall.SIGUSR1 {
				runtime.ReadMemStats(&ms0)
				if f, _ = os.Create("/tmp/vessel-cpu.pprof"); f != nil {
					if pprof.StartCPUProfile(f) != nil {
						f.Close()
						f = nil
					}
				}
			}
		}
	}()
}
