-- scripts_spec.lua — the shipped scripts on real captures: counts, alerts and logs checked against the generator and tshark.
local H = dofile("lua/spec/helper.lua")
local SAMPLE = "tests/data/sample.pcap"
local SYN_RETX = "tests/pcap/syn_retx/input.pcap"

describe("syn_retx.lua (Listing 1)", function()
   it("counts exactly the SYN retransmissions tshark flags, and what the C Listing 1 counts", function()
      local want = H.tshark_count(SYN_RETX, "tcp.flags.syn==1 && tcp.flags.ack==0 && tcp.analysis.retransmission")
      assert.is_not_nil(want, "tshark is needed")
      assert.is_true(want > 0)
      local r = H.replay{ scripts = { "scripts/syn_retx.lua" }, pcaps = { SYN_RETX } }
      assert.are.equal(0, r.rc)
      assert.are.equal(want, r.stats.counters.syn_retx)
      local rc, out = H.run(H.weir:gsub("weir$", "syn_retx") .. " " .. SYN_RETX)
      assert.are.equal(0, rc, out)
      assert.are.equal("syn_retx=" .. want, out:match("syn_retx=%d+"))
   end)
   it("counts none on a capture without lost SYNs", function()
      local r = H.replay{ scripts = { "scripts/syn_retx.lua" }, pcaps = { SAMPLE } }
      assert.are.equal(0, r.rc)
      assert.are.equal(0, H.tshark_count(SAMPLE, "tcp.flags.syn==1 && tcp.flags.ack==0 && tcp.analysis.retransmission"))
      assert.are.equal(0, r.stats.counters.syn_retx)
   end)
end)

describe("http_logger.lua", function()
   it("logs exactly the requests the generator sent, with method, host, path and status", function()
      local r = H.replay{ scripts = { "scripts/http_logger.lua" }, pcaps = { SAMPLE }, env = { WEIR_HTTP_LOG = "@DIR@/http.log" } }
      assert.are.equal(0, r.rc)
      local gen = H.json.decode(H.slurp("tests/data/sample.pcap.requests.json"))
      local want = {}
      for _, q in ipairs(gen.requests) do
         if q.exitcode == 0 then -- the refused connection sent no request
            local host = q.url:match("^http://([^/]+)")
            want[#want + 1] = string.format("%s %s %s %d %d", q.method, host, q.path, q.status, q.local_port)
         end
      end
      local got = {}
      for line in H.slurp(r.dir .. "/http.log"):gmatch("[^\n]+") do
         local l = H.json.decode(line)
         got[#got + 1] = string.format("%s %s %s %d %d", l.method, l.host, l.path, l.status, l.src_port)
      end
      table.sort(want)
      table.sort(got)
      assert.are.same(want, got)
      assert.are.equal(#want, r.stats.counters["http.requests"])
   end)
end)

describe("firewall.lua", function()
   it("drops every packet of the flows to a blocked port, both directions, and alerts once per flow", function()
      local r = H.replay{ scripts = { "scripts/firewall.lua" }, pcaps = { SAMPLE } }
      local want = H.tshark_count(SAMPLE, "tcp.port==8081")
      assert.is_true(want > 0)
      assert.are.equal(want, r.stats.drops)
      assert.are.equal(want, r.stats.counters["fw.dropped_packets"])
      local flows = H.tshark_count(SAMPLE, "tcp.dstport==8081 && tcp.flags.syn==1 && tcp.flags.ack==0")
      assert.are.equal(flows, #r.alerts)
      for _, a in ipairs(r.alerts) do
         assert.are.equal(8081, a.dest_port)
         assert.are.equal(1001, a.alert.signature_id)
      end
   end)
   it("takes its rules from WEIR_FW_DROP_PORTS, in place of its own", function()
      local r = H.replay{ scripts = { "scripts/firewall.lua" }, pcaps = { SAMPLE }, env = { WEIR_FW_DROP_PORTS = "9,8099" } }
      assert.are.equal(0, r.rc)
      local want = H.tshark_count(SAMPLE, "tcp.port==8099")
      assert.is_true(want > 0)
      assert.are.equal(want, r.stats.drops) -- 8081, dropped by default, passes
      assert.are.equal(1, #r.alerts)
      assert.are.equal(8099, r.alerts[1].dest_port)
      assert.are.equal(1002, r.alerts[1].alert.signature_id) -- the list's second rule
   end)
end)

describe("midstat.lua", function()
   it("tracks every connection and how it ended", function()
      local r = H.replay{ scripts = { "scripts/midstat.lua" }, pcaps = { SAMPLE } }
      local c = r.stats.counters
      assert.are.equal(r.stats.flows.created, c["midstat.flows"])
      assert.are.equal(0, c["midstat.active"])
      assert.are.equal(r.stats.closes.fin, c["midstat.closed.fin"])
      assert.are.equal(r.stats.closes.rst, c["midstat.closed.rst"])
      assert.are.equal(r.stats.events.handshake_done, c["midstat.established"])
   end)
   it("prints the table on its timer, every WEIR_MIDSTAT_SEC seconds of capture time", function()
      local pcaps = { SYN_RETX, SAMPLE }
      -- weir's clock is the packet time (it never goes back); the table is first due WEIR_MIDSTAT_SEC
      -- after clock 0, then again that long after each printing
      local function printings(every)
         local now, due, n = 0, every, 0
         for _, p in ipairs(pcaps) do
            for _, t in ipairs(H.tshark_times(p)) do
               now = math.max(now, t)
               while now >= due do n, due = n + 1, now + every end
            end
         end
         return n
      end
      for _, sec in ipairs({ 1, 2 }) do
         local r = H.replay{ scripts = { "scripts/midstat.lua" }, pcaps = pcaps,
            env = { WEIR_MIDSTAT_SEC = tostring(sec), WEIR_MIDSTAT_OUT = "@DIR@/midstat.txt" } }
         assert.are.equal(0, r.rc)
         local out = H.slurp(r.dir .. "/midstat.txt") or ""
         local _, tables = out:gsub("client %-> server", "")
         assert.are.equal(printings(sec), tables)
         -- the SMTP connection of syn_retx is listed while its client waits for the SYN-ACK
         assert.is_truthy(out:find("10%.0%.0%.1:40011 %-> 10%.0%.0%.2:25%s+syn_sent"), out)
      end
   end)
end)

describe("rexmit_diff.lua", function()
   it("alerts on the retransmission that carries different bytes, not on the identical one", function()
      local r = H.replay{ scripts = { "scripts/rexmit_diff.lua" }, pcaps = { "tests/pcap/rexmit_different/input.pcap" } }
      assert.are.equal(1, #r.alerts)
      assert.are.equal(2003, r.alerts[1].alert.signature_id)
      assert.is_truthy(r.alerts[1].alert.signature:find("by the client"))
      assert.are.equal(r.stats.anomalies.rexmit_different, r.stats.counters["rexmit_diff.alerts"])
   end)
   it("alerts on out-of-order overlaps with different bytes", function()
      local r = H.replay{ scripts = { "scripts/rexmit_diff.lua" }, pcaps = { "tests/pcap/overlap_diff/input.pcap" } }
      assert.are.equal(r.stats.anomalies.overlap_different + r.stats.anomalies.rexmit_different, #r.alerts)
      assert.is_true(#r.alerts > 0)
   end)
   it("is quiet on a clean capture", function()
      local r = H.replay{ scripts = { "scripts/rexmit_diff.lua" }, pcaps = { SAMPLE } }
      assert.are.equal(0, r.rc) -- the script loaded and ran
      assert.are.equal(0, #r.alerts)
   end)
end)

describe("sigmatch.lua", function()
   -- A pattern of 12 bytes around the end of the flow's 2nd data segment (tshark says where that is).
   local function boundary_pattern(streams, flow_id, filter, ext)
      local rc, out = H.run("tshark -r " .. SAMPLE .. " -Y '" .. filter .. " && tcp.len>0' -T fields -e tcp.seq -e tcp.len 2>/dev/null")
      assert.are.equal(0, rc)
      local segs = {}
      for seq, len in out:gmatch("(%d+)%s+(%d+)") do segs[#segs + 1] = tonumber(seq) - 1 + tonumber(len) end
      local b = segs[2] -- stream offset just after the 2nd segment
      local data = H.slurp(streams .. "/" .. flow_id .. "." .. ext)
      return data:sub(b - 5, b + 6)
   end
   local function hex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end

   it("finds patterns that span segments, in both directions, once per flow", function()
      local pre = H.replay{ pcaps = { SAMPLE }, args = { "--write-streams", "@DIR@/streams" } }
      assert.are.equal(0, pre.rc)
      local id = {}
      for _, f in ipairs(pre.flows) do id[f.src_port] = f.flow_id end
      -- the 100 KiB download (server to client) and the PUT upload (client to server)
      local s2c = boundary_pattern(pre.dir .. "/streams", id[47514], "tcp.srcport==8080 && tcp.dstport==47514", "s2c")
      local c2s = boundary_pattern(pre.dir .. "/streams", id[38202], "tcp.srcport==38202", "c2s")
      assert.are.equal(12, #s2c)
      assert.are.equal(12, #c2s)
      local r = H.replay{ scripts = { "scripts/sigmatch.lua" }, pcaps = { SAMPLE },
         env = { WEIR_SIGS = "11:" .. hex(s2c) .. ",12:" .. hex(c2s) } }
      local by = {}
      for _, a in ipairs(r.alerts) do by[a.alert.signature_id] = (by[a.alert.signature_id] or 0) + 1 end
      assert.are.equal(1, by[11])
      assert.are.equal(1, by[12])
      assert.is_truthy(r.alerts[1].alert.signature:find("stream offset"))
   end)
   it("is quiet with its default signatures on benign traffic", function()
      local r = H.replay{ scripts = { "scripts/sigmatch.lua" }, pcaps = { SAMPLE } }
      assert.are.equal(0, r.rc) -- the script loaded and ran
      assert.are.equal(0, #r.alerts)
   end)
end)

describe("slowloris.lua", function()
   it("reports a connection that went idle with its request head unfinished, at its timeout", function()
      -- the truncated capture leaves flows open; the later capture's clock times them out
      local r = H.replay{ scripts = { "scripts/slowloris.lua" }, args = { "--idle-timeout", "1" },
         pcaps = { "tests/pcap/truncated_file/input.pcap", SAMPLE } }
      assert.are.equal(r.stats.closes.timeout, #r.alerts)
      assert.is_true(#r.alerts > 0)
      for _, a in ipairs(r.alerts) do assert.are.equal(80, a.dest_port) end
      assert.are.equal(#r.alerts, r.stats.counters["slowloris.slow_heads"] + r.stats.counters["slowloris.half_open"])
   end)
   it("reports a half-open connection (SYN never answered) at its handshake timeout", function()
      -- syn_retx's three SYNs without the answer; the sample, a year later, times the flow out
      local dir = H.tmpdir()
      local rc, out = H.run("editcap -r " .. SYN_RETX .. " " .. dir .. "/syn.pcap 1-3 2>&1")
      assert.are.equal(0, rc, out)
      assert.are.equal(3, H.tshark_count(dir .. "/syn.pcap", "tcp.flags.syn==1 && tcp.flags.ack==0"))
      local r = H.replay{ scripts = { "scripts/slowloris.lua" }, pcaps = { dir .. "/syn.pcap", SAMPLE } }
      assert.are.equal(0, r.rc)
      assert.are.equal(1, #r.alerts)
      assert.are.equal(4001, r.alerts[1].alert.signature_id)
      assert.are.equal(40011, r.alerts[1].src_port)
      assert.are.equal(1, r.stats.counters["slowloris.half_open"])
      assert.are.equal(1, r.stats.closes.timeout)
   end)
   it("stays quiet on complete requests", function()
      local r = H.replay{ scripts = { "scripts/slowloris.lua" }, pcaps = { SAMPLE } }
      assert.are.equal(0, r.rc) -- the script loaded and ran
      assert.are.equal(0, #r.alerts)
   end)
end)
