-- isolation_spec.lua — what a script reaches through the API's values: no memory outside what a call
-- returned (views are bounds-checked, no pointer or struct with an array reaches a script), no way to
-- change the API other scripts of the worker share, and the directories require searches.
local H = dofile("lua/spec/helper.lua")
local SAMPLE = "tests/data/sample.pcap"

-- Each former hole, as the body of a handler of event (flow, side, n; the script's socket is sock):
-- each read went outside the bytes or the struct the API handed out (a crash of weir, or bytes of
-- anything in the process). The events: a handler is disabled after its 100th error (the default).
local HOLES = {
   { "a view read far below its start", "new_data",
     "local v = flow:view(side, flow:next(side) - n); local _ = v[-100000000]", "view[i]: i must be an integer" },
   { "a view read far past its end", "new_data",
     "local v, len = flow:view(side, flow:next(side) - n); local _ = v[len + 1e9]", "view[i]: i must be an integer" },
   { "a view read one byte past its end", "new_data",
     "local v, len = flow:view(side, flow:next(side) - n); local _ = v[len]", "view[i]: i must be an integer" },
   { "a view read at a fraction", "new_data",
     "local v = flow:view(side, flow:next(side) - n); local _ = v[0.5]", "view[i]: i must be an integer" },
   { "the packet's raw record", "pkt_in", "local _ = flow:packet().raw[1000]", "flow:packet() has no field raw" },
   { "the packet's payload pointer", "pkt_in", "local _ = flow:packet().raw.payload[-1e9]",
     "flow:packet() has no field raw" },
   { "the packet's record behind its ip table", "pkt_in", "local _ = flow:packet().ip._p.src[1e9]",
     "flow:packet().ip has no field _p" },
   { "weir.stats() as a pointer", "pkt_in", "local _ = weir.stats()[100000].pkts", "weir.stats() has no field 100000" },
   { "an array of weir.stats()", "pkt_in", "local _ = weir.stats().events[1e9]", "weir.stats().events has no field" },
   { "tcp_info's padding array", "pkt_in", "local _ = flow:tcp_info(side).pad[1e9]", "flow:tcp_info() has no field pad" },
   { "buf_info's padding array", "pkt_in", "local _ = flow:buf_info(side).pad[-1e9]", "flow:buf_info() has no field pad" },
   { "a socket's C pointer", "pkt_in", "local _ = sock.ptr", "a socket has no field ptr" },
}

describe("memory a script reaches", function()
   for _, c in ipairs(HOLES) do
      it(c[1] .. " is an error naming the call, counted on every event; the capture goes on", function()
         local s = H.script('local weir, sock = require "weir", nil\nreturn { on_' .. c[2] .. ' = function(flow, side, n)\n  '
            .. 'sock = sock or weir.monitor_socket(); ' .. c[3] .. '\nend }\n')
         local r = H.replay{ scripts = { s }, pcaps = { SAMPLE } }
         assert.are.equal(0, r.rc, r.stderr)
         assert.are.equal(235, r.stats.tcp_packets)
         local name = s:match("[^/]*$")
         local h = H.handlers(r, name)[name .. ":2 " .. c[2] .. "@post_rcv"]
         assert.are.equal(100, h.events)
         assert.are.equal(100, h.errors)
         assert.is_true(h.disabled)
         assert.is_truthy(r.stderr:find(name .. ":3: " .. c[4], 1, true), r.stderr)
      end)
   end

   it("a view kept past its handler is an error, not a read of a buffer that may be gone", function()
      local s = H.script([[
local weir = require "weir"
local kept
return { on_new_data = function(flow, side, n)
   if kept then
      local _ = kept[0]
   end
   kept = flow:view(side, flow:next(side) - n)
end }
]])
      local r = H.replay{ scripts = { s }, pcaps = { SAMPLE } }
      assert.are.equal(0, r.rc, r.stderr)
      local name = s:match("[^/]*$")
      local h = H.handlers(r, name)[name .. ":3 new_data@post_rcv"]
      assert.are.equal(h.events - 1, h.errors)
      assert.is_truthy(r.stderr:find(name .. ":5: view[i]: the view is stale", 1, true), r.stderr)
   end)

   it("a view reads what peek reads: v[i], #v, v:sub, tostring; its fields cannot be written", function()
      local s = H.script([[
local weir = require "weir"
local same, refused = weir.counter("same"), weir.counter("refused")
return { on_new_data = function(flow, side, n)
   local off = flow:next(side) - n
   local v, len = flow:view(side, off)
   local s = flow:peek(side, off, len)
   local t = {}
   for i = 0, #v - 1 do t[#t + 1] = string.char(v[i]) end
   if #v == len and #s == len and table.concat(t) == s and tostring(v) == s and v:sub(2, 3) == s:sub(2, 3)
      and v:sub(-2) == s:sub(-2) and v:sub(len + 5) == "" then
      same:inc()
   end
   for _, f in ipairs { function() v.len = 1e9 end, function() v.addr = 0 end, function() v[0] = 1 end,
      function() v.sub({ addr = 0, len = 8, gen = 0 }) end, function() return v.ptr end } do
      if not pcall(f) then refused:inc() end
   end
end }
]])
      local r = H.replay{ scripts = { s }, pcaps = { SAMPLE } }
      assert.are.equal(0, r.rc, r.stderr)
      assert.are.equal(r.stats.events.new_data, r.stats.counters.same)
      assert.are.equal(5 * r.stats.events.new_data, r.stats.counters.refused)
   end)

   it("the API's structs are plain tables of numbers", function()
      local s = H.script([[
local weir = require "weir"
local ok = weir.counter("ok")
return { on_pkt_in = function(flow, side)
   local st, t, c, b, p = weir.stats(), flow:tcp_info(side), flow:counters(side), flow:buf_info(side), flow:packet()
   for _, v in ipairs { st.pkts, st.events[weir.ON_PKT_IN], st.closes[0], t.isn, t.state, c.pkts, b.next, b.buffering,
      p.ts, p.len, p.payload_len, p.tcp.seq, p.tcp.flags, p.ip.ver, p.ip.ttl } do
      assert(type(v) == "number", type(v))
   end
   assert(type(p.ip.src) == "string" and type(p.payload()) == "string" and c.pkts > 0 and st.pkts > 0)
   ok:inc()
end }
]])
      local r = H.replay{ scripts = { s }, pcaps = { SAMPLE } }
      assert.are.equal(0, r.rc, r.stderr)
      assert.are.equal(r.stats.tcp_packets, r.stats.counters.ok)
   end)
end)

describe("what scripts share", function()
   it("one script's changes to the flow, socket, counter and packet objects leave another script's API alone", function()
      -- Every replacement counts on "evil" when it runs: it must never run for the second script.
      local bad = H.script([[
local weir = require "weir"
local evil = weir.counter("evil")
local inc = evil.inc
local function e() inc(evil) end
local tries = {
   function(s) getmetatable(s).__index.register = e end,
   function(s) s.__index.register = e end,
   function(s) rawset(s, "register", e) end,
   function() getmetatable(weir.counter("shared")).__index.inc = e end,
   function() rawset(weir.counter("shared"), "inc", e) end,
   function() weir.counter("shared").inc = e end,
}
local sock = weir.monitor_socket()
for _, f in ipairs(tries) do pcall(f, sock) end
local done = false
sock:register(weir.ON_PKT_IN, weir.PRE, function(flow)
   if done then return end
   done = true
   for _, f in ipairs {
      function() getmetatable(flow).__index.peek = e end,
      function() flow.__index.peek = e end,
      function() rawset(flow, "peek", e) end,
      function() flow.peek = e end,
      function() flow:packet().payload = e end,
      function() getmetatable(flow:packet().ip).__index = e end,
      function() getmetatable(flow:packet().tcp).__index = e end,
      function() getmetatable(flow:tcp_info(0)).__index = e end,
   } do pcall(f) end
end)
]])
      local good = H.script([[
local weir = require "weir"
local n, shared = weir.counter("good"), weir.counter("shared")
weir.monitor_socket():register(weir.ON_PKT_IN, weir.PRE, function(flow, side)
   local p = flow:packet()
   assert(type(flow:next(side)) == "number" and type(p.payload()) == "string")
   assert(type(p.ip.src) == "string" and type(p.tcp.syn) == "boolean")
   shared:inc()
   n:inc()
end)
]])
      local r = H.replay{ scripts = { bad, good }, pcaps = { SAMPLE } }
      assert.are.equal(0, r.rc, r.stderr)
      assert.are.equal(0, r.stats.counters.evil)
      assert.are.equal(r.stats.tcp_packets, r.stats.counters.good)
      assert.are.equal(r.stats.tcp_packets, r.stats.counters.shared)
   end)
end)

describe("require", function()
   -- A module is looked for beside the script, then in the site's and the shipped scripts' directories
   -- (WEIR_SITE_SCRIPTS_DIR and WEIR_SHIPPED_SCRIPTS_DIR stand in for /etc/weir/scripts and
   -- /usr/share/weir/scripts here): the first that has it wins.
   local function write(path, text)
      local f = assert(io.open(path, "w"))
      f:write(text)
      f:close()
   end
   local function dirs()
      local root = H.tmpdir()
      for _, d in ipairs { "own", "site", "shipped", "shipped/sub" } do assert(os.execute("mkdir -p " .. root .. "/" .. d) == 0) end
      for _, m in ipairs { "own/own", "site/own", "site/site", "shipped/site", "shipped/shipped", "shipped/sub/deep" } do
         write(root .. "/" .. m .. ".lua", 'return "' .. m .. '"\n')
      end
      return root, { WEIR_SITE_SCRIPTS_DIR = root .. "/site", WEIR_SHIPPED_SCRIPTS_DIR = root .. "/shipped" }
   end

   it("finds modules beside the script, then in the site's, then in the shipped scripts' directory", function()
      local root, env = dirs()
      write(root .. "/own/main.lua", [[
local weir = require "weir"
local ok = weir.counter("ok")
assert(require "own" == "own/own")
assert(require "site" == "site/site")
assert(require "shipped" == "shipped/shipped")
assert(require "sub.deep" == "shipped/sub/deep")
for _, bad in ipairs { "../site/site", "/etc/passwd", "sub/deep", "sub..deep", ".site", "" } do
   local refused, err = pcall(require, bad)
   assert(not refused and err:find("is not a module name", 1, true), bad)
end
local missing, err = pcall(require, "nowhere")
assert(not missing and err:find("no nowhere.lua in ", 1, true), err)
ok:inc()
]])
      local r = H.replay{ scripts = { root .. "/own/main.lua" }, pcaps = { SAMPLE }, env = env }
      assert.are.equal(0, r.rc, r.stderr)
      assert.are.equal(1, r.stats.counters.ok)
   end)

   it("searches the directories a run config's bare script names come from", function()
      local root, env = dirs()
      write(root .. "/site/detector.lua", 'local weir = require "weir"\nassert(require "shipped" == "shipped/shipped")\n')
      write(root .. "/weir.lua", 'dpdk = { ports = { "a", "b" } }\nscripts = { "detector.lua" }\n')
      local rc, out = H.run("WEIR_SITE_SCRIPTS_DIR=" .. env.WEIR_SITE_SCRIPTS_DIR .. " WEIR_SHIPPED_SCRIPTS_DIR="
         .. env.WEIR_SHIPPED_SCRIPTS_DIR .. " " .. H.weir .. " check -c " .. root .. "/weir.lua 2>&1")
      assert.are.equal(0, rc, out)
      assert.is_truthy(out:find(root .. "/site/detector.lua", 1, true), out)
      rc, out = H.run("WEIR_SITE_SCRIPTS_DIR=" .. env.WEIR_SITE_SCRIPTS_DIR .. " WEIR_SHIPPED_SCRIPTS_DIR="
         .. env.WEIR_SHIPPED_SCRIPTS_DIR .. " " .. H.weir .. " check " .. root .. "/site/detector.lua 2>&1")
      assert.are.equal(0, rc, out)
   end)
end)
