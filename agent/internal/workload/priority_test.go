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

// statFields are a /proc stat file's fields from field 3 on (after "pid (comm) ").
func statFields(t *testing.T, stat string) []string {
	t.Helper()
	s := strings.TrimSpace(stat)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
}

// nice and policy are fields 19 and 41 of stat.
func niceAndPolicy(t *testing.T, stat string) (string, string) {
	f := statFields(t, stat)
	return f[16], f[38]
}

func threadStat(t *testing.T, tid string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/task/" + tid + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	agentNice, agentPolicy = strconv.Itoa(AgentNice), strconv.Itoa(AgentPolicy)
	childNice, childPolicy = strconv.Itoa(ChildNice), strconv.Itoa(ChildPolicy)
)

func TestChildStartsAtChildPriorityAndTheThreadGoesBack(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("nice -20 needs CAP_SYS_NICE")
	}
	runtime.LockOSThread() // this goroutine's thread ends with it: its priority is changed here
	tid := unix.Gettid()
	if err := setSched(0, AgentPolicy, AgentNice); err != nil {
		t.Fatal(err)
	}
	var out []byte
	err := withChildPriority(func() error {
		var err error
		out, err = exec.Command("cat", "/proc/self/stat").Output()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, p := niceAndPolicy(t, string(out)); n != childNice || p != childPolicy {
		t.Errorf("child: nice %s policy %s, want %s %s", n, p, childNice, childPolicy)
	}
	if n, p := niceAndPolicy(t, threadStat(t, strconv.Itoa(tid))); n != agentNice || p != agentPolicy {
		t.Errorf("forking thread after the spawn: nice %s policy %s, want %s %s", n, p, agentNice, agentPolicy)
	}
}

func TestPrioritizeThreadsSetsEveryThread(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("nice -20 needs CAP_SYS_NICE")
	}
	// In a child process of its own, so this test binary's threads keep their priority.
	if os.Getenv("PRIORITIZE_CHILD") == "1" {
		if err := PrioritizeThreads("/proc/self/task"); err != nil {
			t.Fatal(err)
		}
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range tasks {
			if n, p := niceAndPolicy(t, threadStat(t, e.Name())); n != agentNice || p != agentPolicy {
				t.Fatalf("thread %s: nice %s policy %s", e.Name(), n, p)
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
