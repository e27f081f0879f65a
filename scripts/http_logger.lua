-- http_logger.lua — HTTP/1.x request log from both reassembled streams: method, host, path and the response status,
-- one JSON line per request (to WEIR_HTTP_LOG, default stdout); requests and responses paired in order per flow.
local weir = require "weir"
local out = os.getenv("WEIR_HTTP_LOG")
local log = out and assert(io.open(out, "a")) or io.stdout
local requests = weir.counter("http.requests")
local MAX_HEAD = 16384 -- headers longer than this are not HTTP we parse: stop watching the flow

local esc = weir.json_string -- request bytes: any, escaped as weir's own JSON

local function emit(flow, r)
   local t = flow:tuple()
   log:write(string.format('{"flow_id":%d,"src_ip":"%s","src_port":%d,"dest_ip":"%s","dest_port":%d,'
      .. '"method":%s,"host":%s,"path":%s,"status":%s}\n', flow:id(), t.client_ip, t.client_port,
      t.server_ip, t.server_port, esc(r.method), esc(r.host or ""), esc(r.path), r.status or "null"))
   log:flush()
end

-- Consumes complete heads from one side's buffer; bodies are skipped by Content-Length.
local function parse(flow, st, side)
   local d = st[side]
   while true do
      if d.skip > 0 then
         local n = math.min(d.skip, #d.buf)
         d.skip, d.buf = d.skip - n, d.buf:sub(n + 1)
         if d.skip > 0 then return end
      end
      local e = d.buf:find("\r\n\r\n", 1, true)
      if not e then
         if #d.buf > MAX_HEAD then flow:stop(weir.BOTH) end
         return
      end
      local head = d.buf:sub(1, e + 1)
      d.buf = d.buf:sub(e + 4)
      local len = tonumber(head:match("\r\n[Cc]ontent%-[Ll]ength:%s*(%d+)")) or 0
      if side == weir.CLIENT then
         local m, path = head:match("^(%u+) (%S+) HTTP/%d")
         if m then
            st.pending[#st.pending + 1] = { method = m, path = path, host = head:match("\r\n[Hh]ost:%s*([^\r]+)") }
            requests:inc()
         end
         d.skip = len
      else
         local status = head:match("^HTTP/%d%.%d (%d%d%d)")
         if status and status:match("^1") then
            len = 0 -- an interim response (100 Continue): the final one follows
         else
            local r = table.remove(st.pending, 1)
            if r then
               r.status = status
               emit(flow, r)
               -- no body after HEAD, 204, 304
               if r.method == "HEAD" or status == "204" or status == "304" then len = 0 end
            end
         end
         d.skip = len
      end
   end
end

local function state(flow)
   local st = flow:state_table()
   if not st.pending then
      st.pending = {}
      st[weir.CLIENT] = { buf = "", skip = 0 }
      st[weir.SERVER] = { buf = "", skip = 0 }
   end
   return st
end

return {
   on_new_data = function(flow, side, bytes)
      local st = state(flow)
      local s = flow:new_bytes(side, bytes)
      if not s then return end
      st[side].buf = st[side].buf .. s
      parse(flow, st, side)
   end,
   -- requests whose response never came are logged with status null
   on_conn_end = function(flow)
      local st = flow:state_table()
      for _, r in ipairs(st.pending or {}) do emit(flow, r) end
   end,
}
