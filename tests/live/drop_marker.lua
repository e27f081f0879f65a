-- drop_marker.lua — live drop-integrity test script: drops the first packet of each flow to port 9000 whose new client
-- bytes complete the marker, once; writes the client stream weir reassembled to $WEIR_DROP_STREAM at the flow's end
-- (kept by stream offset, so bytes a dropped packet delivered are replaced when the retransmission delivers them
-- again; new bytes after a hole are a line "gap OFF" in the marks) and one line per sighting of the marker to
-- $WEIR_DROP_MARKS ("drop OFF" or "pass OFF"). Files named by WEIR_ variables, appended to: what the scripts'
-- sandbox allows (lua/README.md), which has no seek.
local weir = require "weir"
local MARKER = "WEIR-DROP-MARKER-7f3a9c"
local function out(var) return assert(io.open(assert(os.getenv(var), var .. " is not set"), "a")) end
local stream, marks = out("WEIR_DROP_STREAM"), out("WEIR_DROP_MARKS")
local parts, ends = {}, {} -- the client stream's chunks, and the offset each ends at

-- Keeps bytes at stream offset off, in place of any kept from off on.
local function keep(off, bytes)
   while #parts > 0 and ends[#ends] - #parts[#parts] >= off do parts[#parts], ends[#ends] = nil, nil end
   local last = ends[#ends] or 0
   if last > off then parts[#parts], ends[#ends] = parts[#parts]:sub(1, #parts[#parts] - (last - off)), off end
   if off ~= (ends[#ends] or 0) then marks:write(string.format("gap %d\n", ends[#ends] or 0)):flush() end
   parts[#parts + 1], ends[#ends + 1] = bytes, off + #bytes
end

local sock = weir.monitor_socket("tcp port 9000")
sock:register(weir.ON_CONN_END, function()
   stream:write(table.concat(parts)):flush()
   parts, ends = {}, {}
end)
sock:register(weir.ON_NEW_DATA, weir.POST_RCV, function(flow, side, n)
   if side ~= weir.CLIENT then return end
   local nx = flow:next(side)
   local bytes = assert(flow:peek(side, nx - n, n))
   keep(nx - n, bytes)
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
