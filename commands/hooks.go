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
