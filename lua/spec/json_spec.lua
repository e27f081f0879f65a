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
end)
