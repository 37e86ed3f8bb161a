package initsys

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// hostnameRule is validHostname as one regular expression plus a length check, the form
// the host's validator takes (JavaScript: the same pattern and s.length <= 64, ASCII only).
var hostnameRule = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*$`)

func ruleAccepts(s string) bool { return len(s) <= MaxHostnameLen && hostnameRule.MatchString(s) }

func TestValidHostname(t *testing.T) {
	label63 := strings.Repeat("a", 63)
	pod63 := "web-7d4b9c8f6-" + strings.Repeat("x", 42) + ".ns-a-b" // 63 bytes
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"vessel", true},
		{"box-1", true},
		{"Box-1.Example.COM", true},
		{"9lives", true},
		{"a", true},
		{"my_container", true},      // OCI hostnames may carry '_' (the shim accepted them)
		{"_svc.local", true},        // '_' counts as a letter, also first
		{"web-0.web.default", true}, // a pod hostname with dots and dashes
		{pod63, true},               // a truncated pod name, 63 bytes
		{label63, true},
		{label63[:62] + ".b", true}, // 64 bytes, the kernel's limit
		{label63 + "a", false},      // a 64-byte label
		{label63 + ".bc", false},    // 66 bytes
		{"", false},
		{"-bad", false},
		{"bad-", false},
		{"a.-b", false},
		{"a-.b", false},
		{"a..b", false},
		{".a", false},
		{"a.", false},
		{"a b", false},
		{"a=b", false},
		{"a/b", false},
		{"a\x00b", false},
		{"héllo", false},
	} {
		if got := validHostname(tc.name); got != tc.ok {
			t.Errorf("validHostname(%q) = %v, want %v", tc.name, got, tc.ok)
		}
		if got := ruleAccepts(tc.name); got != tc.ok {
			t.Errorf("host rule on %q = %v, want %v", tc.name, got, tc.ok)
		}
	}
	if len(pod63) != 63 {
		t.Fatalf("pod63 is %d bytes", len(pod63))
	}
}

// TestHostnameRuleMatchesRegexp checks validHostname and the host's form of the rule
// agree on random strings made of the characters that matter.
func TestHostnameRuleMatchesRegexp(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "aZ9_-.-.é "
	accepted := 0
	for i := 0; i < 200000; i++ {
		var b strings.Builder
		n := rng.IntN(70)
		if rng.IntN(4) == 0 {
			n = 60 + rng.IntN(8) // around the length limits
		}
		for j := 0; j < n; j++ {
			if rng.IntN(3) == 0 {
				b.WriteByte(alphabet[rng.IntN(len(alphabet))])
			} else {
				b.WriteByte('a' + byte(rng.IntN(3)))
			}
		}
		s := b.String()
		want := ruleAccepts(s)
		if validHostname(s) != want {
			t.Fatalf("validHostname(%q) = %v, the host's rule says %v", s, !want, want)
		}
		if want {
			accepted++
		}
	}
	if accepted < 1000 {
		t.Fatalf("only %d random names were valid: the comparison says little", accepted)
	}
}
