-- helper.lua — for the busted specs: runs `weir replay -s` on captures and reads back its EVE records, stats and logs.
local json = require "dkjson"

local H = {}
H.weir = os.getenv("WEIR_BIN") or "build/bin/weir"
H.root = "."

local function slurp(path)
   local f = io.open(path, "rb")
   if not f then return nil end
   local s = f:read("*a")
   f:close()
   return s
end
H.slurp = slurp

local function sh_quote(s)
   return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- A new empty directory.
function H.tmpdir()
   local dir = os.tmpname()
   os.remove(dir)
   assert(os.execute("mkdir -p " .. dir) == 0)
   return dir
end

-- H.replay{ scripts = {...}, pcaps = {...}, args = {...}, env = { NAME = value } } ->
-- { rc, alerts = {...}, flows = {...}, stats = table, stderr = string, dir = tmpdir }
function H.replay(o)
   local dir = H.tmpdir()
   local cmd = {}
   for k, v in pairs(o.env or {}) do cmd[#cmd + 1] = k .. "=" .. sh_quote((tostring(v):gsub("@DIR@", dir))) end
   cmd[#cmd + 1] = sh_quote(H.weir) .. " replay -q --eve " .. dir .. "/eve.json --stats-json " .. dir .. "/stats.json"
   for _, s in ipairs(o.scripts or {}) do cmd[#cmd + 1] = "-s " .. sh_quote(s) end
   for _, a in ipairs(o.args or {}) do cmd[#cmd + 1] = sh_quote((a:gsub("@DIR@", dir))) end
   for _, p in ipairs(o.pcaps or {}) do cmd[#cmd + 1] = sh_quote(p) end
   cmd[#cmd + 1] = "2>" .. dir .. "/stderr"
   local rc = os.execute(table.concat(cmd, " "))
   local r = { rc = rc / 256, alerts = {}, flows = {}, dir = dir, stderr = slurp(dir .. "/stderr") or "" }
   for line in (slurp(dir .. "/eve.json") or ""):gmatch("[^\n]+") do
      local rec = json.decode(line)
      if rec.event_type == "alert" then r.alerts[#r.alerts + 1] = rec else r.flows[#r.flows + 1] = rec end
   end
   r.stats = json.decode(slurp(dir .. "/stats.json") or "null")
   return r
end

-- The handlers of a script in the stats: where -> { events, errors, disabled }
function H.handlers(r, script)
   local t = {}
   for _, s in ipairs(r.stats and r.stats.scripts or {}) do
      if s.name == script then
         for _, h in ipairs(s.handlers) do t[h.where] = h end
      end
   end
   return t
end

-- Writes a script into a temporary file; returns its path.
function H.script(text)
   local path = os.tmpname() .. ".lua"
   local f = assert(io.open(path, "w"))
   f:write(text)
   f:close()
   return path
end

-- Runs a shell command; returns its exit code and its stdout.
function H.run(cmd)
   local p = io.popen(cmd .. "; echo \"rc=$?\"")
   local out = p:read("*a")
   p:close()
   local rc = tonumber(out:match("rc=(%d+)%s*$"))
   return rc, out:gsub("rc=%d+%s*$", "")
end

-- How many packets of pcap match the display filter; a tshark failure (missing, bad filter) is an
-- error, never a count of 0.
function H.tshark_count(pcap, filter)
   local rc, out = H.run("tshark -r " .. sh_quote(pcap) .. " -Y " .. sh_quote(filter) .. " 2>/dev/null")
   assert(rc == 0, "tshark failed (exit " .. tostring(rc) .. ")")
   local n = 0
   for _ in out:gmatch("[^\n]+") do n = n + 1 end
   return n
end

-- The packets' capture times (Unix seconds) of pcap, from tshark.
function H.tshark_times(pcap)
   local rc, out = H.run("tshark -r " .. sh_quote(pcap) .. " -T fields -e frame.time_epoch 2>/dev/null")
   assert(rc == 0, "tshark failed (exit " .. tostring(rc) .. ")")
   local t = {}
   for v in out:gmatch("[^\n]+") do t[#t + 1] = assert(tonumber(v), v) end
   return t
end

H.json = json
return H
