package commands

import "strings"

// infoScriptMemory writes INFO memory's scripting fields.
func (s *Server) infoScriptMemory(b *strings.Builder) {
	lua, scripts, cached, functions, libraries := s.scriptingStats()
	field(b, "used_memory_lua", lua)
	field(b, "used_memory_vm_eval", lua)
	field(b, "used_memory_lua_human", humanBytes(lua))
	field(b, "used_memory_scripts_eval", scripts)
	field(b, "number_of_cached_scripts", cached)
	field(b, "number_of_functions", functions)
	field(b, "number_of_libraries", libraries)
	field(b, "used_memory_vm_functions", 0)
	field(b, "used_memory_vm_total", lua)
	field(b, "used_memory_vm_total_human", humanBytes(lua))
	field(b, "used_memory_functions", 0)
	field(b, "used_memory_scripts", scripts)
	field(b, "used_memory_scripts_human", humanBytes(scripts))
}
