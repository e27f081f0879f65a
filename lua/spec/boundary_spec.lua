-- boundary_spec.lua — what a script hands to C is checked first: closed sockets, bad numbers, flows used outside
-- their handler, and the names and constants Lua reads from C (and the docs list).
local H = dofile("lua/spec/helper.lua")

describe("names and constants come from C", function()
   -- Prints "NAME <table> <name>" for every C name after checking the script's tables against C.
   local script = H.script([[
local weir = require "weir"
local ffi = require "ffi"
local C = ffi.C
local function check(label, t, fn, count, prefix)
   for i = 0, count - 1 do
      local want = ffi.string(C[fn](i))
      assert(t[i] == want, string.format("%s_names[%d] is %s, C says %s", label, i, tostring(t[i]), want))
      if prefix then assert(weir[prefix .. want:upper()] == i, prefix .. want:upper()) end
      io.write("NAME ", label, " ", want, "\n")
   end
   assert(t[count] == nil and t[-1] == nil, label .. "_names has more than C")
end
check("event", weir.event_names, "weir_event_name", C.WEIR_EV_BUILTIN_COUNT, "ON_")
check("state", weir.state_names, "weir_tcp_state_name", C.WEIR_TCP_STATE_COUNT)
check("anomaly", weir.anomaly_names, "weir_anomaly_name", C.WEIR_AN_COUNT, "AN_")
check("close", weir.close_names, "weir_close_reason_name", C.WEIR_CLOSE_COUNT)
for name, v in pairs { PRE = C.WEIR_HOOK_PRE, POST_SND = C.WEIR_HOOK_POST_SND, POST_RCV = C.WEIR_HOOK_POST_RCV } do
   assert(weir[name] == v and weir.hook_names[v] == name:lower(), name)
   io.write("NAME hook ", name:lower(), "\n")
end
assert(weir.PRE_TCP == C.WEIR_HOOK_PRE and weir.POST_TCP == C.WEIR_HOOK_POST_RCV)
assert(weir.CLIENT == C.WEIR_SIDE_CLIENT and weir.SERVER == C.WEIR_SIDE_SERVER and weir.BOTH == C.WEIR_SIDE_BOTH)
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
