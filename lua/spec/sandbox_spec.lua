-- sandbox_spec.lua — the scripts' sandbox through weir check and weir replay -s: what a script cannot reach
-- (at its top level: it fails to load with file:line; in a handler: counted, the capture goes on), and a
-- budget overrun that the script's own pcall, xpcall or coroutine cannot catch.
local H = dofile("lua/spec/helper.lua")
local SAMPLE = "tests/data/sample.pcap"

-- Each forbidden call, as one line of Lua.
local REFUSED = {
   { "os.exit", "os.exit(3)" },
   { "os.execute", "os.execute('true')" },
   { "io.open", "io.open('/etc/passwd')" },
   { "require ffi", "require 'ffi'" },
   { "require a C module", "require 'lfs'" },
   { "debug.sethook", "debug.sethook()" },
   { "load of bytecode", "load(string.dump(function() end))" },
   { "loadstring of bytecode", "loadstring(('').dump(function() end))" },
   { "collectgarbage stop", "collectgarbage('stop')" },
   { "string.dump", "string.dump(function() end)" },
   { "string.rep of 4 GiB", "string.rep('x', 2^32)" },
   { "string.rep of 4 GiB through a string", "local _ = ('x'):rep(2^32)" },
   { "string.dump through a string", "local _ = ('').dump(function() end)" },
   { "setfenv", "setfenv(1, {})" },
   { "getfenv", "getfenv(0).os.exit(3)" },
   { "package.loadlib", "package.loadlib('libc.so.6', 'exit')" },
   { "jit", "jit.on()" },
   { "dofile", "dofile('/etc/passwd')" },
   { "the string metatable", "getmetatable('').__index.dump(function() end)" },
   { "a counter's C pointer", "local p = weir.counter('a').c + 1; p.value = 5" },
}

describe("the sandbox", function()
   for _, c in ipairs(REFUSED) do
      it(c[1] .. " at the top level: the script fails to load with file:line", function()
         local s = H.script('local weir = require "weir"\n' .. c[2] .. '\n')
         local rc, out = H.run(H.weir .. " check " .. s .. " 2>&1")
         assert.are.equal(65, rc)
         assert.is_truthy(out:find(s:match("[^/]*$") .. ":2:", 1, true), out)
      end)
      it(c[1] .. " in a handler: an error counted on every call; the capture is processed to its end", function()
         local s = H.script('local weir = require "weir"\nreturn { on_conn_start = function()\n  '
            .. c[2] .. '\nend }\n')
         local r = H.replay{ scripts = { s }, pcaps = { SAMPLE } }
         assert.are.equal(0, r.rc)
         assert.are.equal(235, r.stats.tcp_packets)
         assert.are.equal(9, r.stats.flows.closed)
         local name = s:match("[^/]*$")
         local h = H.handlers(r, name)[name .. ":2 conn_start@post_rcv"]
         assert.are.equal(9, h.events)
         assert.are.equal(9, h.errors)
         assert.is_truthy(r.stderr:find(name .. ":3:", 1, true), r.stderr)
      end)
   end

   -- Loops that catch the budget error themselves: each is stopped at its first overrun.
   local CATCHERS = {
      { "pcall", "while true do pcall(function() while true do end end) end" },
      { "xpcall", "while true do xpcall(function() while true do end end, function(e) return e end) end" },
      { "an xpcall handler that loops", "xpcall(function() while true do end end, function() while true do end end)" },
      { "coroutine.resume", "while true do coroutine.resume(coroutine.create(function() while true do end end)) end" },
      { "coroutine.wrap", "while true do pcall(coroutine.wrap(function() while true do end end)) end" },
   }
   for _, c in ipairs(CATCHERS) do
      it("a loop inside " .. c[1] .. " in a handler is stopped by the budget and counted", function()
         local s = H.script('local weir = require "weir"\nreturn { on_handshake_done = function()\n  '
            .. c[2] .. '\nend }\n')
         local good = H.script('local weir = require "weir"\nlocal n = weir.counter("n")\nreturn { on_pkt_in = function() n:inc() end }\n')
         local t0 = os.time()
         local r = H.replay{ scripts = { s, good }, pcaps = { SAMPLE }, timeout = 30 }
         assert.are.equal(0, r.rc)
         assert.are.equal(r.stats.tcp_packets, r.stats.counters.n)
         local name = s:match("[^/]*$")
         local h = H.handlers(r, name)[name .. ":2 handshake_done@post_rcv"]
         assert.is_true(h.events > 0)
         assert.are.equal(h.events, h.errors)
         assert.is_truthy(r.stderr:find("time budget of 100 ms exceeded", 1, true), r.stderr)
         -- each overrun takes the budget (0.1 s): not many seconds per event
         assert.is_true(os.time() - t0 <= 2 + h.events, "took " .. (os.time() - t0) .. " s")
      end)
   end

   it("a loop that ran JIT-compiled in earlier events, then never ends, is stopped and counted", function()
      -- 5,000 iterations in each of the first 8 packets' events (hot: LuaJIT compiles a loop after
      -- 56), then the same loop forever; the error it raises otherwise shows whether it ran hot first
      local s = H.script('local weir = require "weir"\nlocal calls, x = 0, 0\n'
         .. 'return { on_pkt_in = function()\n  calls = calls + 1\n'
         .. '  if calls <= 8 then for i = 1, 5000 do x = x + i end return end\n'
         .. '  if calls == 9 and x ~= 8 * 12502500 then error("the loop did not run hot first") end\n'
         .. '  while true do x = x + 1 end\nend }\n')
      local r = H.replay{ scripts = { s }, pcaps = { SAMPLE }, timeout = 60, args = { "--lua-budget-ms", "20" } }
      assert.are.equal(0, r.rc)
      assert.are.equal(235, r.stats.tcp_packets)
      local name = s:match("[^/]*$")
      local h = H.handlers(r, name)[name .. ":3 pkt_in@post_rcv"]
      assert.are.equal(8 + 100, h.events) -- disabled after its 100th overrun (lua.max_errors)
      assert.are.equal(100, h.errors)
      assert.is_true(h.disabled)
      assert.are.equal(100, r.stats.scripts[1].budget_stops)
      assert.is_truthy(r.stderr:find(name .. ":7: time budget of 20 ms exceeded", 1, true), r.stderr)
   end)

   it("a script's loop in pcall at the top level fails the load with the budget error", function()
      local s = H.script('local weir = require "weir"\nwhile true do pcall(function() while true do end end) end\n')
      local rc, out = H.run("timeout 30 " .. H.weir .. " check " .. s .. " 2>&1")
      assert.are.equal(65, rc)
      assert.is_truthy(out:find("time budget of 100 ms exceeded", 1, true), out)
   end)

   it("an error value whose __tostring loops is counted, not run outside the budget", function()
      local s = H.script('local weir = require "weir"\nreturn { on_conn_start = function()\n'
         .. '  error(setmetatable({}, { __tostring = function() while true do end end }))\nend }\n')
      local r = H.replay{ scripts = { s }, pcaps = { SAMPLE }, timeout = 30 }
      assert.are.equal(0, r.rc)
      local name = s:match("[^/]*$")
      assert.are.equal(9, H.handlers(r, name)[name .. ":2 conn_start@post_rcv"].errors)
   end)

   it("what a script may use works: libraries, print to stderr, os.time, WEIR_ variables, modules beside it", function()
      local dir = H.tmpdir()
      local f = assert(io.open(dir .. "/mod.lua", "w"))
      f:write('local weir = require "weir"\nreturn { twice = function(x) return 2 * x end, '
         .. 'io = io == nil or io.open == nil or pcall(io.open, "/etc/passwd"), script = weir.script }\n')
      f:close()
      f = assert(io.open(dir .. "/main.lua", "w"))
      f:write([[
local weir = require "weir"
local mod = require "mod"
assert(require "mod" == mod and mod.twice(21) == 42 and mod.script == "main.lua")
assert(mod.io == false, "a module has the same sandbox")
assert(not pcall(require, "../main"))
assert(string.format("%d", bit.band(7, 3)) == "3" and math.floor(2.5) == 2 and table.concat({ 1, 2 }, ",") == "1,2")
assert(type(os.time()) == "number" and type(os.clock()) == "number" and os.date("!%Y", 0) == "1970")
assert(os.getenv("WEIR_SANDBOX_TEST") == "yes" and os.getenv("HOME") == nil)
assert(collectgarbage("count") > 0)
assert(select("#", pcall(error, "x")) == 2 and not xpcall(error, function(e) return e end))
string.format = nil -- a script's own copy: weir.lua and other scripts keep theirs
local out = io.open(os.getenv("WEIR_SANDBOX_OUT"), "a")
out:write("appended\n"):flush()
out:close()
io.stderr:write("to stderr\n")
print("hello", 42)
]])
      f:close()
      local r = H.replay{ scripts = { dir .. "/main.lua" }, pcaps = { SAMPLE },
         env = { WEIR_SANDBOX_TEST = "yes", WEIR_SANDBOX_OUT = "@DIR@/out.txt" } }
      assert.are.equal(0, r.rc, r.stderr)
      assert.are.equal("appended\n", H.slurp(r.dir .. "/out.txt"))
      assert.is_truthy(r.stderr:find("weir: main.lua: hello\t42\n", 1, true), r.stderr)
      assert.is_truthy(r.stderr:find("to stderr\n", 1, true), r.stderr)
   end)
end)

describe("bytecode", function()
   local function dump_to(path)
      local f = assert(io.open(path, "wb"))
      f:write(string.dump(assert(loadstring("local weir = require 'weir'\nreturn {}\n"))))
      f:close()
   end
   it("a script file of bytecode is refused at load", function()
      local path = os.tmpname() .. ".lua"
      dump_to(path)
      local rc, out = H.run(H.weir .. " check " .. path .. " 2>&1")
      assert.are.equal(65, rc)
      assert.is_truthy(out:find("wrong mode", 1, true), out)
   end)
   it("a module file of bytecode is refused by require", function()
      local dir = H.tmpdir()
      dump_to(dir .. "/bc.lua")
      local f = assert(io.open(dir .. "/main.lua", "w"))
      f:write('local weir = require "weir"\nrequire "bc"\n')
      f:close()
      local rc, out = H.run(H.weir .. " check " .. dir .. "/main.lua 2>&1")
      assert.are.equal(65, rc)
      assert.is_truthy(out:find("main.lua:2:", 1, true), out)
      assert.is_truthy(out:find("wrong mode", 1, true), out)
   end)
end)
