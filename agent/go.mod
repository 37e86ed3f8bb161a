module vessel.dev/agent

go 1.26.8

require (
	github.com/containerd/ttrpc v1.2.10
	github.com/hashicorp/yamux v0.1.2
	github.com/vishvananda/netlink v1.3.1
	golang.org/x/sys v0.46.0
	google.golang.org/grpc v1.81.1
	google.golang.org/protobuf v1.36.12
)

require (
	github.com/containerd/log v0.1.0 // indirect
	github.com/sirupsen/logrus v1.9.4 // indirect
	github.com/vishvananda/netns v0.0.5 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260226221140-a57be14db171 // indirect
)
