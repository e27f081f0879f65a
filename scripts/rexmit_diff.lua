-- rexmit_diff.lua — evasion detector: a retransmission (or out-of-order overlap) carrying different bytes than the first copy.
local weir = require "weir"
local hits = weir.counter("rexmit_diff.alerts")
local sock = weir.monitor_socket()
local function check(flow, side, reason)
   if reason ~= weir.AN_REXMIT_DIFFERENT and reason ~= weir.AN_OVERLAP_DIFFERENT then return end
   hits:inc()
   local p = flow:packet()
   weir.alert{ msg = string.format("%s by the %s at seq %u (%d bytes)", weir.anomaly_names[reason],
      side == weir.CLIENT and "client" or "server", p and p.tcp.seq or 0, p and p.payload_len or 0),
      sid = 2000 + reason, severity = 1, flow = flow }
end
-- the sender's checks raise anomalies at POST_SND, the receiver's (reassembly) at POST_RCV
sock:register(weir.ON_ANOMALY, weir.POST_SND, check)
sock:register(weir.ON_ANOMALY, weir.POST_RCV, check)
