package eventloop

import (
	"errors"
	"log/slog"
	"time"

	"spinel/config"
)

// Start runs a server in the background and returns once it accepts
// connections; Stop it with Shutdown and wait on Done.
func Start(cfg *config.Config, log *slog.Logger) (*Server, error) {
	s, err := New(cfg, log)
	if err != nil {
		return nil, err
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve() }()
	select {
	case <-s.Ready():
		return s, nil
	case err := <-errc:
		if err == nil {
			err = errors.New("server stopped during start-up")
		}
		return nil, err
	case <-time.After(10 * time.Second):
		s.Shutdown()
		return nil, errors.New("server did not become ready in 10s")
	}
}
