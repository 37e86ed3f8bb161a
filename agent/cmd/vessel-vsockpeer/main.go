// Command vessel-vsockpeer is a test-only guest-side peer for the vsock tests and
// bench/vsock-raw, so that they need no change to the agent protocol. Run in the guest (by an
// agent exec):
//
//	vessel-vsockpeer serve PORT    listen on AF_VSOCK PORT (any CID), print READY, and serve
//	                               each connection's operations (below) until it ends
//	vessel-vsockpeer serial NAME   print READY and serve the operations on the virtio-serial
//	                               port called NAME until the host's connection ends
//	vessel-vsockpeer dial PORT TEXT  connect to the host (CID 2) PORT, write TEXT and a
//	                               newline, print the one-line reply, exit 0
//
// Operations, one after another, each a byte and an 8-byte big-endian N:
//
//	'e' N  echo every byte back until EOF (N unused; the last operation)
//	's' N  sink: read N bytes, then write 'k'
//	'r' N  source: write N bytes
//	'p' N  N round trips: read 64 bytes, write them back
package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 3 {
		fail("usage: vessel-vsockpeer serve PORT | serial NAME | dial PORT TEXT")
	}
	if os.Args[1] == "serial" {
		serial(os.Args[2])
		return
	}
	port, err := strconv.ParseUint(os.Args[2], 10, 32)
	if err != nil {
		fail("port: %v", err)
	}
	switch {
	case os.Args[1] == "serve":
		serve(uint32(port))
	case os.Args[1] == "dial" && len(os.Args) == 4:
		dial(uint32(port), os.Args[3])
	default:
		fail("usage: vessel-vsockpeer serve PORT | serial NAME | dial PORT TEXT")
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "vessel-vsockpeer: "+format+"\n", args...)
	os.Exit(1)
}

func serve(port uint32) {
	fd, err := unix.Socket(unix.AF_VSOCK, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		fail("socket: %v", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrVM{CID: unix.VMADDR_CID_ANY, Port: port}); err != nil {
		fail("bind %d: %v", port, err)
	}
	if err := unix.Listen(fd, 64); err != nil {
		fail("listen: %v", err)
	}
	fmt.Println("READY")
	for {
		nfd, _, err := unix.Accept4(fd, unix.SOCK_CLOEXEC)
		if err != nil {
			fail("accept: %v", err)
		}
		go handle(os.NewFile(uintptr(nfd), "vsock-conn"))
	}
}

func handle(c *os.File) {
	defer c.Close()
	_ = operations(c)
}

// operations serves operations on c until EOF or an error.
func operations(c io.ReadWriter) error {
	buf := make([]byte, 256*1024)
	for {
		var head [9]byte
		if _, err := io.ReadFull(c, head[:]); err != nil {
			return err
		}
		n := binary.BigEndian.Uint64(head[1:])
		switch head[0] {
		case 'e':
			_, err := io.Copy(c, c)
			return err
		case 's':
			if _, err := io.CopyBuffer(io.Discard, io.LimitReader(c, int64(n)), buf); err != nil {
				return err
			}
			if _, err := c.Write([]byte{'k'}); err != nil {
				return err
			}
		case 'r':
			for left := n; left > 0; {
				chunk := buf
				if uint64(len(chunk)) > left {
					chunk = chunk[:left]
				}
				if _, err := c.Write(chunk); err != nil {
					return err
				}
				left -= uint64(len(chunk))
			}
		case 'p':
			msg := buf[:64]
			for i := uint64(0); i < n; i++ {
				if _, err := io.ReadFull(c, msg); err != nil {
					return err
				}
				if _, err := c.Write(msg); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("unknown operation %q", head[0])
		}
	}
}

// serial serves operations on the virtio-serial port called name for one host connection
// (made before this starts: without one, the guest reads EOF at once), until it ends.
func serial(name string) {
	dirs, _ := filepath.Glob("/sys/class/virtio-ports/*")
	dev := ""
	for _, d := range dirs {
		if b, err := os.ReadFile(filepath.Join(d, "name")); err == nil && strings.TrimSpace(string(b)) == name {
			dev = "/dev/" + filepath.Base(d)
		}
	}
	if dev == "" {
		fail("no virtio-serial port named %s", name)
	}
	f, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		fail("%v", err)
	}
	fmt.Println("READY")
	if err := operations(f); err != nil && err != io.EOF {
		fail("%s: %v", dev, err)
	}
}

func dial(port uint32, text string) {
	fd, err := unix.Socket(unix.AF_VSOCK, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		fail("socket: %v", err)
	}
	if err := unix.Connect(fd, &unix.SockaddrVM{CID: unix.VMADDR_CID_HOST, Port: port}); err != nil {
		fail("connect to host port %d: %v", port, err)
	}
	c := os.NewFile(uintptr(fd), "vsock-conn")
	defer c.Close()
	if _, err := c.Write([]byte(text + "\n")); err != nil {
		fail("write: %v", err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		fail("read reply: %v (got %q)", err, line)
	}
	fmt.Print(line)
}
