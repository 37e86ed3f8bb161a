package workload

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// niceOf reads a thread's nice from /proc/<pid>/task/<tid>/stat (field 19).
func niceOf(t *testing.T, stat string) int {
	t.Helper()
	b, err := os.ReadFile(stat)
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(b)[strings.LastIndexByte(string(b), ')')+2:])
	n, err := strconv.Atoi(fields[16]) // field 19 of stat; fields here start at field 3
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestChildStartsAtChildNiceAndTheThreadGoesBack(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("setting nice -20 needs CAP_SYS_NICE")
	}
	runtime.LockOSThread() // this goroutine's thread ends with it: its nice is changed here
	tid := unix.Gettid()
	if err := unix.Setpriority(unix.PRIO_PROCESS, 0, AgentNice); err != nil {
		t.Fatal(err)
	}
	out, err := func() ([]byte, error) {
		var out []byte
		err := withChildNice(func() error {
			var err error
			out, err = exec.Command("cat", "/proc/self/stat").Output()
			return err
		})
		return out, err
	}()
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(out)[strings.LastIndexByte(string(out), ')')+2:])
	if f[16] != strconv.Itoa(ChildNice) {
		t.Errorf("child's nice %s, want %d", f[16], ChildNice)
	}
	if got := niceOf(t, "/proc/self/task/"+strconv.Itoa(tid)+"/stat"); got != AgentNice {
		t.Errorf("forking thread's nice after the spawn: %d, want %d", got, AgentNice)
	}
}

func TestPrioritizeThreadsSetsEveryThread(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("setting nice -20 needs CAP_SYS_NICE")
	}
	// In a child process of its own, so this test binary's threads keep their priority.
	if os.Getenv("PRIORITIZE_CHILD") == "1" {
		if err := PrioritizeThreads("/proc/self/task"); err != nil {
			t.Fatal(err)
		}
		tasks, _ := os.ReadDir("/proc/self/task")
		for _, e := range tasks {
			if n := niceOf(t, "/proc/self/task/"+e.Name()+"/stat"); n != AgentNice {
				t.Fatalf("thread %s at nice %d", e.Name(), n)
			}
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPrioritizeThreadsSetsEveryThread$")
	cmd.Env = append(os.Environ(), "PRIORITIZE_CHILD=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
}
