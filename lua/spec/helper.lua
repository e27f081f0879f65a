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

-- H.replay{ scripts = {...}, pcaps = {...}, args = {...}, env = { NAME = value }, timeout = SEC } ->
-- { rc (124 when killed after timeout seconds), alerts = {...}, flows = {...}, stats = table, stderr = string, dir = tmpdir }
function H.replay(o)
   local dir = H.tmpdir()
   local cmd = {}
   for k, v in pairs(o.env or {}) do cmd[#cmd + 1] = k .. "=" .. sh_quote((tostring(v):gsub("@DIR@", dir))) end
   if o.timeout then cmd[#cmd + 1] = "timeout " .. o.timeout end
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

-- Writes a capture of one HTTP-like flow whose server sends nseg segments of 1000 bytes, the first
-- one last: the others wait out of order, so the server side then holds nseg * 1000 readable bytes
-- at once (its buffer grows past them). Segment i is 1000 copies of string.char(65 + i % 26).
-- Crafted frames (Ethernet, IPv4, TCP, window scale 7); returns the path.
function H.ooo_pcap(nseg)
   local bit = require "bit"
   local function be16(v) return string.char(bit.band(bit.rshift(v, 8), 255), bit.band(v, 255)) end
   local function be32(v) return be16(bit.band(bit.rshift(v, 16), 65535)) .. be16(bit.band(v, 65535)) end
   local function le32(v) return string.char(bit.band(v, 255), bit.band(bit.rshift(v, 8), 255),
      bit.band(bit.rshift(v, 16), 255), bit.band(bit.rshift(v, 24), 255)) end
   local function ipsum(h)
      local sum = 0
      for i = 1, #h, 2 do sum = sum + h:byte(i) * 256 + h:byte(i + 1) end
      while sum > 65535 do sum = bit.band(sum, 65535) + bit.rshift(sum, 16) end
      return 65535 - sum
   end
   local C_IP, S_IP = "\10\0\0\1", "\10\0\0\2"
   local out, t = { "\212\195\178\161" .. "\2\0\4\0" .. le32(0) .. le32(0) .. le32(262144) .. le32(1) }, 0
   local function pkt(from_client, flags, seq, ack, payload)
      local opts = bit.band(flags, 2) ~= 0 and "\2\4\5\180\1\3\3\7" or "" -- MSS 1460, NOP, WS 7
      local tcp = (from_client and be16(40000) .. be16(80) or be16(80) .. be16(40000)) .. be32(seq) .. be32(ack)
         .. string.char((20 + #opts) * 4, flags) .. be16(65535) .. "\0\0\0\0" .. opts
      local src, dst = from_client and C_IP or S_IP, from_client and S_IP or C_IP
      local ip = "\69\0" .. be16(20 + #tcp + #payload) .. "\0\0\64\0\64\6\0\0" .. src .. dst
      ip = ip:sub(1, 10) .. be16(ipsum(ip)) .. ip:sub(13)
      local frame = "\2\0\0\0\0\2\2\0\0\0\0\1\8\0" .. ip .. tcp .. payload
      t = t + 1
      out[#out + 1] = le32(1700000000) .. le32(t * 1000) .. le32(#frame) .. le32(#frame) .. frame
   end
   local SYN, ACK, PSH = 2, 16, 8
   pkt(true, SYN, 1000, 0, "")
   pkt(false, SYN + ACK, 5000, 1001, "")
   pkt(true, ACK, 1001, 5001, "")
   pkt(true, ACK + PSH, 1001, 5001, "GET / HTTP/1.0\r\n\r\n")
   local order = {}
   for i = 1, nseg - 1 do order[#order + 1] = i end
   order[#order + 1] = 0
   for _, i in ipairs(order) do pkt(false, ACK, 5001 + i * 1000, 1019, string.rep(string.char(65 + i % 26), 1000)) end
   pkt(true, ACK, 1019, 5001 + nseg * 1000, "")
   local path = os.tmpname() .. ".pcap"
   local f = assert(io.open(path, "wb"))
   f:write(table.concat(out))
   f:close()
   return path
end

H.json = json
return H
