-- boundary_spec.lua — what a script hands to C is checked first: closed sockets, bad numbers, flows used outside
-- their handler, and the names and constants Lua reads from C (and the docs list).
local H = dofile("lua/spec/helper.lua")
local SAMPLE = "tests/data/sample.pcap"

-- A script that runs each call of CALLS (a Lua list of { function, "expected message" } built by
-- the text given) once, under pcall, where PLACE says; every call must fail with its message,
-- blamed on the script's own line. Counters: calls_ok (as expected), calls_wrong (with a line on
-- stderr saying what happened instead).
local CHECK = [[
local weir = require "weir"
local ok_c, wrong_c = weir.counter("calls_ok"), weir.counter("calls_wrong")
local NAME = weir.script
local function expect_errors(calls)
   for i, c in ipairs(calls) do
      local ok, err = pcall(c[1])
      local line = not ok and tostring(err):match(NAME:gsub("%p", "%%%0") .. ":(%d+): ")
      if not ok and line and tostring(err):find(c[2], 1, true) then
         ok_c:inc()
      else
         wrong_c:inc()
         io.stderr:write(string.format("call %d: expected %q, got %s %s\n", i, c[2], tostring(ok), tostring(err)))
      end
   end
end
]]

local function ncalls(text)
   local _, n = text:gsub("\n%s*{ function", "")
   return n
end

describe("sockets", function()
   it("closing twice is a no-op; every other method of a closed socket is an error naming the call", function()
      local calls = [[
local calls = {
   { function() s:register(weir.ON_CONN_START, function() end) end, "sock:register: socket is closed" },
   { function() s:register(weir.ON_CONN_START, weir.PRE, function() end) end, "sock:register: socket is closed" },
   { function() s:unregister(weir.ON_PKT_IN) end, "sock:unregister: socket is closed" },
   { function() s.register(weir.ON_PKT_IN, function() end) end, "sock:register: call it on a socket" },
   { function() s.close() end, "sock:close: call it on a socket" },
}
]]
      local script = H.script(CHECK .. [[
local s = weir.monitor_socket("tcp")
s:register(weir.ON_PKT_IN, function() end)
s:close()
s:close()
]] .. calls .. [[
expect_errors(calls)
]])
      local r = H.replay{ scripts = { script }, pcaps = { SAMPLE } }
      assert.are.equal(0, r.rc, r.stderr)
      assert.are.equal(ncalls(calls), r.stats.counters.calls_ok, r.stderr)
      assert.are.equal(0, r.stats.counters.calls_wrong)
   end)

   it("a socket closed by its handler runs no more handlers; the script's timers still fire", function()
      local script = H.script([[
local weir = require "weir"
local after, fired, other = weir.counter("after_close"), weir.counter("timers_fired"), weir.counter("other")
local a = weir.monitor_socket()
local closed = false
a:register(weir.ON_PKT_IN, weir.PRE, function()
   -- timers belong to the script (the host's socket), not to a: closing a leaves them armed
   weir.timer(1, function() fired:inc() end)
   weir.timer(2, function() fired:inc() end)
   a:close()
   closed = true
end)
a:register(weir.ON_PKT_IN, weir.PRE, function() after:inc() end)       -- same record, after the close
a:register(weir.ON_PKT_IN, weir.POST_RCV, function() after:inc() end)  -- same packet, a later poll
weir.monitor_socket():register(weir.ON_PKT_IN, function() other:inc() end)
]])
      local r = H.replay{ scripts = { script }, pcaps = { SAMPLE } }
      assert.are.equal(0, r.rc, r.stderr)
      assert.are.equal(0, r.stats.counters.after_close)
      assert.are.equal(2, r.stats.counters.timers_fired)
      assert.are.equal(r.stats.tcp_packets, r.stats.counters.other)
   end)
end)

describe("timers", function()
   -- (C timers armed on a closed socket: test_core's test_close_cancels_timers; scripts have no FFI
   -- to arm them, the sandbox)
   it("closing a socket in a handler leaves the script's own timers to fire", function()
      local script = H.script([[
local weir = require "weir"
local own = weir.counter("own_fired")
local s = weir.monitor_socket()
local armed = false
s:register(weir.ON_CONN_START, function()
   if armed then return end
   armed = true
   weir.timer(2, function() own:inc() end)
   s:close()
end)
]])
      local r = H.replay{ scripts = { script }, pcaps = { SAMPLE } }
      assert.are.equal(0, r.rc, r.stderr)
      assert.are.same({ own_fired = 1 }, r.stats.counters)
      assert.are.equal(1, r.stats.events.timer)
   end)
end)

describe("numbers crossing into C", function()
   it("every bad side, offset, length, event, hook, delay, count, sid and policy is a Lua error naming it", function()
      local calls = [[
local big = 2 ^ 60
local calls = {
   { function() f:peek(side, 0, -1) end, "flow:peek: len must be a non-negative integer" },
   { function() f:peek(side, 0, 0 / 0) end, "flow:peek: len must be a non-negative integer" },
   { function() f:peek(side, 0, 1.5) end, "flow:peek: len must be a non-negative integer" },
   { function() f:peek(side, 0, big) end, "flow:peek: len must be a non-negative integer" },
   { function() f:peek(side, 0, math.huge) end, "flow:peek: len must be a non-negative integer" },
   { function() f:peek(side, 0, "10") end, "flow:peek: len must be a non-negative integer" },
   { function() f:peek(side, -1, 1) end, "flow:peek: off must be a non-negative integer" },
   { function() f:peek(side, 0 / 0, 1) end, "flow:peek: off must be a non-negative integer" },
   { function() f:peek(side, 0.5, 1) end, "flow:peek: off must be a non-negative integer" },
   { function() f:peek(side, big, 1) end, "flow:peek: off must be a non-negative integer" },
   { function() f:peek(3, 0, 1) end, "flow:peek: side must be" },
   { function() f:peek(0.5, 0, 1) end, "flow:peek: side must be" },
   { function() f:peek(weir.BOTH, 0, 1) end, "flow:peek: side must be" },
   { function() f:peek(nil, 0, 1) end, "flow:peek: side must be" },
   { function() f:view(side, -5) end, "flow:view: off must be" },
   { function() f:view(-1, 0) end, "flow:view: side must be" },
   { function() f:new_bytes(side, -1) end, "flow:new_bytes: n must be a non-negative integer" },
   { function() f:new_bytes(side, 0 / 0) end, "flow:new_bytes: n must be a non-negative integer" },
   { function() f:state(7) end, "flow:state: side must be" },
   { function() f:tcp_info("both") end, "flow:tcp_info: side must be" },
   { function() f:counters(2) end, "flow:counters: side must be" },
   { function() f:buf_info(-1) end, "flow:buf_info: side must be" },
   { function() f:next(1e300) end, "flow:next: side must be" },
   { function() f:buffering(0.5, true) end, "flow:buffering: side must be" },
   { function() f:stop(-1) end, "flow:stop: side must be" },
   { function() f:overlap(side, "middle") end, "flow:overlap: policy must be" },
   { function() f:overlap(side, 2) end, "flow:overlap: policy must be" },
   { function() f:overlap(5, "first") end, "flow:overlap: side must be" },
   { function() weir.timer(0 / 0, function() end) end, "weir.timer: ms must be" },
   { function() weir.timer(-1, function() end) end, "weir.timer: ms must be" },
   { function() weir.timer(math.huge, function() end) end, "weir.timer: ms must be" },
   { function() weir.timer(1e300, function() end) end, "weir.timer: ms must be" },
   { function() weir.timer(1, "fn") end, "weir.timer: fn must be a function" },
   { function() weir.timer(1, function() end, {}) end, "weir.timer: flow must be the flow a handler was given" },
   { function() c:inc(0 / 0) end, "counter:inc: n must be an integer" },
   { function() c:inc(1.5) end, "counter:inc: n must be an integer" },
   { function() c:inc(big) end, "counter:inc: n must be an integer" },
   { function() c:inc(-1) end, "counter:inc: zero would go below 0" },
   { function() c:set(-1) end, "counter:set: n must be a non-negative integer" },
   { function() c:set(0 / 0) end, "counter:set: n must be a non-negative integer" },
   { function() c:set(math.huge) end, "counter:set: n must be a non-negative integer" },
   { function() weir.alert{ msg = "x", sid = -1 } end, "weir.alert: sid must be an integer" },
   { function() weir.alert{ msg = "x", sid = 2 ^ 32 } end, "weir.alert: sid must be an integer" },
   { function() weir.alert{ msg = "x", sid = 0 / 0 } end, "weir.alert: sid must be an integer" },
   { function() weir.alert{ msg = "x", severity = 0 } end, "weir.alert: severity must be an integer" },
   { function() weir.alert{ msg = "x", severity = 2.5 } end, "weir.alert: severity must be an integer" },
   { function() weir.alert{ msg = "x", severity = 256 } end, "weir.alert: severity must be an integer" },
   { function() weir.alert{ msg = "x\0y" } end, "weir.alert: msg must be a string" },
   { function() weir.alert{ msg = "x", flow = {} } end, "weir.alert: flow must be the flow a handler was given" },
   { function() sock:register(weir.ON_PKT_IN, 7, function() end) end, "sock:register: hook must be" },
   { function() sock:register(weir.ON_PKT_IN, 0.5, function() end) end, "sock:register: hook must be" },
   { function() sock:register(0 / 0, function() end) end, "sock:register: event must be" },
   { function() sock:register(-1, function() end) end, "sock:register: event must be" },
   { function() sock:register(999, function() end) end, "sock:register: unknown event 999" },
   { function() sock:register(weir.ON_PKT_IN, weir.PRE, 5) end, "sock:register: fn must be a function" },
   { function() sock:register(weir.ON_NEW_DATA, weir.PRE, function() end) end, "sock:register: event new_data is never raised at hook pre" },
   { function() sock:unregister(weir.ON_PKT_IN, 1.5) end, "sock:unregister: hook must be" },
   { function() weir.define_event(0 / 0, function() end) end, "weir.define_event: event must be" },
   { function() weir.define_event(weir.ON_PKT_IN, 3) end, "weir.define_event: filter must be a function" },
   { function() weir.monitor_socket("tcp\0port 80") end, "weir.monitor_socket: filter must be nil or a string" },
   { function() weir.counter("") end, "weir.counter: name must be a non-empty string" },
}
]]
      local script = H.script(CHECK .. [[
local c, sock, done = weir.counter("zero"), weir.monitor_socket(), false
sock:register(weir.ON_NEW_DATA, function(flow, side)
   if done then return end
   done = true
   local f = flow
]] .. calls .. [[
   expect_errors(calls)
end)
]])
      local r = H.replay{ scripts = { script }, pcaps = { SAMPLE } }
      assert.are.equal(0, r.rc, r.stderr)
      assert.are.equal(ncalls(calls), r.stats.counters.calls_ok, r.stderr)
      assert.are.equal(0, r.stats.counters.calls_wrong)
      assert.are.equal(0, r.stats.counters.zero)
   end)

   it("a negative peek length on a side holding more than 64 KiB is an error counted with script:line", function()
      -- The server side then holds 4,000,000 readable bytes: copied into the 64 KiB buffer they ran
      -- far past LuaJIT's own heap, where ASan (blind inside that heap) and the release build see it.
      local pcap = H.ooo_pcap(4000)
      local script = H.script([[
local weir = require "weir"
local big = weir.counter("big_new_data")
return { on_new_data = function(flow, side, n)
   if n > 65536 then big:inc() end
   flow:peek(side, flow:next(side) - n, -1)
end }
]])
      local r = H.replay{ scripts = { script }, pcaps = { pcap } }
      os.remove(pcap)
      local name = script:match("[^/]*$")
      assert.are.equal(0, r.rc, r.stderr)
      assert.are.equal(1, r.stats.counters.big_new_data)
      local h = H.handlers(r, name)[name .. ":3 new_data@post_rcv"]
      assert.are.equal(r.stats.events.new_data, h.events)
      assert.are.equal(h.events, h.errors)
      assert.is_truthy(r.stderr:find(name .. ":5: flow:peek: len must be a non-negative integer", 1, true), r.stderr)
   end)

   it("peek returns more than 64 KiB at once, and never more than is held", function()
      local pcap = H.ooo_pcap(100)
      local script = H.script([[
local weir = require "weir"
local whole, capped, same = weir.counter("whole"), weir.counter("capped"), weir.counter("same_bytes")
return { on_new_data = function(flow, side, n)
   if n < 65536 then return end
   local off = flow:next(side) - n
   local s = flow:peek(side, off, n)
   if #s == n then whole:inc() end
   if #flow:peek(side, off, 2 ^ 40) == n then capped:inc() end
   local want = {}
   for i = 0, n / 1000 - 1 do want[#want + 1] = string.rep(string.char(65 + i % 26), 1000) end
   if s == table.concat(want) and flow:new_bytes(side, n) == s then same:inc() end
end }
]])
      local r = H.replay{ scripts = { script }, pcaps = { pcap } }
      os.remove(pcap)
      assert.are.equal(0, r.rc, r.stderr)
      assert.are.same({ whole = 1, capped = 1, same_bytes = 1 }, r.stats.counters)
   end)

   it("flow methods outside a handler given a flow are errors, not reads of a stale record", function()
      local calls = [[
local calls = {
   { function() saved:id() end, "flow:id: no flow here" },
   { function() saved:peek(0, 0, 1) end, "flow:peek: no flow here" },
   { function() saved:view(0, 0) end, "flow:view: no flow here" },
   { function() saved:new_bytes(0, 1) end, "flow:new_bytes: no flow here" },
   { function() saved:state(0) end, "flow:state: no flow here" },
   { function() saved:tuple() end, "flow:tuple: no flow here" },
   { function() saved:state_table() end, "flow:state_table: no flow here" },
   { function() saved:stop(2) end, "flow:stop: no flow here" },
   { function() saved:midstream() end, "flow:midstream: no flow here" },
   { function() weir.alert{ msg = "x", flow = saved } end, "weir.alert: flow: no flow here" },
   { function() weir.timer(1, function() end, saved) end, "weir.timer: flow: no flow here" },
   { function() pkt.payload() end, "packet.payload: no packet here" },
}
]]
      local script = H.script(CHECK .. [[
local saved, pkt
]] .. calls .. [[
local top = weir.counter("top_level")
local ok, err = pcall(weir.alert, { msg = "x", flow = true })
if not ok and err:find("weir.alert: flow must be the flow a handler was given", 1, true) then top:inc() end
return { on_conn_start = function(flow)
   if saved then return end
   saved, pkt = flow, flow:packet()
   weir.timer(1, function(f) if f == nil then expect_errors(calls) end end) -- a timer without a flow
end }
]])
      local r = H.replay{ scripts = { script }, pcaps = { SAMPLE } }
      assert.are.equal(0, r.rc, r.stderr)
      assert.are.equal(1, r.stats.counters.top_level)
      assert.are.equal(ncalls(calls), r.stats.counters.calls_ok, r.stderr)
      assert.are.equal(0, r.stats.counters.calls_wrong)
   end)
end)

describe("names and constants come from C", function()
   -- Prints "NAME <table> <name>" for every name of the script's tables (test_host checks that they
   -- are C's: scripts have no FFI to ask C, the sandbox).
   local script = H.script([[
local weir = require "weir"
for label, t in pairs { event = weir.event_names, state = weir.state_names, anomaly = weir.anomaly_names,
   close = weir.close_names, hook = weir.hook_names } do
   for i = 0, #t do io.stderr:write("NAME ", label, " ", t[i], "\n") end
end
]])
   local rc, out = H.run(H.weir .. " check " .. script .. " 2>&1")
   local names = {}
   for label, name in out:gmatch("NAME (%a+) ([%w_]+)") do names[#names + 1] = { label, name } end

   it("every name table has every C name (close_names includes reused)", function()
      assert.are.equal(0, rc, out)
      assert.is_truthy(out:find("NAME close reused", 1, true))
   end)

   it("lua/README.md lists every name, README.md every close reason of a flow record", function()
      assert.is_true(#names > 30, out)
      local guide, readme = H.slurp("lua/README.md"), H.slurp("README.md")
      local close_line = readme:match("Close reasons: (.-)%.")
      for _, n in ipairs(names) do
         assert.is_truthy(guide:find("`" .. n[2] .. "`", 1, true), n[1] .. " name " .. n[2] .. " is not in lua/README.md")
         if n[1] == "close" and n[2] ~= "none" then -- "none" is never a flow record's reason
            assert.is_truthy(close_line:find("`" .. n[2] .. "`", 1, true), "close reason " .. n[2] .. " is not in README.md")
         end
      end
   end)
end)
