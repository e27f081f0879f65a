-- flood_stall.lua — live_flood_stop's script: a SYN to port 9999 sets a timer whose callback holds
-- its worker for 2 s of CPU time, in the worker's tick: after the worker found its hand-off ring
-- empty, before it looks whether weir is stopping.
local weir = require "weir"

local function stall()
	local t = os.clock()
	while os.clock() - t < 2 do end
end

return { filter = "tcp port 9999", on_conn_start = function() weir.timer(1, stall) end }
