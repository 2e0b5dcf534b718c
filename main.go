// Command spinel is a Redis-compatible server: a drop-in replacement for
// redis-server for people who use Redis as a state store and cache.
//
// Usage, as redis-server:
//
//	spinel [/path/to/redis.toml] [--config path] [--option value ...]
package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"spinel/commands"
	"spinel/config"
	"spinel/eventloop"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run starts the server and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := config.Load(args)
	switch {
	case errors.Is(err, config.ErrVersion):
		fmt.Fprintf(stdout, "Spinel server v=%s (Redis-compatible) go\n", commands.Version)
		return 0
	case errors.Is(err, config.ErrHelp):
		fmt.Fprint(stdout, usage)
		return 0
	case err != nil:
		fmt.Fprintf(stderr, "\n*** FATAL CONFIG FILE ERROR (Redis %s) ***\n%v\n", commands.Version, err)
		return 1
	}
	log, closeLog, err := newLogger(cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "spinel: %v\n", err)
		return 1
	}
	defer closeLog()

	// SPINEL_CPUPROFILE=path writes a CPU profile until shutdown (pprof).
	if path := os.Getenv("SPINEL_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	raiseOpenFilesLimit(cfg.MaxClients, log)
	if cfg.Save != "" {
		log.Warn("RDB snapshots are not supported: 'save' is ignored; persist with appendonly yes", "save", cfg.Save)
	}
	srv, err := eventloop.New(cfg, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	if cfg.Pidfile != "" {
		if err := os.WriteFile(cfg.Pidfile, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644); err != nil {
			log.Warn("Failed to write PID file", "file", cfg.Pidfile, "err", err)
		} else {
			defer os.Remove(cfg.Pidfile)
		}
	}
	// A file size limit must surface as a write error (-MISCONF until the
	// disk takes data again), not kill the process.
	signal.Ignore(syscall.SIGXFSZ)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		sig := <-sigs
		log.Warn("Received signal, scheduling shutdown...", "signal", sig.String())
		srv.Shutdown()
	}()
	log.Info("Server initialized", "version", commands.Version, "port", cfg.Port,
		"pid", os.Getpid(), "config", cfg.File)
	go func() {
		<-srv.Ready()
		log.Info("Ready to accept connections", "bind", cfg.Bind, "port", cfg.Port)
	}()
	if err := srv.Serve(); err != nil {
		log.Error("server stopped", "err", err)
		return 1
	}
	log.Info("Spinel is now ready to exit, bye bye...")
	return 0
}

// newLogger builds the slog logger from loglevel and logfile.
func newLogger(cfg *config.Config, stderr io.Writer) (*slog.Logger, func(), error) {
	w := stderr
	closeFn := func() {}
	if cfg.Logfile != "" {
		f, err := os.OpenFile(cfg.Logfile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, nil, fmt.Errorf("open logfile: %w", err)
		}
		w = f
		closeFn = func() { _ = f.Close() }
	}
	level := slog.LevelInfo
	switch cfg.Loglevel {
	case "debug":
		level = slog.LevelDebug
	case "verbose":
		level = slog.LevelDebug + 2
	case "warning":
		level = slog.LevelWarn
	case "nothing":
		level = slog.LevelError + 100
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})), closeFn, nil
}

const usage = `Usage: spinel [/path/to/redis.toml] [options] [-]
       spinel - (read config from stdin)
       spinel -v or --version
       spinel -h or --help

Examples:
       spinel (run the server with default config)
       spinel redis.toml
       spinel --port 7777
       spinel --maxmemory 512mb --maxmemory-policy allkeys-lru --appendonly yes --save ""
`

// raiseOpenFilesLimit lifts RLIMIT_NOFILE to fit maxclients plus the
// server's own descriptors, as Redis's adjustOpenFilesLimit does, and says
// so; if the hard limit is lower it uses what it can and warns.
func raiseOpenFilesLimit(maxClients int, log *slog.Logger) {
	const reserved = 32 // listeners, AOF files, log
	want := uint64(maxClients + reserved)
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur >= want {
		return
	}
	old := lim.Cur
	lim.Cur = min(want, lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		log.Warn("Unable to raise the open files limit", "err", err)
		return
	}
	if lim.Cur < want {
		log.Warn("You requested maxclients that the open files limit cannot serve: raise the hard limit (ulimit -Hn)",
			"maxclients", maxClients, "open_files_limit", lim.Cur)
		return
	}
	log.Info("Increased maximum number of open files", "from", old, "to", lim.Cur)
}
