-- api_spec.lua — the Lua API's semantics through weir replay -s: hooks, drop verdict, UDE chains, table form, order,
-- timers, stream peek/view, state tables, error containment, the loop budget and weir check.
local H = dofile("lua/spec/helper.lua")
local SAMPLE = "tests/data/sample.pcap"

describe("hooks", function()
   it("PRE sees a side's state before the packet, POST_RCV after it", function()
      local s = H.script([[
local weir = require "weir"
local pre, post = weir.counter("pre_syn_sent"), weir.counter("post_syn_sent")
local pre_calls = weir.counter("pre_calls")
local sock = weir.monitor_socket()
sock:register(weir.ON_CONN_START, weir.PRE, function(flow)
   pre_calls:inc()
   if flow:state(weir.CLIENT) == "syn_sent" then pre:inc() end
end)
sock:register(weir.ON_CONN_START, weir.POST_RCV, function(flow) if flow:state(weir.CLIENT) == "syn_sent" then post:inc() end end)
]])
      local r = H.replay{ scripts = { s }, pcaps = { SAMPLE } }
      assert.are.equal(r.stats.flows.created, r.stats.counters.pre_calls)
      assert.are.equal(0, r.stats.counters.pre_syn_sent)
      assert.are.equal(r.stats.flows.created, r.stats.counters.post_syn_sent)
   end)
   it("a hook that never raises the event is an error with file:line at load", function()
      local s = H.script('local weir = require "weir"\nweir.monitor_socket():register(weir.ON_NEW_DATA, weir.PRE, print)\n')
      local r = H.replay{ scripts = { s }, pcaps = { SAMPLE } }
      assert.are.equal(65, r.rc)
      assert.is_truthy(r.stderr:find(s:match("[^/]*$") .. ":2:", 1, true))
   end)
end)

describe("UDEs", function()
   it("chain: a UDE on a UDE fires only when both filters agree, each filter run once per record", function()
      local s = H.script([[
local weir = require "weir"
local data, big, calls = weir.counter("data"), weir.counter("big"), weir.counter("filter_calls")
local from_server = weir.define_event(weir.ON_NEW_DATA, function(flow, side) calls:inc() return side == weir.SERVER end)
local large = weir.define_event(from_server, function(flow, side, n) return n > 1000 end)
local sock = weir.monitor_socket()
sock:register(from_server, weir.POST_RCV, function() data:inc() end)
sock:register(large, weir.POST_RCV, function() big:inc() end)
local all = weir.counter("all_new_data")
sock:register(weir.ON_NEW_DATA, function() all:inc() end)
]])
      local r = H.replay{ scripts = { s }, pcaps = { SAMPLE } }
      local c = r.stats.counters
      assert.is_true(c.data > 0 and c.big > 0 and c.big < c.data, H.json.encode(c))
      assert.are.equal(c.all_new_data, c.filter_calls)
   end)
end)

describe("verdicts and order", function()
   it("weir.drop() drops the packet that raised the event; scripts run in load order", function()
      local a = H.script([[
local weir = require "weir"
local order = weir.counter("order")
weir.monitor_socket():register(weir.ON_CONN_START, weir.PRE, function() if order:get() % 2 == 0 then order:inc() end end)
]])
      local b = H.script([[
local weir = require "weir"
local order = weir.counter("order")
return { on_conn_start = function(flow) if order:get() % 2 == 1 then order:inc() end end,
         on_pkt_in = function(flow) local p = flow:packet() if p.tcp.fin then weir.drop() end end }
]])
      local r = H.replay{ scripts = { a, b }, pcaps = { SAMPLE } }
      assert.are.equal(2 * r.stats.flows.created, r.stats.counters.order)
      assert.are.equal(H.tshark_count(SAMPLE, "tcp.flags.fin==1"), r.stats.drops)
   end)
end)

describe("flows", function()
   it("peek and view read the same new bytes; state tables live until conn_end", function()
      local s = H.script([[
local weir = require "weir"
local same, bytes, tables = weir.counter("same"), weir.counter("bytes"), weir.counter("tables_left")
local ended = weir.counter("ended")
local live = 0
return {
   on_new_data = function(flow, side, n)
      local off = flow:next(side) - n
      local s = flow:peek(side, off, n)
      local p, len = flow:view(side, off)
      -- the view byte by byte (v[i] is 0-based, like the C array it stands for)
      local t = {}
      for i = 0, math.min(len or 0, n) - 1 do t[#t + 1] = string.char(p[i]) end
      if s and p and table.concat(t) == s:sub(1, len) then same:inc() end
      bytes:inc(#s)
      local st = flow:state_table()
      if not st.seen then st.seen = true; live = live + 1 end
   end,
   on_conn_end = function(flow)
      ended:inc()
      if flow:state_table().seen then live = live - 1 end
      tables:set(live)
   end,
}
]])
      local r = H.replay{ scripts = { s }, pcaps = { SAMPLE } }
      local delivered = 0
      for _, f in ipairs(r.flows) do
         delivered = delivered + f.streams.toserver.delivered + f.streams.toclient.delivered
      end
      assert.are.equal(delivered, r.stats.counters.bytes)
      assert.are.equal(r.stats.events.new_data, r.stats.counters.same)
      assert.are.equal(r.stats.flows.created, r.stats.counters.ended)
      assert.are.equal(0, r.stats.counters.tables_left)
   end)
   it("timers fire with their flow, and a flow's timers die with it", function()
      -- a minute after each conn_start: the flow's own timer and one on no flow. The syn_retx
      -- capture's flow ends within its 13 s; the sample, a year later, moves the clock past the
      -- minute: only the timer on no flow may fire then.
      local s = H.script([[
local weir = require "weir"
local fired, late, free = weir.counter("fired"), weir.counter("late"), weir.counter("free")
return { on_conn_start = function(flow)
   weir.timer(1, function(f) if f then fired:inc() end end, flow)
   weir.timer(60000, function() late:inc() end, flow)
   weir.timer(60000, function() free:inc() end)
end }
]])
      local r = H.replay{ scripts = { s }, pcaps = { "tests/pcap/syn_retx/input.pcap", SAMPLE } }
      assert.are.equal(0, r.rc)
      assert.are.equal(1 + 9, r.stats.flows.created)
      assert.is_true(r.stats.counters.fired > 0)
      assert.are.equal(1, r.stats.counters.free) -- the clock passed the minute after syn_retx's flow
      assert.are.equal(0, r.stats.counters.late)
   end)
end)

describe("errors", function()
   it("a failing handler is counted, logged with script:line and disabled; other scripts go on", function()
      local bad = H.script('local weir = require "weir"\nreturn { on_pkt_in = function(flow) local x = nil; return x.y end }\n')
      local good = H.script('local weir = require "weir"\nlocal n = weir.counter("n")\nreturn { on_pkt_in = function() n:inc() end }\n')
      local r = H.replay{ scripts = { bad, good }, pcaps = { SAMPLE } }
      assert.are.equal(0, r.rc)
      assert.are.equal(r.stats.tcp_packets, r.stats.counters.n)
      local name = bad:match("[^/]*$")
      local h = H.handlers(r, name)[name .. ":2 pkt_in@post_rcv"]
      assert.are.equal(100, h.errors)
      assert.is_true(h.disabled)
      assert.is_truthy(r.stderr:find(name .. ":2: attempt to index", 1, true))
      assert.is_truthy(r.stderr:find("disabled after 100 errors", 1, true))
   end)
   it("an endless loop in a handler is stopped by the budget with script:line; the replay completes", function()
      -- the loop runs JIT-compiled (it is hot long before its budget ends): the watchdog stops it
      local loop = H.script('local weir = require "weir"\nreturn { on_conn_start = function(flow)\n  while true do end\nend }\n')
      local good = H.script('local weir = require "weir"\nlocal n = weir.counter("n")\nreturn { on_pkt_in = function() n:inc() end }\n')
      local r = H.replay{ scripts = { loop, good }, pcaps = { SAMPLE } }
      assert.are.equal(0, r.rc)
      assert.are.equal(235, r.stats.tcp_packets)
      assert.are.equal(9, r.stats.flows.created)
      assert.are.equal(9, r.stats.flows.closed)
      assert.are.equal(r.stats.tcp_packets, r.stats.counters.n)
      local name = loop:match("[^/]*$")
      local h = H.handlers(r, name)[name .. ":2 conn_start@post_rcv"]
      assert.are.equal(9, h.events)
      assert.are.equal(9, h.errors)
      assert.is_false(h.disabled)
      assert.is_truthy(r.stderr:find(name .. ":3: time budget of 100 ms exceeded", 1, true))
   end)
   it("weir check reports file:line and exits 65; a good script passes", function()
      local bad = H.script("local weir = require 'weir'\nweir.monitor_socket('not a filter ((')\n")
      local rc, out = H.run(H.weir .. " check " .. bad .. " 2>&1")
      assert.are.equal(65, rc)
      assert.is_truthy(out:find(bad:match("[^/]*$") .. ":2:", 1, true))
      rc = H.run(H.weir .. " check scripts/http_logger.lua >/dev/null")
      assert.are.equal(0, rc)
   end)
end)

describe("the guide's tutorial (lua/README.md)", function()
   it("alerts on the one 404 of the sample capture", function()
      local r = H.replay{ scripts = { "lua/tutorial/first_alert.lua" }, pcaps = { SAMPLE } }
      assert.are.equal(0, r.rc)
      assert.are.equal(1, #r.alerts)
      assert.are.equal(9001, r.alerts[1].alert.signature_id)
      assert.are.equal(47506, r.alerts[1].src_port) -- the connection that asked for /missing.bin
      assert.are.equal(1, r.stats.counters["tutorial.not_found"])
   end)
end)
