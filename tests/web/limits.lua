-- limits.lua — trips both Lua limits for the web tests: every connection's start loops until the time budget
-- stops it (budget_stops), every NEW_DATA asks for a 64 MiB string, past a small heap cap (memory_errors).
return {
	on_conn_start = function(flow) while true do end end,
	on_new_data = function(flow, side) return #string.rep("x", 2^26) end,
}
