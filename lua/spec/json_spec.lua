-- json_spec.lua — what a script hands to the JSON outputs (alert messages, counter names) comes out as
-- valid UTF-8 JSON whatever its bytes: ill-formed UTF-8 becomes U+FFFD, control bytes are escaped.
local H = dofile("lua/spec/helper.lua")
local SAMPLE = "tests/data/sample.pcap"

-- Python's strict reading of a file of JSON lines (every byte must be valid UTF-8, every line valid
-- JSON); prints the given field of each record, ASCII-escaped, one JSON list. Exit status 1 on any fault.
local function strict_read(path, expr)
   local py = [[
import json, sys
text = open(sys.argv[1], "rb").read().decode("utf-8", errors="strict")
recs = [json.loads(l) for l in text.splitlines() if l]
print(json.dumps([]] .. expr .. [[ for r in recs if r.get("event_type", "alert") == "alert"]))
]]
   return H.run("python3 -c '" .. py:gsub("'", "'\\''") .. "' " .. path)
end

describe("hostile strings in JSON", function()
   it("an alert whose message is not UTF-8 gives a valid EVE line (U+FFFD per ill-formed part)", function()
      local script = H.script([[
local weir = require "weir"
local hostile = weir.counter("count\255\254")
local done = false
return {
   on_conn_start = function(flow)
      if done then return end
      done = true
      hostile:inc()
      for _, m in ipairs{ "\255\254", "\192\175", "\237\160\128", "\244\144\128\128", "ok\226\130", "\128x",
                          "caf\195\169 \226\130\172", "q\"b\\c\1\31\127" } do
         weir.alert{ msg = m, sid = 1, flow = flow }
      end
   end,
}
]])
      local r = H.replay{ scripts = { script }, pcaps = { SAMPLE } }
      assert.are.equal(0, r.rc, r.stderr)
      local rc, out = strict_read(r.dir .. "/eve.json", "r['alert']['signature']")
      assert.are.equal(0, rc, out)
      assert.are.equal('["\\ufffd\\ufffd", "\\ufffd\\ufffd", "\\ufffd\\ufffd\\ufffd", "\\ufffd\\ufffd\\ufffd\\ufffd", '
                       .. '"ok\\ufffd", "\\ufffdx", "caf\\u00e9 \\u20ac", "q\\"b\\\\c\\u0001\\u001f\\u007f"]\n', out)
      -- the stats (one JSON line) name the counter the same way
      rc, out = strict_read(r.dir .. "/stats.json", "sorted(r['counters'])")
      assert.are.equal(0, rc, out)
      assert.is_truthy(out:find('"count\\ufffd\\ufffd"', 1, true), out)
   end)

   it("weir.json_string escapes a script's own JSON the same way, and refuses what is not a string", function()
      local script = H.script([==[
local weir = require "weir"
local ok, bad = weir.counter("js_ok"), weir.counter("js_bad")
local cases = {
   { "\255\254", '"\239\191\189\239\191\189"' },
   { 'a"b\\\1\127', '"a\\"b\\\\\\u0001\\u007f"' },
   { "caf\195\169 \240\159\152\128", '"caf\195\169 \240\159\152\128"' },
   { "a\0b", '"a\\u0000b"' },
   { "", '""' },
   { ("\1"):rep(5000), '"' .. ("\\u0001"):rep(5000) .. '"' },
}
for i, c in ipairs(cases) do
   local got = weir.json_string(c[1])
   if got == c[2] then ok:inc() else bad:inc(); io.stderr:write(("case %d: got %q\n"):format(i, got)) end
end
local fine, err = pcall(weir.json_string, 5)
if not fine and tostring(err):find("weir.json_string: s must be a string", 1, true) then ok:inc() else bad:inc() end
return {}
]==])
      local r = H.replay{ scripts = { script }, pcaps = { SAMPLE } }
      assert.are.equal(0, r.rc, r.stderr)
      assert.are.equal(7, r.stats.counters.js_ok, r.stderr)
      assert.are.equal(0, r.stats.counters.js_bad, r.stderr)
   end)
end)
