// Package spineltest starts Spinel servers inside a test process, on free
// ports, for tests that talk to it over the network.
package spineltest

import (
	"io"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"spinel/config"
	"spinel/eventloop"
	"spinel/eventloop/servertest"
)

// Instance is a running in-process Spinel.
type Instance struct {
	Srv  *eventloop.Server
	Addr string
	Port int
	Dir  string
}

// Start runs Spinel in-process with redis-server style args (on a free port
// unless args set one) and stops it when the test ends. Set SPINEL_TEST_LOG=1
// to see its log.
func Start(t testing.TB, args ...string) *Instance {
	t.Helper()
	port := servertest.FreePort(t)
	dir := t.TempDir()
	full := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir}, args...)
	cfg, err := config.Load(full)
	if err != nil {
		t.Fatalf("spineltest: config %v: %v", full, err)
	}
	var w io.Writer = io.Discard
	if os.Getenv("SPINEL_TEST_LOG") != "" {
		w = os.Stderr
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := eventloop.Start(cfg, log)
	if err != nil {
		t.Fatalf("spineltest: start: %v", err)
	}
	inst := &Instance{Srv: srv, Addr: "127.0.0.1:" + strconv.Itoa(port), Port: port, Dir: dir}
	t.Cleanup(inst.Stop)
	return inst
}

// Stop shuts the server down and waits for it.
func (i *Instance) Stop() {
	select {
	case <-i.Srv.Done():
		return
	default:
	}
	i.Srv.Shutdown()
	select {
	case <-i.Srv.Done():
	case <-time.After(15 * time.Second):
	}
}
