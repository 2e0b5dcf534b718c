package commands

// scriptBusy reports whether a script has run longer than
// busy-reply-threshold: other clients then get -BUSY, except for the
// commands flagged allow-busy (SCRIPT KILL, FUNCTION KILL, SHUTDOWN NOSAVE).
// (Filled in by the scripting engine.)
func (s *Server) scriptBusy() bool { return false }

// busyError is the -BUSY reply while a script runs too long.
func (s *Server) busyError() string {
	return "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
}

// scriptingStats reports the scripting engine's memory and counts for INFO
// memory: Lua VM bytes, cached script bytes, cached scripts, functions and
// libraries. (Filled in by the scripting engine.)
func (s *Server) scriptingStats() (lua, scripts, cached, functions, libraries int64) {
	return 0, 0, 0, 0, 0
}
