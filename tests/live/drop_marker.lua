-- drop_marker.lua — live drop-integrity test script: drops the first packet of each flow to port 9000 whose new client
-- bytes complete the marker, once; writes the client stream weir reassembled to $WEIR_DROP_OUT.stream (at stream
-- offsets, so bytes a dropped packet delivered are overwritten when the retransmission delivers them again) and one
-- line per sighting of the marker to $WEIR_DROP_OUT.marks ("drop OFF" or "pass OFF").
local weir = require "weir"
local MARKER = "WEIR-DROP-MARKER-7f3a9c"
local out = assert(os.getenv("WEIR_DROP_OUT"), "WEIR_DROP_OUT is not set")
local stream = assert(io.open(out .. ".stream", "wb"))
local marks = assert(io.open(out .. ".marks", "w"))
local sock = weir.monitor_socket("tcp port 9000")
sock:register(weir.ON_NEW_DATA, weir.POST_RCV, function(flow, side, n)
   if side ~= weir.CLIENT then return end
   local nx = flow:next(side)
   local bytes = assert(flow:peek(side, nx - n, n))
   stream:seek("set", nx - n)
   stream:write(bytes)
   stream:flush()
   -- the marker may straddle the previous packet: look from len-1 bytes before the new ones
   local back = math.min(#MARKER - 1, nx - n)
   local win = back > 0 and (flow:peek(side, nx - n - back, back) or "") .. bytes or bytes
   local at = win:find(MARKER, 1, true)
   if not at then return end
   local st = flow:state_table()
   marks:write(string.format("%s %d\n", st.dropped and "pass" or "drop", nx - n - back + at - 1))
   marks:flush()
   if not st.dropped then
      st.dropped = true
      weir.drop()
   end
end)
