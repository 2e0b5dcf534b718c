package eventloop

import (
	"os"
	"time"
)

// loadAOF replays the AOF into the executor while the loop keeps answering
// clients with -LOADING: persistence parses on this goroutine and hands the
// commands over in chunks, each applied on the loop between client events.
func (s *Server) loadAOF() {
	a := s.aofToLoad
	start := time.Now()
	var (
		buf   []byte
		cmds  [][][]byte
		done  int64
		total int64
	)
	flush := func() error {
		var err error
		batch, d, t := cmds, done, total
		ok := s.Run(func() {
			for _, argv := range batch {
				if err = s.exec.LoadCommand(argv); err != nil {
					return
				}
			}
			s.exec.LoadingProgress(d, t)
		})
		if !ok {
			return errStopped
		}
		cmds, buf = nil, nil
		return err
	}
	stats, err := a.Load(func(argv [][]byte) error {
		// argv is only valid during the call: copy into the chunk buffer.
		cp := make([][]byte, len(argv))
		for i, arg := range argv {
			n := len(buf)
			buf = append(buf, arg...)
			cp[i] = buf[n:len(buf):len(buf)]
		}
		cmds = append(cmds, cp)
		if len(cmds) >= 4096 || len(buf) >= 4<<20 {
			return flush()
		}
		return nil
	}, func(d, t int64) { done, total = d, t })
	if err == nil {
		err = flush()
	}
	if err != nil {
		s.log.Error("Fatal error loading the AOF: the server stops (fix or truncate the file, see redis-check-aof)", "err", err)
		s.loadErr.Store(err)
		s.stopEngine()
		return
	}
	s.Run(func() {
		s.exec.FinishLoading()
		s.exec.SetLoading(false, 0)
	})
	s.log.Info("DB loaded from append only file", "seconds", time.Since(start).Seconds(),
		"files", stats.Files, "commands", stats.Commands, "bytes", stats.Bytes)
	if stats.Truncated {
		s.log.Warn("AOF loaded anyway because aof-load-truncated is enabled: its truncated tail was cut",
			"file", stats.TruncatedFile, "offset", stats.TruncatedOffset)
	}
}

// errStopped: the loop went away during loading.
var errStopped = os.ErrClosed
