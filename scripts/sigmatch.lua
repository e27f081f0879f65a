-- sigmatch.lua — byte-pattern signatures matched on the reassembled streams of both directions, across segment
-- boundaries (each side keeps the last longest-pattern-minus-one bytes), like a content-only Snort rule.
local weir = require "weir"
-- Signatures: sid, the bytes, which direction ("to_server", "to_client" or both when left out), a message.
-- WEIR_SIGS="sid:hex[,sid:hex...]" replaces them (hex bytes, both directions).
local sigs = {
   { sid = 3001, content = "/etc/passwd", msg = "path traversal target" },
   { sid = 3002, content = "\x7fELF", dir = "to_client", msg = "ELF executable downloaded" },
   { sid = 3003, content = "User-Agent: sqlmap", dir = "to_server", msg = "sqlmap scanner" },
}
local env = os.getenv("WEIR_SIGS")
if env then
   sigs = {}
   for sid, hex in env:gmatch("(%d+):(%x+)") do
      sigs[#sigs + 1] = { sid = tonumber(sid), content = hex:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end),
         msg = "signature " .. sid }
   end
end
local keep = 0
for _, s in ipairs(sigs) do keep = math.max(keep, #s.content - 1) end
local matches = weir.counter("sigmatch.matches")

return {
   on_new_data = function(flow, side, bytes)
      local new = flow:new_bytes(side, bytes)
      if not new then return end
      local st = flow:state_table()
      local tail = st[side] or ""
      local hay = tail .. new
      local dir = side == weir.CLIENT and "to_server" or "to_client"
      st.seen = st.seen or {}
      for _, s in ipairs(sigs) do
         -- a match must end in the new bytes (one that lies wholly in the tail was reported before)
         if (not s.dir or s.dir == dir) and not st.seen[s.sid] then
            local at = hay:find(s.content, math.max(1, #tail - #s.content + 2), true)
            if at then
               st.seen[s.sid] = true -- once per flow and signature
               matches:inc()
               local off = flow:next(side) - #hay + at - 1
               weir.alert{ msg = string.format("%s (%s, stream offset %d)", s.msg, dir, off), sid = s.sid, severity = 2, flow = flow }
            end
         end
      end
      st[side] = hay:sub(-keep)
   end,
}
