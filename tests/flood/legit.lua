-- legit.lua — tests/flood: every legitimate flow of a weir_flood capture (client ports 49152 and up)
-- is written at its end to $WEIR_FLOOD_OUT: a line "flow CLIENT_IP CLIENT_PORT REASON MIDSTREAM" then,
-- per side (c, s), a line "SIDE LENGTH GAP_BYTES HOLES" and that many bytes: what NEW_DATA delivered,
-- in delivery order. HOLES counts NEW_DATA calls that did not start where the last one ended.
local weir = require "weir"
local out = assert(io.open(assert(os.getenv("WEIR_FLOOD_OUT"), "WEIR_FLOOD_OUT is not set"), "a"))

local sock = weir.monitor_socket("tcp portrange 49152-65535")
sock:register(weir.ON_NEW_DATA, weir.POST_RCV, function(flow, side, n)
   local st = flow:state_table()
   local k = side == weir.CLIENT and 1 or 2
   st[k] = st[k] or { parts = {}, at = 0, holes = 0 }
   local s = st[k]
   local nx = flow:next(side)
   if nx - n ~= s.at then s.holes = s.holes + 1 end
   s.parts[#s.parts + 1] = flow:new_bytes(side, n)
   s.at = nx
end)
sock:register(weir.ON_CONN_END, function(flow, side, reason)
   local st, t = flow:state_table(), flow:tuple()
   out:write(string.format("flow %s %d %s %s\n", t.client_ip, t.client_port, tostring(reason),
                           tostring(flow:midstream())))
   for k, name in ipairs({ "c", "s" }) do
      local s = st[k] or { parts = {}, holes = 0 }
      local bytes = table.concat(s.parts)
      local gap = flow:counters(k == 1 and weir.CLIENT or weir.SERVER).gap_bytes
      out:write(string.format("%s %d %d %d\n", name, #bytes, gap, s.holes), bytes)
   end
   out:flush()
end)
