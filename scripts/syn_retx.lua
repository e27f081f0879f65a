-- syn_retx.lua — the seed's Listing 1: count retransmitted SYNs (a UDE on REXMIT filtered to SYN without ACK, at PRE).
local weir = require "weir"
local syn_retx = weir.counter("syn_retx")
local ude_syn = weir.define_event(weir.ON_REXMIT, function(flow, side)
   local p = flow:packet()
   return p.tcp.syn and not p.tcp.ack
end)
local msock = weir.monitor_socket()                 -- all TCP flows; weir.monitor_socket("tcp port 80")
msock:register(ude_syn, weir.PRE_TCP, function(flow, side) syn_retx:inc() end)
