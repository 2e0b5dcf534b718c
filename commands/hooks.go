package commands

// afterCommand runs after every top-level command (and after EXEC as a
// whole): it writes the command's propagation unit, then serves clients
// blocked on keys that became ready (each served pop is its own unit).
func (s *Server) afterCommand() {
	s.flushPropagation()
	if len(s.readyKeys) > 0 {
		s.handleReadyKeys()
		s.flushPropagation()
	}
}

// afterExec runs once a transaction's queue has executed.
func (s *Server) afterExec() {}

// propagateAs replaces what the current command propagates to the AOF, as
// Redis's rewriteClientCommandVector: non-deterministic or blocking commands
// are logged by their effect (SPOP as SREM, a served BLPOP as LPOP,
// INCRBYFLOAT as SET ... KEEPTTL). The args are copied.
func (c *Client) propagateAs(argv ...[]byte) { c.srv.propagateOverride(c, argv) }

// alsoPropagate logs an extra command besides (or instead of, after
// propagateAs with no args) the current one, as Redis's alsoPropagate.
func (s *Server) alsoPropagate(db *database, argv ...[]byte) { s.propagateExtra(db, argv) }
