-- drop_integrity_spec.lua — inline drops through weir replay -s: a dropped packet never reached its receiver, so
-- weir's streams (weir replay --write-streams) and states must not keep it (tests/pcap/drop_integrity, its README).
local H = dofile("lua/spec/helper.lua")
local CAPTURE = "tests/pcap/drop_integrity/input.pcap"
local REQ = "GET /index.html HTTP/1.1\r\n"

-- Drops every packet whose new bytes hold EVILMARKER (counted per client port), and at POST_RCV
-- every RST: both decided after the receiver's update, the case that must be undone.
local DETECTOR = [[
local weir = require "weir"
return {
   on_new_data = function(flow, side, n)
      local b = flow:new_bytes(side, n)
      if b and b:find("EVILMARKER", 1, true) then
         weir.counter("marker_" .. flow:tuple().client_port):inc()
         weir.drop()
      end
   end,
   on_pkt_in = function(flow)
      local p = flow:packet()
      if p and p.tcp.rst then weir.counter("rst_dropped"):inc() weir.drop() end
   end,
}
]]

local function by_port(r)
   local t = {}
   for _, f in ipairs(r.flows) do
      t[f.src_port] = t[f.src_port] or {}
      table.insert(t[f.src_port], f)
   end
   return t
end

describe("a drop at POST_RCV", function()
   local r, flows
   setup(function()
      r = H.replay{ scripts = { H.script(DETECTOR) }, pcaps = { CAPTURE }, args = { "--write-streams", "@DIR@/streams" } }
      flows = by_port(r)
   end)

   it("makes each retransmission of the dropped bytes new data again, so the detector drops every copy", function()
      assert.are.equal(0, r.rc, r.stderr)
      assert.are.equal(3, r.stats.counters.marker_40020)
      local f = flows[40020][1]
      assert.are.equal(#REQ, f.streams.toserver.delivered)
      assert.are.equal(REQ, H.slurp(r.dir .. "/streams/" .. f.flow_id .. ".c2s"))
   end)

   it("leaves the stream the receiver got: the retransmission that passed, not the dropped copy", function()
      assert.are.equal(1, r.stats.counters.marker_40021)
      assert.are.equal(1, #flows[40021])
      local f = flows[40021][1]
      assert.are.equal(REQ .. "X-Attack: GOODSTUFF!\r\n", H.slurp(r.dir .. "/streams/" .. f.flow_id .. ".c2s"))
      assert.are.equal("fin", f.flow.reason)
      assert.are.equal(0, f.streams.toserver.gap_bytes)
   end)

   it("of a RST leaves the connection open: one flow, ended by its FIN, the whole response", function()
      assert.are.equal(1, r.stats.counters.rst_dropped)
      assert.are.equal(1, #flows[40022])
      local f = flows[40022][1]
      assert.are.equal("fin", f.flow.reason)
      assert.are.equal("time_wait", f.tcp.server_state) -- it closed first, by FIN: the RST closed nobody
      assert.are.equal("HTTP/1.1 200 OK\r\n\r\nbody after the RST", H.slurp(r.dir .. "/streams/" .. f.flow_id .. ".s2c"))
      assert.are.equal(0, r.stats.closes.rst or 0)
   end)

   it("counts every dropped packet, and the sender's counters still hold it", function()
      assert.are.equal(3 + 1 + 1, r.stats.drops)
      assert.are.equal(H.tshark_count(CAPTURE, "tcp.srcport==40020"), flows[40020][1].flow.pkts_toserver)
   end)
end)

describe("a drop at PRE", function()
   it("skips the receiver's update: the RST does not end the flow and POST_RCV is not raised for it", function()
      local s = H.script([[
local weir = require "weir"
local sock = weir.monitor_socket("tcp port 40022")
sock:register(weir.ON_PKT_IN, weir.PRE, function(flow) if flow:packet().tcp.rst then weir.drop() end end)
sock:register(weir.ON_PKT_IN, weir.POST_RCV, function(flow) if flow:packet().tcp.rst then weir.counter("rst_post_rcv"):inc() end end)
]])
      local r = H.replay{ scripts = { s }, pcaps = { CAPTURE } }
      assert.are.equal(0, r.rc, r.stderr)
      assert.are.equal(1, r.stats.drops)
      assert.is_nil(r.stats.counters.rst_post_rcv)
      local f = by_port(r)[40022][1]
      assert.are.equal("fin", f.flow.reason)
      assert.are.equal("time_wait", f.tcp.server_state)
      assert.are.equal(37, f.streams.toclient.delivered)
   end)
end)
