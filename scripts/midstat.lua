-- midstat.lua — a per-connection state table like mOS's midstat: each flow's two TCP states, bytes and age,
-- kept current from state changes; flows per state as counters, the table printed every WEIR_MIDSTAT_SEC seconds.
local weir = require "weir"
local every_ms = (tonumber(os.getenv("WEIR_MIDSTAT_SEC")) or 10) * 1000
local out = os.getenv("WEIR_MIDSTAT_OUT") -- file to append the tables to (default stderr)
local conns = {}                          -- flow id -> row (the script's whole table)
local active = weir.counter("midstat.active")
local seen = weir.counter("midstat.flows")
local established = weir.counter("midstat.established")
local closed = {}
for _, r in pairs(weir.close_names) do closed[r] = weir.counter("midstat.closed." .. r) end

local function print_table()
   local f = out and io.open(out, "a") or io.stderr
   f:write(string.format("%-6s %-40s %-12s %-12s %10s %10s\n", "id", "client -> server", "client", "server", "c2s", "s2c"))
   for id, c in pairs(conns) do
      f:write(string.format("%-6d %-40s %-12s %-12s %10d %10d\n", id, c.name, c.cstate, c.sstate, c.c2s, c.s2c))
   end
   if f ~= io.stderr then f:close() end
   weir.timer(every_ms, print_table)
end
weir.timer(every_ms, print_table)

return {
   on_conn_start = function(flow)
      local t = flow:tuple()
      conns[flow:id()] = { name = string.format("%s:%d -> %s:%d", t.client_ip, t.client_port, t.server_ip, t.server_port),
         cstate = flow:state(weir.CLIENT), sstate = flow:state(weir.SERVER), c2s = 0, s2c = 0 }
      seen:inc(); active:inc()
   end,
   on_handshake_done = function(flow) established:inc() end,
   on_state_change = function(flow, side)
      local c = conns[flow:id()]
      if c then c.cstate, c.sstate = flow:state(weir.CLIENT), flow:state(weir.SERVER) end
   end,
   on_new_data = function(flow, side, bytes)
      local c = conns[flow:id()]
      if c then
         if side == weir.CLIENT then c.c2s = c.c2s + bytes else c.s2c = c.s2c + bytes end
      end
   end,
   on_conn_end = function(flow, side, reason)
      if conns[flow:id()] then
         conns[flow:id()] = nil
         active:inc(-1)
      end
      closed[weir.close_names[reason]]:inc()
   end,
}
