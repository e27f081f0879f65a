-- drop_port.lua — live test script: every packet of TCP connections to or from port 8081 gets the drop verdict.
local weir = require "weir"
local sock = weir.monitor_socket("tcp port 8081")
sock:register(weir.ON_PKT_IN, weir.PRE, function() weir.drop() end)
