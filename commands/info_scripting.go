package commands

import "strings"

// infoScriptMemory writes INFO memory's scripting fields, as Redis 7.0:
// the EVAL interpreter and cache, the functions interpreter and libraries,
// and their totals.
func (s *Server) infoScriptMemory(b *strings.Builder) {
	st := s.scriptingStats()
	field(b, "used_memory_lua", st.vmEval)
	field(b, "used_memory_vm_eval", st.vmEval)
	field(b, "used_memory_lua_human", humanBytes(st.vmEval))
	field(b, "used_memory_scripts_eval", st.scriptsEval)
	field(b, "number_of_cached_scripts", st.cached)
	field(b, "number_of_functions", st.nfunctions)
	field(b, "number_of_libraries", st.nlibs)
	field(b, "used_memory_vm_functions", st.vmFunctions)
	field(b, "used_memory_vm_total", st.vmEval+st.vmFunctions)
	field(b, "used_memory_vm_total_human", humanBytes(st.vmEval+st.vmFunctions))
	field(b, "used_memory_functions", st.functions)
	field(b, "used_memory_scripts", st.scriptsEval+st.functions)
	field(b, "used_memory_scripts_human", humanBytes(st.scriptsEval+st.functions))
}
