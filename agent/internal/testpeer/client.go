package testpeer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"time"

	"github.com/containerd/ttrpc"
	"github.com/hashicorp/yamux"

	"vessel.dev/agent/internal/testpb"
)

// ClientOptions configures RunClient.
type ClientOptions struct {
	Connect      string // unix socket path
	TTRPCOnly    bool
	Checks       []string
	CheckTimeout time.Duration // per check; 0 = defaultCheckTimeout
	// GoAwayWait bounds await-goaway's wait for the server's GoAway; 0 = awaitGoAwayLimit.
	// A test of a server that never sends one shortens it.
	GoAwayWait time.Duration
	Log        *log.Logger // required
}

const defaultCheckTimeout = 120 * time.Second

// CheckResult is one line of client output.
type CheckResult struct {
	Check  string `json:"check"`
	OK     bool   `json:"ok"`
	MS     int64  `json:"ms"`
	Detail string `json:"detail"`
}

// checkEnv is what a check may use.
type checkEnv struct {
	opts ClientOptions
	sess *yamux.Session // nil in ttrpc-only mode
	api  testpb.InteropTestClient
	gone *goAwayWatch // nil in ttrpc-only mode
}

// checkFunc runs one check; it returns a detail for the report, or an error.
type checkFunc func(ctx context.Context, env *checkEnv) (string, error)

// checks maps check names to their implementations.
var checks = map[string]checkFunc{
	"unary":             checkUnary,
	"metadata":          checkMetadata,
	"server-stream":     checkServerStream,
	"client-stream":     checkClientStream,
	"bidi-stream":       checkBidiStream,
	"concurrent64":      checkConcurrent64,
	"deadline":          checkDeadline,
	"handler-error":     checkHandlerError,
	"oversize-response": checkOversizeResponse,
	"oversize-request":  checkOversizeRequest,
	"even-id":           checkEvenID,
	"raw-parallel":      checkRawParallel,
	"source":            checkSource,
	"fin":               checkFin,
	"rst-from-server":   checkFinFromServer,
	"hold-release":      checkHoldRelease,
	"slow-sink":         checkSlowSink,
	"raw-refusal":       checkRawRefusal,
	"goaway":            checkLocalGoAway,
	"await-goaway":      checkAwaitGoAway,
}

// RunClient dials the server, runs the checks in order and writes one JSON line per
// check to out. It reports whether all checks passed.
func RunClient(ctx context.Context, opts ClientOptions, out io.Writer) (bool, error) {
	conn, err := net.Dial("unix", opts.Connect)
	if err != nil {
		return false, err
	}
	env := &checkEnv{opts: opts}
	var ctl net.Conn = conn
	if !opts.TTRPCOnly {
		env.gone = newGoAwayWatch(conn)
		sess, err := yamux.Client(env.gone, yamuxConfig(0, 0, 0, 0, opts.Log.Writer()))
		if err != nil {
			_ = conn.Close()
			return false, err
		}
		defer sess.Close()
		env.sess = sess
		if ctl, err = sess.OpenStream(); err != nil {
			return false, fmt.Errorf("open control stream: %w", err)
		}
	}
	client := ttrpc.NewClient(ctl)
	defer client.Close()
	env.api = testpb.NewInteropTestClient(client)

	timeout := opts.CheckTimeout
	if timeout <= 0 {
		timeout = defaultCheckTimeout
	}
	enc := json.NewEncoder(out)
	allOK := true
	for _, name := range opts.Checks {
		res := runCheck(ctx, env, name, timeout)
		allOK = allOK && res.OK
		if err := enc.Encode(res); err != nil {
			return false, err
		}
	}
	return allOK, nil
}

func runCheck(ctx context.Context, env *checkEnv, name string, timeout time.Duration) CheckResult {
	start := time.Now()
	res := CheckResult{Check: name}
	fn, ok := checks[name]
	if !ok {
		res.Detail = "unknown check"
		return res
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	detail, err := runGuarded(cctx, env, fn)
	res.MS = time.Since(start).Milliseconds()
	if err != nil {
		res.Detail = err.Error()
		return res
	}
	res.OK, res.Detail = true, detail
	return res
}

// runGuarded turns a panicking check into a failed one, keeping the output one line per check.
func runGuarded(ctx context.Context, env *checkEnv, fn checkFunc) (detail string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("check panicked: %v", p)
		}
	}()
	return fn(ctx, env)
}

// needYamux fails checks that need raw streams when running ttrpc-only.
func (env *checkEnv) needYamux() error {
	if env.sess == nil {
		return fmt.Errorf("needs yamux mode")
	}
	return nil
}

// openRaw opens a raw stream and claims id on it. The stream is closed when ctx ends.
func (env *checkEnv) openRaw(ctx context.Context, id string) (*yamux.Stream, error) {
	if err := env.needYamux(); err != nil {
		return nil, err
	}
	st, err := env.sess.OpenStream()
	if err != nil {
		return nil, fmt.Errorf("open stream for %q: %w", id, err)
	}
	context.AfterFunc(ctx, func() { _ = st.Close() })
	if err := claimRawStream(st, id); err != nil {
		_ = st.Close()
		return nil, err
	}
	return st, nil
}

// ttrpcConn is a fresh connection to the ttrpc server for hand-written frames: a raw
// ttrpc:NAME stream in yamux mode, a second unix connection in ttrpc-only mode.
func (env *checkEnv) ttrpcConn(ctx context.Context, name string) (net.Conn, error) {
	var c net.Conn
	if env.sess == nil {
		var err error
		if c, err = net.Dial("unix", env.opts.Connect); err != nil {
			return nil, err
		}
	} else {
		st, err := env.openRaw(ctx, "ttrpc:"+name)
		if err != nil {
			return nil, err
		}
		c = st
	}
	context.AfterFunc(ctx, func() { _ = c.Close() })
	return c, nil
}
