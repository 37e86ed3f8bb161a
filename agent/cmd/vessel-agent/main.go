// Command vessel-agent is the guest agent: PID 1 in a vessel microVM. As PID 1 it boots
// the guest (initsys), then serves vessel.agent.v1.Agent over yamux on the virtio-serial
// port "vessel.agent" (or vsock). Not PID 1, `vessel-agent --listen /path.sock` serves
// the same over a unix socket without init duties, for tests on a host.
package main

import (
	"flag"
	"fmt"
	"os"

	"vessel.dev/agent/internal/agentsvc"
)

func main() {
	if os.Getpid() == 1 {
		agentsvc.RunPID1() // never returns
	}
	listen := flag.String("listen", "", "serve on this unix socket (host mode, no init duties)")
	debug := flag.Bool("debug", false, "verbose logs")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println(agentsvc.VersionString())
		return
	}
	if *listen == "" {
		fmt.Fprintln(os.Stderr, "vessel-agent: not PID 1; use --listen /path.sock to serve on a unix socket")
		os.Exit(2)
	}
	if err := agentsvc.RunListen(*listen, *debug); err != nil {
		fmt.Fprintf(os.Stderr, "vessel-agent: %v\n", err)
		os.Exit(1)
	}
}
