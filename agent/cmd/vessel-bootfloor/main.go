// Command vessel-bootfloor is the floor that bench/boot compares vessel-agent against: a
// trivial static PID 1 that does only what any agent must before the host can talk to it —
// mount devtmpfs and sysfs, load the modules listed in /etc/vessel/modules.list (the
// virtio-serial ones), find the port named vessel.agent — then writes READY to that port
// and waits for the VM to be killed.
package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	_ = unix.Mount("devtmpfs", "/dev", "devtmpfs", 0, "")
	_ = unix.Mount("sysfs", "/sys", "sysfs", 0, "")
	if f, err := os.Open("/etc/vessel/modules.list"); err == nil {
		s := bufio.NewScanner(f)
		for s.Scan() {
			path := strings.TrimSpace(s.Text())
			if path == "" {
				continue
			}
			if m, err := os.Open(path); err == nil {
				_ = unix.FinitModule(int(m.Fd()), "", 0)
				m.Close()
			}
		}
		f.Close()
	}
	for {
		names, _ := filepath.Glob("/sys/class/virtio-ports/*/name")
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil || strings.TrimSpace(string(b)) != "vessel.agent" {
				continue
			}
			port, err := os.OpenFile("/dev/"+filepath.Base(filepath.Dir(n)), os.O_RDWR, 0)
			if err != nil {
				continue
			}
			_, _ = port.Write([]byte("READY\n"))
			for {
				time.Sleep(time.Hour)
			}
		}
		time.Sleep(time.Millisecond)
	}
}
