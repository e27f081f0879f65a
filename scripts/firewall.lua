-- firewall.lua — a simple inline firewall: the first rule matching a flow's first packet decides; "drop" gives every
-- packet of the flow the drop verdict (run with weir run in inline mode; weir replay counts the drops).
local weir = require "weir"
-- Rules, first match wins: fields left out match anything. WEIR_FW_DROP_PORTS="8081,23" replaces them.
local rules = {
   { dport = 8081, action = "drop", msg = "upload port closed" },
   { dport = 23, action = "drop", msg = "telnet" },
   { action = "accept" },
}
local env = os.getenv("WEIR_FW_DROP_PORTS")
if env then
   rules = {}
   for p in env:gmatch("%d+") do rules[#rules + 1] = { dport = tonumber(p), action = "drop", msg = "port " .. p } end
   rules[#rules + 1] = { action = "accept" }
end
local dropped_pkts = weir.counter("fw.dropped_packets")
local blocked = weir.counter("fw.blocked_flows")

local function match(r, t)
   return (not r.dport or r.dport == t.server_port) and (not r.sport or r.sport == t.client_port)
      and (not r.dst or r.dst == t.server_ip) and (not r.src or r.src == t.client_ip)
end

local sock = weir.monitor_socket()
sock:register(weir.ON_CONN_START, weir.PRE, function(flow)
   local t = flow:tuple()
   for i = 1, #rules do
      local r = rules[i]
      if match(r, t) then
         if r.action == "drop" then
            flow:state_table().drop = true
            -- PKT_IN's records come before CONN_START's at a hook: this first packet is dropped here
            flow:drop()
            dropped_pkts:inc()
            blocked:inc()
            weir.alert{ msg = "firewall: " .. (r.msg or "drop"), sid = 1000 + i, severity = 2, flow = flow }
         end
         return
      end
   end
end)
-- Every packet of a blocked flow, both directions, before the TCP update.
sock:register(weir.ON_PKT_IN, weir.PRE, function(flow)
   if flow:state_table().drop then
      flow:drop()
      dropped_pkts:inc()
   end
end)
