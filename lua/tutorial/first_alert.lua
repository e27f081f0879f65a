-- first_alert.lua — the guide's tutorial (lua/README.md): alert on HTTP requests for a missing page, once per flow.
local weir = require "weir"
local not_found = weir.counter("tutorial.not_found")

return {
   on_new_data = function(flow, side, n)
      if side ~= weir.SERVER then return end          -- responses only
      local st = flow:state_table()                   -- per flow, freed at conn_end
      local bytes = flow:new_bytes(side, n)
      if bytes and not st.alerted and bytes:find("^HTTP/1%.%d 404") then
         st.alerted = true
         not_found:inc()
         weir.alert{ msg = "HTTP 404 from the server", sid = 9001, severity = 3, flow = flow }
      end
   end,
}
