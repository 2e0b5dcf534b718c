package commands

// afterCommand runs after every top-level command (and after EXEC as a
// whole): it serves clients blocked on keys that became ready.
func (s *Server) afterCommand() {
	s.handleReadyKeys()
}

// afterExec runs once a transaction's queue has executed.
func (s *Server) afterExec() {}

// propagateDel records the deletion of an expired or evicted key for the AOF.
func (s *Server) propagateDel(db *database, key []byte) {}

// propagateAs replaces what the current command propagates to the AOF, as
// Redis's rewriteClientCommandVector: non-deterministic or blocking commands
// are logged by their effect (SPOP as SREM, a served BLPOP as LPOP,
// INCRBYFLOAT as SET ... KEEPTTL). The args are copied.
func (c *Client) propagateAs(argv ...[]byte) { c.srv.propagateOverride(c, argv) }

// alsoPropagate logs an extra command besides (or instead of, after
// propagateAs with no args) the current one, as Redis's alsoPropagate.
func (s *Server) alsoPropagate(db *database, argv ...[]byte) { s.propagateExtra(db, argv) }

// propagateOverride and propagateExtra are filled in by the AOF.
func (s *Server) propagateOverride(c *Client, argv [][]byte) {}
func (s *Server) propagateExtra(db *database, argv [][]byte) {}
