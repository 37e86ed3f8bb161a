package netcfg

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"vessel.dev/agent/internal/agentpb"
)

type fakeLinks struct {
	mac   string
	calls []string
}

func (f *fakeLinks) ByMAC(mac net.HardwareAddr) (int, string, error) {
	f.calls = append(f.calls, "bymac "+mac.String())
	if mac.String() != f.mac {
		return 0, "", ErrNoLink
	}
	return 2, "eth0", nil
}
func (f *fakeLinks) SetMTU(i, m int) error {
	f.calls = append(f.calls, fmt.Sprintf("mtu %d %d", i, m))
	return nil
}
func (f *fakeLinks) AddAddr(i int, a *net.IPNet) error {
	f.calls = append(f.calls, fmt.Sprintf("addr %d %s", i, a))
	return nil
}
func (f *fakeLinks) SetUp(i int) error {
	f.calls = append(f.calls, fmt.Sprintf("up %d", i))
	return nil
}
func (f *fakeLinks) SetDown(i int) error {
	f.calls = append(f.calls, fmt.Sprintf("down %d", i))
	return nil
}
func (f *fakeLinks) ReplaceDefaultRoute(i int, gw net.IP) error {
	f.calls = append(f.calls, fmt.Sprintf("route %d %s", i, gw))
	return nil
}

func TestConfigure(t *testing.T) {
	fl := &fakeLinks{mac: "52:54:00:12:34:56"}
	resolv := filepath.Join(t.TempDir(), "etc", "resolv.conf")
	c := &Configurer{Links: fl, ResolvConf: resolv}
	name, err := c.ConfigureInterface(context.Background(), &agentpb.ConfigureInterfaceRequest{
		Mac: "52:54:00:12:34:56", Addresses: []string{"192.0.2.2/24", "fd00::2/64"},
		Gateway: "192.0.2.1", Mtu: 1500, Dns: []string{"192.0.2.1", "2001:db8::53"},
	})
	if err != nil || name != "eth0" {
		t.Fatalf("%q %v", name, err)
	}
	want := []string{"bymac 52:54:00:12:34:56", "mtu 2 1500", "addr 2 192.0.2.2/24", "addr 2 fd00::2/64", "up 2", "route 2 192.0.2.1"}
	if !reflect.DeepEqual(fl.calls, want) {
		t.Fatalf("calls %q", fl.calls)
	}
	b, err := os.ReadFile(resolv)
	if err != nil || string(b) != "nameserver 192.0.2.1\nnameserver 2001:db8::53\n" {
		t.Fatalf("resolv.conf %q %v", b, err)
	}
}

func TestConfigureMinimalAndNotFound(t *testing.T) {
	fl := &fakeLinks{mac: "52:54:00:12:34:56"}
	resolv := filepath.Join(t.TempDir(), "resolv.conf")
	c := &Configurer{Links: fl, ResolvConf: resolv}
	if _, err := c.ConfigureInterface(context.Background(), &agentpb.ConfigureInterfaceRequest{Mac: "52:54:00:12:34:56"}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fl.calls, []string{"bymac 52:54:00:12:34:56", "up 2"}) {
		t.Fatalf("calls %q", fl.calls)
	}
	if _, err := os.Stat(resolv); !os.IsNotExist(err) {
		t.Fatal("resolv.conf written without nameservers")
	}
	_, err := c.ConfigureInterface(context.Background(), &agentpb.ConfigureInterfaceRequest{Mac: "52:54:00:00:00:01"})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("unknown MAC: %v", err)
	}
}

func TestInvalid(t *testing.T) {
	ok := "52:54:00:12:34:56"
	bad := []*agentpb.ConfigureInterfaceRequest{
		{Mac: ""}, {Mac: "zz:54:00:12:34:56"}, {Mac: "00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01"},
		{Mac: ok, Addresses: []string{"192.0.2.2"}}, {Mac: ok, Gateway: "x"}, {Mac: ok, Mtu: 67},
		{Mac: ok, Mtu: 70000}, {Mac: ok, Dns: []string{"dns.example"}},
	}
	for i, req := range bad {
		fl := &fakeLinks{mac: ok}
		c := &Configurer{Links: fl, ResolvConf: filepath.Join(t.TempDir(), "r")}
		if _, err := c.ConfigureInterface(context.Background(), req); status.Code(err) != codes.InvalidArgument {
			t.Errorf("case %d: %v", i, err)
		}
		if len(fl.calls) != 0 {
			t.Errorf("case %d touched links: %q", i, fl.calls)
		}
	}
}

func TestFenceInterface(t *testing.T) {
	fl := &fakeLinks{mac: "52:54:00:12:34:56"}
	c := &Configurer{Links: fl}
	name, err := c.FenceInterface("52:54:00:12:34:56")
	if err != nil || name != "eth0" {
		t.Fatalf("%q %v", name, err)
	}
	if want := []string{"bymac 52:54:00:12:34:56", "down 2"}; !reflect.DeepEqual(fl.calls, want) {
		t.Fatalf("calls %q", fl.calls)
	}
	if _, err := c.FenceInterface("52:54:00:00:00:09"); status.Code(err) != codes.NotFound {
		t.Fatalf("unknown MAC: %v", err)
	}
	if _, err := c.FenceInterface("nope"); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("bad MAC: %v", err)
	}
}
