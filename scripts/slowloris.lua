-- slowloris.lua — half-open and slow-loris connections: flows that time out before their handshake completes, and
-- established flows whose client never finished its request head ("\r\n\r\n") before going idle.
local weir = require "weir"
local half_open = weir.counter("slowloris.half_open")
local slow = weir.counter("slowloris.slow_heads")
-- a client still sending its head after this long is reported once, without waiting for the timeout
local HEAD_MS = tonumber(os.getenv("WEIR_SLOWLORIS_HEAD_MS")) or 30000

local function head_done(flow)
   local st = flow:state_table()
   return st.done or false
end

return {
   on_handshake_done = function(flow)
      flow:state_table().up = true
      weir.timer(HEAD_MS, function(f)
         local st = f:state_table()
         if not st.done and not st.reported then
            st.reported = true
            slow:inc()
            weir.alert{ msg = string.format("slow-loris: request head unfinished after %d ms (%d bytes)", HEAD_MS, st.head or 0),
               sid = 4002, severity = 2, flow = f }
         end
      end, flow)
   end,
   on_new_data = function(flow, side, bytes)
      if side ~= weir.CLIENT then return end
      local st = flow:state_table()
      if st.done then return end
      st.head = (st.head or 0) + bytes
      local tail = (st.tail or "") .. (flow:new_bytes(side, bytes) or "")
      if tail:find("\r\n\r\n", 1, true) then st.done = true else st.tail = tail:sub(-3) end
   end,
   on_timeout = function(flow)
      local st = flow:state_table()
      if not st.up then
         half_open:inc()
         weir.alert{ msg = string.format("half-open connection timed out (client %s, server %s)",
            flow:state(weir.CLIENT), flow:state(weir.SERVER)), sid = 4001, severity = 3, flow = flow }
      elseif not head_done(flow) and not st.reported then
         st.reported = true
         slow:inc()
         weir.alert{ msg = "slow-loris: idle with an unfinished request head", sid = 4002, severity = 2, flow = flow }
      end
   end,
}
