-- weir.lua — require "weir": monitoring sockets, events, UDEs, flows, timers, counters and alerts over
-- the FFI, and the dispatch loop that pulls event records from the worker (C never calls Lua per event).
local ffi = require "ffi"
local bit = require "bit"
local band, bor, lshift, tonumber, pcall, type = bit.band, bit.bor, bit.lshift, tonumber, pcall, type

local C = ffi.C
local M = {} -- the engine side (one per Lua state, i.e. per worker); scripts see a per-script API

-- Records pulled per poll: poll accepts at least WEIR_POLL_MIN; more per call means fewer calls.
local MAXREC = 256
-- Dispatch key: ((sock_id * 4) + hook) * 16 + root event (built-in events are < 16, sockets < 64).
local KEYS = 64 * 4 * 16
local function key_of(sock_id, hook, root) return bor(lshift(sock_id, 6), lshift(hook, 4), root) end

local W, H, recs, hstat, sstat, ctrs, limits, guard
local disp = {}        -- key -> array of handler entries, its length in .n (or false)
local udes = {}        -- UDE id -> { base, root, filter, slot, script, stamp, val }
local defined = {}     -- every id weir_event_define returned, to give back in _close
local socks = {}       -- sock_id -> socket object
local scripts = {}     -- index -> script object
local isock, isock_id  -- the host's own socket: CONN_END (state cleanup) and TIMER records
local timers, timer_free = {}, {} -- cookie -> { fn, flow_id, script, slot }; free cookies
local flow_timers = {} -- flow id -> array of cookies armed on it
local ended = {}       -- flow ids whose CONN_END was seen this burst (cleaned at its end)
local nended = 0
local cur = 0          -- index of the record being dispatched (the flow proxy reads it)
local live = false     -- recs[cur] has a flow and its handlers are running: the proxy may read it
local cur_script       -- script whose handler is running (state_table, alert)
local gen = 0          -- record generation: UDE filter results are cached per record
local seq = 0          -- guard.seq's next even value: odd while script code runs (the watchdog's view)

-- Constants: read from C by _init (enum values through ffi.C, names through the C name
-- functions), never written out here, so they cannot drift from weir.h -------------------------
local EV_NAMES, HOOK_NAMES, STATE_NAMES, ANOMALY_NAMES, CLOSE_NAMES -- [enum value] = name
local HOOKS            -- "PRE" -> enum value, for the API's constants
local EV_CONN_END, EV_TIMER, EV_ORPHAN, HOOK_POST_RCV, HOOK_PRE
local SIDE_ONE, SIDE_ANY -- accepted side arguments -> enum weir_side (one side; or BOTH too)
local OVERLAP          -- accepted overlap policies -> enum weir_overlap
local TABLE_EVENTS, TABLE_EVENT_ID -- the table form's handler names ("on_new_data"), in event order
local PEEK_MAX         -- most bytes one flow:peek returns (WEIR_LUA_PEEK_MAX)
local TIMER_MAX_MS     -- longest weir.timer delay (WEIR_TIMER_MAX_DAYS)
local U32_MAX = 2 ^ 32 - 1
local INT_MAX = 2 ^ 53 -- numbers up to here are exact integers in a double

-- Raises an error blamed on the first caller outside this file: the script's line (however deep
-- in weir.lua the check sits).
local function errf(fmt, ...)
	local level = 2
	while true do
		local info = debug.getinfo(level, "S")
		if not info or info.source ~= "@weir.lua" then break end
		level = level + 1
	end
	error(string.format(fmt, ...), level)
end

-- Whether v is an integer in [lo, hi] (NaN, infinities, fractions and non-numbers are not).
local function is_int(v, lo, hi)
	return type(v) == "number" and v >= lo and v <= hi and v % 1 == 0
end

-- What every script of the worker shares (the flow proxy, sockets, counters) is a userdata: a
-- script can call its methods but cannot add, replace or remove one (no rawset on a userdata, and
-- getmetatable gives false), so it cannot change another script's API. The objects of a class share
-- one metatable: newproxy(proto), proto = sealed(methods).
local function sealed(methods)
	local u = newproxy(true)
	local mt = getmetatable(u)
	mt.__index, mt.__metatable = methods, false
	return u
end

-- The tables the API builds for a script (packet, tcp_info, stats, ...) refuse a field they do not
-- have, with an error naming the call, instead of a nil (or, before, a read outside the struct).
local function strict(what)
	return { __metatable = false, __index = function(_, k)
		errf("%s has no field %s", what, tostring(k))
	end }
end

-- The flow proxy: one object per worker, pointing at the current record ------------------------
-- No allocation per event: methods read recs[cur].flow. It is valid until the handler returns.
local Flow = setmetatable({}, strict("flow"))
local flow = sealed(Flow)
local tcpi, sctr, bufi, tuple -- reused out-structs, made in _init (after the cdef)
local peekbuf, peekcap = ffi.new("uint8_t[?]", 65536), 65536

-- The current record's flow. Outside a handler given a flow (script top level, a timer without
-- a flow, an orphan's handler keeping an old proxy) recs[cur] is another record or a stale one
-- whose flow may be freed: an error, never a read.
local function fp(what)
	if not live then errf("%s: no flow here (flow methods work inside a handler given a flow)", what) end
	return recs[cur].flow
end

-- Every argument below is checked here, once, before it reaches C (which checks again what is cheap).
local function side_one(side, what)
	local s = SIDE_ONE[side]
	if not s then errf("%s: side must be weir.CLIENT or weir.SERVER (or \"client\", \"server\")", what) end
	return s
end

local function side_any(side, what)
	if side == nil then return SIDE_ANY.both end
	local s = SIDE_ANY[side]
	if not s then errf("%s: side must be weir.CLIENT, weir.SERVER or weir.BOTH (or their names)", what) end
	return s
end

local function check_off(off, what)
	if not is_int(off, 0, INT_MAX) then errf("%s: off must be a non-negative integer (at most 2^53)", what) end
end

function Flow.id()
	return tonumber(C.weir_flow_id(fp("flow:id")))
end

function Flow.state(_, side)
	local f = fp("flow:state")
	return STATE_NAMES[C.weir_flow_state(f, side_one(side, "flow:state"))]
end

-- A C struct as a new Lua table of numbers (shape: from struct_shape): no cdata reaches a script,
-- since the FFI checks no bounds of a struct's arrays nor of a pointer.
local function plain(s, shape)
	local t = {}
	for i = 1, #shape do
		local name, n = shape[i][1], shape[i][2]
		local v = s[name]
		if n then
			local a = {}
			for j = 0, n - 1 do a[j] = tonumber(v[j]) end
			t[name] = setmetatable(a, shape.amt[name])
		else
			t[name] = tonumber(v)
		end
	end
	return setmetatable(t, shape.mt)
end

local TCP_INFO, SIDE_COUNTERS, BUF_INFO, STATS -- shapes, made in _init from the cdef

function Flow.tcp_info(_, side)
	local f = fp("flow:tcp_info")
	C.weir_flow_tcp_info(f, side_one(side, "flow:tcp_info"), tcpi)
	return plain(tcpi, TCP_INFO)
end

function Flow.counters(_, side)
	local f = fp("flow:counters")
	C.weir_flow_counters(f, side_one(side, "flow:counters"), sctr)
	return plain(sctr, SIDE_COUNTERS)
end

function Flow.buf_info(_, side)
	local f = fp("flow:buf_info")
	C.weir_flow_buf_info(f, side_one(side, "flow:buf_info"), bufi)
	return plain(bufi, BUF_INFO)
end

-- The next in-order stream offset of side (= bytes delivered, gaps included).
local function next_of(f, side)
	C.weir_flow_buf_info(f, side, bufi)
	return tonumber(bufi.next)
end

function Flow.next(_, side)
	local f = fp("flow:next")
	return next_of(f, side_one(side, "flow:next"))
end

-- Copies at most PEEK_MAX bytes; the buffer grows by doubling up to that size.
local function peek(f, side, off, len)
	if len > peekcap then
		if len > PEEK_MAX then len = PEEK_MAX end
		while peekcap < len do peekcap = peekcap * 2 end
		peekbuf = ffi.new("uint8_t[?]", peekcap)
	end
	local n = tonumber(C.weir_flow_peek(f, side, off, peekbuf, len))
	if n < 0 then return nil, n end
	return ffi.string(peekbuf, n)
end

function Flow.peek(_, side, off, len)
	local f = fp("flow:peek")
	side = side_one(side, "flow:peek")
	check_off(off, "flow:peek")
	if not is_int(len, 0, INT_MAX) then errf("flow:peek: len must be a non-negative integer") end
	return peek(f, side, off, len)
end

-- Zero-copy views ---------------------------------------------------------------------------------
-- A view is a const cdata { address as an integer, length, generation }: no pointer (a script has no
-- ffi to make one of the integer), and fields it cannot write. Its bytes are read through View's
-- checks only, and only while vgen is the one it was made in: vgen moves at every record (the
-- stream may grow, move or be freed at the next poll) and at every call that may change the buffer
-- (buffering, overlap, stop, drop).
local view_t
local u8p = ffi.typeof("const uint8_t *")
local vgen = 0
-- weir_flow_view's out-pointer, read back as the integer a view keeps (one cast, made here, not per call)
local viewa = ffi.new("uint64_t[1]")
local viewp = ffi.cast("const uint8_t **", viewa)
local View = {}

-- v's length; v is a view (the metamethods get nothing else; View.sub checks it).
local function live_view(v, what)
	if v.gen ~= vgen then errf("%s: the view is stale (views are valid until the handler returns, or until the flow's buffer changes)", what) end
	return v.len
end

local function view_index(v, i)
	if type(i) ~= "number" then
		local m = View[i]
		if m == nil then errf("view has no field %s", tostring(i)) end
		return m
	end
	local n = live_view(v, "view[i]")
	if not (i >= 0 and i < n and i % 1 == 0) then
		errf("view[i]: i must be an integer from 0 to #view - 1 = %d (got %s)", n - 1, tostring(i))
	end
	return ffi.cast(u8p, v.addr)[i]
end

-- v:sub(i, j): bytes i to j as a Lua string, by string.sub's rules (1-based, negative from the end).
function View.sub(v, i, j)
	if not ffi.istype(view_t, v) then errf("view:sub: call it on a view, as v:sub(i, j)") end
	local n = live_view(v, "view:sub")
	if i == nil then i = 1 elseif not is_int(i, -INT_MAX, INT_MAX) then errf("view:sub: i must be an integer") end
	if j == nil then j = -1 elseif not is_int(j, -INT_MAX, INT_MAX) then errf("view:sub: j must be an integer") end
	if i < 0 then i = n + i + 1 end
	if j < 0 then j = n + j + 1 end
	if i < 1 then i = 1 end
	if j > n then j = n end
	if i > j then return "" end
	return ffi.string(ffi.cast(u8p, v.addr) + (i - 1), j - i + 1)
end

local VIEW_MT = {
	__index = view_index,
	__newindex = function() errf("a view is read-only") end,
	__len = function(v) return live_view(v, "#view") end,
	__tostring = function(v) return View.sub(v) end,
}
ffi.cdef "struct weir_lua_view { const uint64_t addr; const double len, gen; };"
view_t = ffi.metatype("struct weir_lua_view", VIEW_MT)

-- The longest contiguous delivered run at off, as a view, and its length.
function Flow.view(_, side, off)
	local f = fp("flow:view")
	side = side_one(side, "flow:view")
	check_off(off, "flow:view")
	local n = tonumber(C.weir_flow_view(f, side, off, viewp))
	if n < 0 then return nil, n end
	return view_t(viewa[0], n, vgen), n
end

-- The bytes NEW_DATA just added to side (n = the event's arg); nil when buffering is off.
function Flow.new_bytes(_, side, n)
	local f = fp("flow:new_bytes")
	side = side_one(side, "flow:new_bytes")
	if not is_int(n, 0, INT_MAX) then errf("flow:new_bytes: n must be a non-negative integer") end
	local nx = next_of(f, side)
	if n == 0 or n > nx then return nil end
	return peek(f, side, nx - n, n)
end

function Flow.buffering(_, side, on)
	local f = fp("flow:buffering")
	vgen = vgen + 1
	return C.weir_flow_set_buffering(f, side_any(side, "flow:buffering"), on and true or false) == 0
end

function Flow.overlap(_, side, policy)
	local f = fp("flow:overlap")
	side = side_any(side, "flow:overlap")
	local p = OVERLAP[policy]
	if not p then errf("flow:overlap: policy must be \"first\" or \"last\"") end
	vgen = vgen + 1
	return C.weir_flow_set_overlap(f, side, p) == 0
end

function Flow.stop(_, side)
	local f = fp("flow:stop")
	vgen = vgen + 1
	return C.weir_flow_stop_monitor(f, side_any(side, "flow:stop")) == 0
end

function Flow.midstream()
	return C.weir_flow_midstream(fp("flow:midstream")) == 1
end

local function drop()
	vgen = vgen + 1
	return C.weir_worker_drop(W) == 0
end
Flow.drop = drop

local function ip_string(b, ver)
	if ver == 6 then
		local t = {}
		for i = 0, 14, 2 do t[#t + 1] = string.format("%x", b[i] * 256 + b[i + 1]) end
		-- RFC 5952: the longest run of two or more zero groups becomes "::" (as inet_ntop writes it)
		local s = ":" .. table.concat(t, ":") .. ":"
		local best
		for run in s:gmatch(":[0:]+:") do
			if #run >= 5 and (not best or #run > #best) then best = run end
		end
		if best then
			local i = s:find(best, 1, true)
			s = s:sub(1, i - 1) .. "::" .. s:sub(i + #best)
		end
		return (s:gsub("^:([^:])", "%1"):gsub("([^:]):$", "%1"))
	end
	return string.format("%d.%d.%d.%d", b[0], b[1], b[2], b[3])
end

-- A new table (not for every packet): client/server address strings and ports.
function Flow.tuple()
	C.weir_flow_tuple(fp("flow:tuple"), tuple)
	return { client_ip = ip_string(tuple.client_ip, tuple.ip_ver), server_ip = ip_string(tuple.server_ip, tuple.ip_ver),
		client_port = tuple.client_port, server_port = tuple.server_port, ip_ver = tuple.ip_ver }
end

-- A table for the script's own state on this flow, kept until the flow ends.
function Flow.state_table()
	local id = tonumber(C.weir_flow_id(fp("flow:state_table")))
	local st = cur_script.states
	local t = st[id]
	if not t then
		t = {}
		st[id] = t
		cur_script.nstates = cur_script.nstates + 1
	end
	return t
end

-- The current packet: one table per script, refreshed by each call ------------------------------
-- Only numbers, booleans and functions: the engine's struct weir_pkt (pointers to the frame and
-- the payload, arrays) never reaches a script. The bytes are read at the call, so only while there
-- is a packet: a table kept from an earlier event would point into a frame that may be gone.
local function cur_pkt(what)
	local p = C.weir_worker_packet(W)
	if p == nil then errf("%s: no packet here (only inside a handler whose event has one)", what) end
	return p
end

local function payload()
	local p = cur_pkt("packet.payload")
	if p.payload_len == 0 then return "" end
	return ffi.string(p.payload, p.payload_len)
end

local PKT_MT, PKT_TCP_MT = strict("flow:packet()"), strict("flow:packet().tcp")
local PKT_IP_MT = { __metatable = false, __index = function(_, k)
	if k == "src" or k == "dst" then
		local p = cur_pkt("packet.ip." .. k)
		return ip_string(p[k], p.ip_ver)
	end
	errf("flow:packet().ip has no field %s", tostring(k))
end }

function Flow.packet()
	local p = C.weir_worker_packet(W)
	if p == nil then return nil end
	local P = cur_script.packet
	if not P then
		P = setmetatable({ payload = payload, tcp = setmetatable({}, PKT_TCP_MT), ip = setmetatable({}, PKT_IP_MT) }, PKT_MT)
		cur_script.packet = P
	end
	local f, t, ip = p.tcp_flags, P.tcp, P.ip
	P.ts = tonumber(p.ts_ns)
	P.len, P.payload_len = p.wirelen, p.payload_len
	t.flags = f
	t.fin, t.syn, t.rst, t.psh = band(f, 1) ~= 0, band(f, 2) ~= 0, band(f, 4) ~= 0, band(f, 8) ~= 0
	t.ack, t.urg, t.ece, t.cwr = band(f, 16) ~= 0, band(f, 32) ~= 0, band(f, 64) ~= 0, band(f, 128) ~= 0
	t.seq, t.ackno, t.win, t.sport, t.dport = p.seq, p.ack, p.win, p.sport, p.dport
	ip.ver, ip.ttl, ip.len = p.ip_ver, p.ttl, p.ip_len
	return P
end

-- Error containment -----------------------------------------------------------------------------
local MEM_ERR = "not enough memory" -- LuaJIT's message when the allocator refuses (lua.memory_mb)

local function on_error(e, err)
	local s = e.slot
	local n = tonumber(hstat[s].errors) + 1
	hstat[s].errors = n
	local ss = sstat[e.script.index]
	ss.errors = ss.errors + 1
	if guard.tripped ~= 0 then
		ss.budget_stops = ss.budget_stops + 1
	elseif err == MEM_ERR then
		ss.memory_errors = ss.memory_errors + 1
		-- what the failed call built is garbage now: collect it before the next handler allocates
		collectgarbage()
		err = string.format("%s: the Lua heap reached its limit (lua.memory_mb = %d)", MEM_ERR, limits.memory_mb)
	end
	local every = limits.log_every
	if n == 1 or (every > 0 and n % every == 0) then
		-- no tostring of a script's table: its __tostring would run here, outside the budget
		local msg = (type(err) == "string" or type(err) == "number") and err or "(a " .. type(err) .. " as error value)"
		io.stderr:write(string.format("weir: %s: %s (error %d)\n", e.where, msg, n))
	end
	if limits.max_errors > 0 and n >= limits.max_errors then
		e.disabled = true
		hstat[s].disabled = 1
		io.stderr:write(string.format("weir: %s: disabled after %d errors\n", e.where, n))
	end
end

-- The time budget: guard.seq is odd while script code runs; lua/host.c's watchdog stops a call that
-- keeps it for limits.budget_ms (a hook raising "time budget ... exceeded" in the script's code, JIT-
-- compiled loops included) and sets guard.tripped, so the sandbox's pcall, xpcall and coroutine.resume
-- raise it again. Runs f(...) as one such call; returns pcall's results.
local function guarded(f, a, b, c, d)
	seq = band(seq + 2, 0x3fffffff)
	guard.seq, guard.tripped = seq + 1, 0
	local ok, err = pcall(f, a, b, c, d)
	guard.seq = seq
	return ok, err
end

-- Timing is sampled: one call in TIME_EVERY reads the clock (a clock read costs about an event).
local TIME_EVERY = 16

local function call(e, fl, side, arg, ev)
	local s = e.slot
	local n = hstat[s].events + 1
	hstat[s].events = n
	cur_script = e.script
	local ok, err
	if band(seq, 2 * TIME_EVERY - 2) == 0 then
		local t0 = C.weir_lua_clock_ns()
		ok, err = guarded(e.fn, fl, side, arg, ev)
		hstat[s].timed_ns = hstat[s].timed_ns + (C.weir_lua_clock_ns() - t0)
		hstat[s].timed = hstat[s].timed + 1
	else
		ok, err = guarded(e.fn, fl, side, arg, ev)
	end
	if not ok then on_error(e, err) end
	return ok and err
end

-- Whether UDE u fires for the current record: its base fired and its filter agrees (cached per record).
local function ude_fires(u, fl, side, arg)
	if u.stamp == gen then return u.val end
	local v = true
	local b = udes[u.base]
	if b then v = ude_fires(b, fl, side, arg) end
	if v then
		local fe = u.fentry
		if fe.disabled then v = false else v = call(fe, fl, side, arg, u.id) and true or false end
	end
	u.stamp, u.val = gen, v
	return v
end

-- The dispatcher ----------------------------------------------------------------------------------
local function host_record(r, fl)
	local ev = r.event
	if ev == EV_CONN_END then
		nended = nended + 1
		ended[nended] = tonumber(C.weir_flow_id(r.flow))
	elseif ev == EV_TIMER then
		local cookie = tonumber(r.arg)
		local t = timers[cookie]
		if t then
			timers[cookie] = false
			timer_free[#timer_free + 1] = cookie
			-- a script's timer callbacks share one stats slot
			local e = t.script.timer_entry
			e.fn = t.fn
			if not e.disabled then call(e, fl, 2, cookie, EV_TIMER) end
		end
	end
end

local function cleanup()
	for i = 1, nended do
		local id = ended[i]
		for _, s in ipairs(scripts) do
			if s.states[id] then
				s.states[id] = nil
				s.nstates = s.nstates - 1
			end
		end
		local ft = flow_timers[id]
		if ft then
			for _, cookie in ipairs(ft) do
				if timers[cookie] then
					timers[cookie] = false
					timer_free[#timer_free + 1] = cookie
				end
			end
			flow_timers[id] = nil
		end
		ended[i] = nil
	end
	nended = 0
end

local function dispatch(n)
	for i = 0, n - 1 do
		local r = recs[i]
		cur = i
		gen, vgen = gen + 1, vgen + 1
		local fl = flow
		live = true
		if r.flow == nil then fl, live = nil, false end
		local sid = r.sock_id
		-- the common case first: a script socket's handlers (the host's socket and the C host's
		-- have no list, nor has a script socket once closed)
		local list = disp[key_of(sid, r.hook, r.event)]
		if list then
			local side, arg = r.side, tonumber(r.arg)
			for k = 1, list.n do
				local e = list[k]
				if not e.disabled then
					local u = e.ude
					if not u or ude_fires(u, fl, side, arg) then
						call(e, fl, side, arg, e.event)
					end
				end
			end
		elseif sid == isock_id then
			host_record(r, fl)
		elseif not socks[sid] then -- a socket of the C host (weir replay --write-streams): its C handlers
			C.weir_dispatch(W, recs + i, 1)
		end
	end
end

function M._run()
	while true do
		local n = C.weir_worker_poll(W, recs, MAXREC)
		if n <= 0 then break end
		dispatch(n)
	end
	live = false -- the last record's flow may be freed by now
	vgen = vgen + 1
	if nended > 0 then cleanup() end
end

-- Registration ------------------------------------------------------------------------------------
local function where_of(fn, what)
	local info = debug.getinfo(fn, "S")
	local src = info.short_src:match("[^/]*$")
	return string.format("%s:%d %s", src, info.linedefined, what)
end

local function new_entry(script, fn, what)
	local slot = C.weir_lua_slot_handler(H, script.index, where_of(fn, what))
	if slot < 0 then errf("too many handlers (at most %d per worker)", C.WEIR_LUA_MAX_HANDLERS) end
	return { fn = fn, slot = slot, script = script, where = ffi.string(hstat[slot].where), disabled = false }
end

local function event_name(ev)
	return EV_NAMES[ev] or ("ude" .. ev)
end

local Sock = setmetatable({}, strict("a socket"))
-- socket object (what scripts hold) -> { ptr, id, script, closed }: kept out of the object, where a
-- script would change the id (another socket's handlers) or the C pointer
local sstate = setmetatable({}, { __mode = "k" })
local sock_proto = sealed(Sock) -- no socket: every socket shares its metatable

-- The root of event ev (a built-in event or a defined UDE id).
local function root_of(ev, what)
	if not is_int(ev, 0, U32_MAX) then errf("%s: event must be a weir.ON_* event or a weir.define_event id", what) end
	local r = C.weir_event_root(W, ev)
	if r < 0 then errf("%s: unknown event %s", what, tostring(ev)) end
	return r
end

-- The socket's state, or an error naming the call when self is no socket or is closed.
local function sock_of(self, what)
	local st = sstate[self]
	if not st then errf("%s: call it on a socket, as %s(...)", what, what) end
	if st.closed then errf("%s: socket is closed", what) end
	return st
end

-- The hook argument (nil: the event's only packet hook, PRE for ORPHAN, else POST_RCV).
local function hook_arg(hook, root, what)
	if hook == nil then return root == EV_ORPHAN and HOOK_PRE or HOOK_POST_RCV end
	if not HOOK_NAMES[hook] then errf("%s: hook must be weir.PRE, weir.POST_SND or weir.POST_RCV", what) end
	return hook
end

-- sock:register(event, [hook,] fn): fn(flow, side, arg, event) runs when event fires at hook.
function Sock:register(ev, hook, fn)
	local st = sock_of(self, "sock:register")
	if fn == nil and type(hook) == "function" then hook, fn = nil, hook end
	local root = root_of(ev, "sock:register")
	hook = hook_arg(hook, root, "sock:register")
	if type(fn) ~= "function" then errf("sock:register: fn must be a function") end
	if C.weir_msock_register(st.ptr, ev, hook, nil, nil) ~= 0 then
		errf("sock:register: event %s is never raised at hook %s", event_name(ev), HOOK_NAMES[hook])
	end
	local e = new_entry(st.script, fn, event_name(ev) .. "@" .. HOOK_NAMES[hook])
	e.event, e.hook, e.ude = ev, hook, udes[ev] or false -- false, not nil: a key the entry always has is a fixed slot in a trace
	local key = key_of(st.id, hook, root)
	local list = disp[key] or { n = 0 }
	list.n = list.n + 1
	list[list.n] = e
	disp[key] = list
	return self
end

-- sock:unregister(event, [hook]): removes every handler of (event, hook) on the socket.
function Sock:unregister(ev, hook)
	local st = sock_of(self, "sock:unregister")
	local root = root_of(ev, "sock:unregister")
	hook = hook_arg(hook, root, "sock:unregister")
	if C.weir_msock_unregister(st.ptr, ev, hook) ~= 0 then return false end
	local key = key_of(st.id, hook, root)
	local list, kept = disp[key], { n = 0 }
	for _, e in ipairs(list or {}) do
		if e.event ~= ev then
			kept.n = kept.n + 1
			kept[kept.n] = e
		end
	end
	disp[key] = kept.n > 0 and kept or false
	return true
end

-- Closing twice is a no-op; every other method of a closed socket is an error.
function Sock:close()
	local st = sstate[self]
	if not st then errf("sock:close: call it on a socket, as sock:close()") end
	if st.closed then return end
	C.weir_msock_close(st.ptr)
	for key = st.id * 64, st.id * 64 + 63 do
		-- handlers still to run for the record being dispatched are skipped too
		for _, e in ipairs(disp[key] or {}) do e.disabled = true end
		disp[key] = false
	end
	socks[st.id] = nil
	st.closed, st.ptr = true, nil
end

local errbuf = ffi.new("char[512]") -- filter compiler messages

local function monitor_socket(script, filter)
	if filter ~= nil and (type(filter) ~= "string" or filter:find("\0", 1, true)) then
		errf("weir.monitor_socket: filter must be nil or a string (a tcpdump expression) without NUL bytes")
	end
	local p = C.weir_msock_create(W, filter, errbuf, 512)
	if p == nil then errf("monitor_socket(%q): %s", tostring(filter), ffi.string(errbuf)) end
	local s = newproxy(sock_proto)
	local st = { ptr = p, id = tonumber(C.weir_msock_id(p)), script = script }
	sstate[s] = st
	socks[st.id] = s
	return s
end

local function define_event(script, base, filter)
	local root = root_of(base, "weir.define_event")
	if type(filter) ~= "function" then errf("weir.define_event: filter must be a function") end
	-- A distinct cookie per Lua UDE gives each its own C id (C dedups equal (base, filter, user)).
	local id = C.weir_event_define(W, base, nil, ffi.cast("void *", #udes + 1 + 4096 * (script.index + 1)))
	if id < 0 then errf("cannot define an event on %s (%d)", tostring(base), id) end
	local u = { id = id, base = base, root = root, stamp = -1, val = false, script = script }
	u.fentry = new_entry(script, filter, "filter of ude" .. id)
	udes[id] = u
	udes[#udes + 1] = u
	defined[#defined + 1] = id
	return id
end

-- Timers, counters, alerts ---------------------------------------------------------------------------
-- The flow argument of weir.timer and weir.alert: nil/false, or the handler's own flow.
local function flow_arg(fl, what)
	if not fl then return nil end
	if fl ~= flow then errf("%s: flow must be the flow a handler was given", what) end
	if not live then errf("%s: flow: no flow here (only inside a handler given a flow)", what) end
	return recs[cur].flow
end

local function timer(script, ms, fn, fl)
	if type(ms) ~= "number" or not (ms >= 0 and ms <= TIMER_MAX_MS) then
		errf("weir.timer: ms must be a number from 0 to %d", TIMER_MAX_MS)
	end
	if type(fn) ~= "function" then errf("weir.timer: fn must be a function") end
	local ptr = flow_arg(fl, "weir.timer")
	local id = ptr and tonumber(C.weir_flow_id(ptr))
	local cookie = table.remove(timer_free) or (#timers + 1)
	if C.weir_timer_add(isock, ptr, ms, cookie) ~= 0 then
		timer_free[#timer_free + 1] = cookie
		return false
	end
	timers[cookie] = { fn = fn, script = script }
	if id then
		local ft = flow_timers[id] or {}
		ft[#ft + 1] = cookie
		flow_timers[id] = ft
	end
	return true
end

local Counter = setmetatable({}, strict("a counter"))
local counter_proto = sealed(Counter)
-- counter object -> its C slot: kept out of the object, where a script would do pointer arithmetic
-- on it and write anywhere in the process
local cslot = {}

local function slot_of(self, what)
	local c = cslot[self]
	if not c then errf("%s: call it on a counter, as counter:%s()", what, what:match("[^:]*$")) end
	return c
end

function Counter:inc(n)
	local c = slot_of(self, "counter:inc")
	if n == nil then n = 1 elseif not is_int(n, -INT_MAX, INT_MAX) then
		errf("counter:inc: n must be an integer (default 1)")
	end
	if n >= 0 then
		c.value = c.value + n
	else -- (uint64_t)-1.0 is undefined, and a wrapped counter would read 2^64 - 1
		if c.value < -n then errf("counter:inc: %s would go below 0", ffi.string(c.name)) end
		c.value = c.value - (-n)
	end
end
function Counter:set(n)
	local c = slot_of(self, "counter:set")
	if not is_int(n, 0, INT_MAX) then errf("counter:set: n must be a non-negative integer") end
	c.value = n
end
function Counter:get()
	return tonumber(slot_of(self, "counter:get").value)
end

local counters = {}
local function counter(name)
	if type(name) ~= "string" or name == "" or name:find("\0", 1, true) then
		errf("weir.counter: name must be a non-empty string without NUL bytes")
	end
	if counters[name] then return counters[name] end
	local i = C.weir_lua_slot_counter(H, name)
	if i < 0 then errf("too many counters (at most %d)", C.WEIR_LUA_MAX_COUNTERS) end
	local c = newproxy(counter_proto)
	cslot[c] = ctrs + i
	counters[name] = c
	return c
end

local function alert(script, a)
	if type(a) ~= "table" then errf("usage: weir.alert{msg = ..., sid = ..., severity = ..., flow = ...}") end
	local msg, sid, sev = a.msg, a.sid or 0, a.severity or 3
	if type(msg) ~= "string" or msg:find("\0", 1, true) then errf("weir.alert: msg must be a string without NUL bytes") end
	if not is_int(sid, 0, U32_MAX) then errf("weir.alert: sid must be an integer from 0 to %d", U32_MAX) end
	if not is_int(sev, 1, 255) then errf("weir.alert: severity must be an integer from 1 to 255") end
	C.weir_lua_raise_alert(H, script.index, flow_arg(a.flow, "weir.alert"), sid, sev, msg)
end

-- weir.json_string(s): s quoted and escaped by weir's one JSON escaper (the EVE file's rules: control
-- bytes as \u00XX, ill-formed UTF-8 as U+FFFD), for scripts that write JSON of their own. One buffer
-- per Lua state, grown to the largest string seen.
local json_buf, json_cap = nil, 0
local function json_string(s)
	if type(s) ~= "string" then errf("weir.json_string: s must be a string") end
	local cap = 6 * #s + 3
	if cap > json_cap then json_buf, json_cap = ffi.new("char[?]", cap), cap end
	return ffi.string(json_buf, C.weir_lua_json_string(json_buf, cap, s, #s))
end

-- The per-script API ---------------------------------------------------------------------------------
local function copy(t)
	local c = {}
	for k, v in pairs(t) do c[k] = v end
	return c
end

local function make_api(script)
	local api = {
		PRE_TCP = HOOK_PRE, POST_TCP = HOOK_POST_RCV,
		CLIENT = SIDE_ANY.client, SERVER = SIDE_ANY.server, BOTH = SIDE_ANY.both,
		-- copies: a script changing its tables changes nothing for the engine or other scripts
		event_names = copy(EV_NAMES), state_names = copy(STATE_NAMES), anomaly_names = copy(ANOMALY_NAMES),
		close_names = copy(CLOSE_NAMES), hook_names = copy(HOOK_NAMES),
		script = script.name,
	}
	for name, v in pairs(HOOKS) do api[name] = v end
	for i, name in pairs(EV_NAMES) do api["ON_" .. name:upper()] = i end
	for i, name in pairs(ANOMALY_NAMES) do api["AN_" .. name:upper()] = i end
	-- (no tail calls: an error's level must reach the script's line)
	function api.monitor_socket(filter)
		local s = monitor_socket(script, filter)
		return s
	end
	function api.define_event(base, filter)
		local id = define_event(script, base, filter)
		return id
	end
	function api.timer(ms, fn, fl)
		local ok = timer(script, ms, fn, fl)
		return ok
	end
	function api.counter(name)
		local c = counter(name)
		return c
	end
	function api.alert(a)
		alert(script, a)
	end
	function api.json_string(s)
		local j = json_string(s)
		return j
	end
	api.drop = drop
	function api.now() return tonumber(C.weir_worker_now(W)) end
	function api.packet() return Flow.packet() end
	function api.stats() return plain(C.weir_worker_stats(W), STATS) end
	return api
end

-- The sandbox -----------------------------------------------------------------------------------------
-- A script's environment (lua/README.md, "The sandbox"): nothing that leaves the process (os.exit,
-- os.execute, io beyond appending to files the operator named, ffi, C modules), escapes the budget
-- (debug, jit, collectgarbage("stop"), a pcall catching the budget error) or runs code the budget
-- cannot see (bytecode, string.dump, setfenv/getfenv reaching another environment). Libraries are
-- copies: a script changing one changes it for nobody else.
local SAFE_GLOBALS = { "_VERSION", "assert", "error", "getmetatable", "ipairs", "next", "pairs", "rawequal",
	"rawget", "rawlen", "rawset", "select", "setmetatable", "tonumber", "tostring", "type", "unpack" }
local SAFE_LIBS = { string = true, table = true, math = true, bit = true, coroutine = true }

-- t, where a name real has but the sandbox left out is an error naming it (not a nil to call).
local function refusing(t, real, prefix)
	return setmetatable(t, { __index = function(_, k)
		if real[k] ~= nil then
			errf("%s%s is not available to weir scripts (the sandbox: lua/README.md)", prefix, tostring(k))
		end
	end })
end

-- string.rep as scripts see it: LuaJIT takes a count of 2^31 or more modulo 2^32 (string.rep("x", 2^32)
-- is "", no error), so such a count is an error here; a smaller count's result too long for memory or a
-- string fails in LuaJIT itself.
local function s_rep(s, n, sep)
	local c = tonumber(n)
	if c and c >= 2 ^ 31 then errf("string.rep: count %.0f is beyond the longest string (2^31 - 1 bytes)", c) end
	return string.rep(s, n, sep)
end

local function safe_lib(name)
	local t = copy(_G[name])
	t.dump = nil -- string.dump: bytecode, which load would run unchecked
	if name == "string" then t.rep = s_rep end
	return refusing(t, _G[name], name .. ".")
end

-- pcall, xpcall and coroutine.resume as scripts see them: a budget overrun is raised again.
local function through(ok, ...)
	if not ok and guard.tripped ~= 0 then error((...), 0) end
	return ok, ...
end

local function s_pcall(f, ...)
	return through(pcall(f, ...))
end

local function s_xpcall(f, h, ...)
	return through(xpcall(f, function(e)
		if guard.tripped ~= 0 then return e end -- a message handler gets no time after the budget ran out
		return h(e)
	end, ...))
end

local function s_resume(co, ...)
	return through(coroutine.resume(co, ...))
end

local function s_collectgarbage(opt)
	if opt ~= "count" then errf("collectgarbage: weir scripts may only ask for the \"count\"") end
	return collectgarbage("count")
end

-- A write-only file: write and flush (and close when the script opened it).
local function writer(f, closable)
	local w = {}
	function w.write(self, ...)
		f:write(...)
		return self
	end
	function w.flush(self)
		f:flush()
		return self
	end
	if closable then
		function w.close() return f:close() end
	end
	return w
end

local sandbox

-- A trusted script's environment ({ "x.lua", trusted = true } in the config): every global of the
-- state (ffi, io, os, debug, jit, load, require of any module) read through, its own globals kept to
-- itself; require "weir" gives its API. Its handlers still run under the time budget and the heap
-- cap, but its own pcall can catch a budget error, and debug or ffi can undo anything: trusted means
-- the operator vouches for the script.
local function trusted_env(api)
	local env = setmetatable({}, { __index = _G })
	env.require = function(name)
		if name == "weir" then return api end
		return require(name)
	end
	return env
end

-- require as scripts see it: "weir", the libraries above, and Lua source files (never bytecode, never
-- C) in the script's own directory, then in the site's and the shipped scripts' (the directories a
-- config's bare script names are looked up in, from C), each run once per script in a sandbox of
-- its own.
local function s_require(script, api, env, name)
	if name == "weir" then return api end
	if type(name) == "string" and SAFE_LIBS[name] then return env[name] end
	local ok = type(name) == "string"
	if ok then
		for part in (name .. "."):gmatch("(.-)%.") do ok = ok and part:match("^[%w_]+$") ~= nil end
	end
	if not ok then errf("require: %s is not a module name (letters, digits, _ and dots)", tostring(name)) end
	local mods = script.modules
	if mods[name] ~= nil then return mods[name] end
	local file, dirs = name:gsub("%.", "/") .. ".lua", { script.dir }
	while true do
		local d = C.weir_lua_script_dir(#dirs - 1)
		if d == nil then break end
		dirs[#dirs + 1] = ffi.string(d)
	end
	local path
	for _, d in ipairs(dirs) do
		local fh = io.open(d .. "/" .. file, "r")
		if fh then
			fh:close()
			path = d .. "/" .. file
			break
		end
	end
	if not path then
		errf("require: module %s is not available to weir scripts (no %s in %s)", name, file, table.concat(dirs, ", "))
	end
	local f, err = loadfile(path, "t")
	if not f then errf("require %s: %s", name, err) end
	setfenv(f, sandbox(script, api))
	local ret = f(name)
	if ret == nil then ret = true end
	mods[name] = ret
	return ret
end

-- A new environment for script (its file or a module it requires); api is what require "weir" returns.
function sandbox(script, api)
	local env = {}
	for _, k in ipairs(SAFE_GLOBALS) do env[k] = _G[k] end
	for name in pairs(SAFE_LIBS) do env[name] = safe_lib(name) end
	env._G = env
	env.pcall, env.xpcall, env.collectgarbage = s_pcall, s_xpcall, s_collectgarbage
	env.coroutine.resume = s_resume
	local named = {} -- paths read from WEIR_ variables: the files io.open may append to
	env.os = refusing({ time = os.time, clock = os.clock, date = os.date }, os, "os.")
	-- only weir's own variables: the rest of the environment (credentials) is not a script's business
	function env.os.getenv(name)
		if type(name) ~= "string" or name:sub(1, 5) ~= "WEIR_" then return nil end
		local v = os.getenv(name)
		if v then named[v] = true end
		return v
	end
	env.io = refusing({ stdout = writer(io.stdout), stderr = writer(io.stderr) }, io, "io.")
	function env.io.open(path, mode)
		if not named[path] or mode ~= "a" then
			errf("io.open: weir scripts may only append (mode \"a\") to a file named by a WEIR_ variable (os.getenv)")
		end
		local f, err = io.open(path, "a")
		if not f then return nil, err end
		return writer(f, true)
	end
	function env.print(...)
		local t = {}
		for i = 1, select("#", ...) do t[i] = tostring((select(i, ...))) end
		io.stderr:write("weir: ", script.name, ": ", table.concat(t, "\t"), "\n")
	end
	function env.require(name)
		local m = s_require(script, api, env, name)
		return m
	end
	return refusing(env, _G, "")
end

-- Called by the host ------------------------------------------------------------------------------------
-- [0 .. count - 1] = name, from one of the C name functions.
local function names_of(name_fn, count)
	local t = {}
	for i = 0, count - 1 do t[i] = ffi.string(name_fn(i)) end
	return t
end

-- The shape plain() copies struct name by, read from the declarations (so it cannot drift from
-- weir.h): { { field }, { array field, count }, ...; mt = strict table of what, amt = per array }.
-- Padding is left out; a field that is not a fixed-width integer is an error at start, not a
-- pointer handed to scripts.
local function struct_shape(cdef, name, what)
	-- plain finds: a pattern match tried at every offset of the declarations cost more than the
	-- rest of a state's start
	local _, from = cdef:find("struct " .. name .. " {", 1, true)
	local to = from and cdef:find("};", from, true)
	if not to then error("weir.lua: no struct " .. name .. " in the declarations") end
	local body = cdef:sub(from + 1, to - 1)
	local shape = { mt = strict(what), amt = {} }
	for decl in body:gmatch("[^;]+") do
		local ty, list = decl:match("^%s*(%S+)%s+(.*%S)")
		if ty then
			if not ty:match("^u?int%d+_t$") then error("weir.lua: " .. name .. " has a field of type " .. ty) end
			for f in list:gmatch("[^,%s]+") do
				local field, n = f:match("^([%w_]+)%[([%w_]+)%]$")
				field = field or f
				n = n and (tonumber(n) or C[n])
				if not field:match("^pad") then
					shape[#shape + 1] = { field, n }
					if n then shape.amt[field] = strict(what .. "." .. field) end
				end
			end
		end
	end
	return shape
end

-- Fills the constants from the C declarations just loaded.
local function init_constants()
	EV_NAMES = names_of(C.weir_event_name, C.WEIR_EV_BUILTIN_COUNT)
	STATE_NAMES = names_of(C.weir_tcp_state_name, C.WEIR_TCP_STATE_COUNT)
	ANOMALY_NAMES = names_of(C.weir_anomaly_name, C.WEIR_AN_COUNT)
	CLOSE_NAMES = names_of(C.weir_close_reason_name, C.WEIR_CLOSE_COUNT)
	-- Hooks have no C name function: their names are the enum's, lowercased; a hook weir.h adds
	-- or renames fails here, at start, not in a script.
	HOOKS, HOOK_NAMES = {}, {}
	for _, name in ipairs { "PRE", "POST_SND", "POST_RCV" } do
		local v = C["WEIR_HOOK_" .. name]
		HOOKS[name], HOOK_NAMES[v] = v, name:lower()
	end
	if #HOOK_NAMES + 1 ~= C.WEIR_HOOK_COUNT then error("weir.lua names fewer hooks than weir.h has") end
	-- the dispatch key packs the root event in 4 bits and the hook in 2
	if C.WEIR_EV_BUILTIN_COUNT > 16 or C.WEIR_HOOK_COUNT > 4 then error("dispatch keys too small for weir.h") end
	EV_CONN_END, EV_TIMER, EV_ORPHAN = C.WEIR_EV_CONN_END, C.WEIR_EV_TIMER, C.WEIR_EV_ORPHAN
	HOOK_PRE, HOOK_POST_RCV = C.WEIR_HOOK_PRE, C.WEIR_HOOK_POST_RCV
	SIDE_ONE, SIDE_ANY = {}, {}
	for name, v in pairs { client = C.WEIR_SIDE_CLIENT, server = C.WEIR_SIDE_SERVER, both = C.WEIR_SIDE_BOTH } do
		SIDE_ANY[name], SIDE_ANY[v] = v, v
		if name ~= "both" then SIDE_ONE[name], SIDE_ONE[v] = v, v end
	end
	local first, last = C.WEIR_OVERLAP_FIRST, C.WEIR_OVERLAP_LAST
	OVERLAP = { first = first, last = last, [first] = first, [last] = last }
	PEEK_MAX = C.WEIR_LUA_PEEK_MAX
	TIMER_MAX_MS = C.WEIR_TIMER_MAX_DAYS * 86400000
	-- the table form: on_<event> for every built-in event a script socket can get (timers are the host's)
	TABLE_EVENTS, TABLE_EVENT_ID = {}, {}
	for i = 0, C.WEIR_EV_BUILTIN_COUNT - 1 do
		if i ~= EV_TIMER then
			TABLE_EVENTS[#TABLE_EVENTS + 1] = "on_" .. EV_NAMES[i]
			TABLE_EVENT_ID["on_" .. EV_NAMES[i]] = i
		end
	end
end

function M._init(cdef, w, host, layout)
	ffi.cdef(cdef)
	for name, size in pairs(layout) do
		if ffi.sizeof(name) ~= size then
			error(string.format("FFI layout of %s is %d bytes, C says %d: rebuild", name, ffi.sizeof(name), size))
		end
	end
	init_constants()
	TCP_INFO, BUF_INFO = struct_shape(cdef, "weir_tcp_info", "flow:tcp_info()"), struct_shape(cdef, "weir_buf_info", "flow:buf_info()")
	SIDE_COUNTERS, STATS = struct_shape(cdef, "weir_side_counters", "flow:counters()"), struct_shape(cdef, "weir_stats", "weir.stats()")
	W = ffi.cast("struct weir_worker *", w)
	H = ffi.cast("struct weir_lua *", host)
	recs = ffi.new("struct weir_event_rec[?]", MAXREC)
	tcpi, sctr = ffi.new("struct weir_tcp_info"), ffi.new("struct weir_side_counters")
	bufi, tuple = ffi.new("struct weir_buf_info"), ffi.new("struct weir_tuple")
	hstat = C.weir_lua_handler_array(H)
	sstat = C.weir_lua_script_array(H)
	ctrs = C.weir_lua_counter_array(H)
	limits = C.weir_lua_limits_of(H)
	guard = C.weir_lua_guard_of(H)
	for k = 0, KEYS - 1 do disp[k] = false end
	isock = C.weir_msock_create(W, nil, errbuf, 512)
	if isock == nil then error("cannot create the host's socket: " .. ffi.string(errbuf)) end
	isock_id = tonumber(C.weir_msock_id(isock))
	C.weir_msock_register(isock, EV_CONN_END, HOOK_POST_RCV, nil, nil)
	C.weir_msock_register(isock, EV_TIMER, HOOK_POST_RCV, nil, nil)
	-- Every string's methods: the state shares one metatable, which scripts reach through ("").name;
	-- its table has no dump, and getmetatable("") gives scripts false, not the table.
	local smt = getmetatable("")
	smt.__index, smt.__metatable = safe_lib("string"), false
end

-- Closes every socket the scripts and the host opened and gives back the UDEs they defined
-- (weir_lua_free, before the state goes): the worker outlives this state, and after a hot reload no
-- handler, timer or subscription of the old scripts may remain on it, nor hold a UDE id.
function M._close()
	for _, s in pairs(socks) do s:close() end
	if isock ~= nil then C.weir_msock_close(isock) end
	isock = nil
	for i = #defined, 1, -1 do C.weir_event_release(W, defined[i]) end
	defined = {}
end

-- Loads one script: its own sandbox, whose require "weir" returns the script's API.
function M._load(index, path, chunk, trusted)
	local script = { index = index, name = path:match("[^/]*$"), path = path, states = {}, nstates = 0,
		dir = path:match("^(.*)/[^/]*$") or ".", modules = {} }
	scripts[#scripts + 1] = script
	local api = make_api(script)
	script.timer_entry = new_entry(script, chunk, "timers")
	setfenv(chunk, trusted and trusted_env(api) or sandbox(script, api))
	cur_script = script
	-- The top level runs under the time budget as a handler does: a script that never finishes
	-- loading fails to load (weir check, the check of a reload, a run's start) instead of hanging the
	-- thread that loads it.
	local ok, ret = guarded(chunk)
	if not ok and ret == MEM_ERR then -- LuaJIT's message names neither the script nor the cap
		collectgarbage()
		ret = string.format("%s: %s: the Lua heap reached its limit (lua.memory_mb = %d)", script.name, MEM_ERR,
			limits.memory_mb)
	end
	if not ok then error(ret, 0) end
	if type(ret) ~= "table" then return end
	-- The table form: the same sockets and registrations, on one socket of the script's own. Read
	-- raw: an __index of the script's would run here, outside the budget.
	for name in pairs(ret) do
		if type(name) == "string" and name:match("^on_") and not TABLE_EVENT_ID[name] then
			error(string.format("%s: unknown handler %s (known: %s)", script.name, name, table.concat(TABLE_EVENTS, ", ")), 0)
		end
	end
	local sock
	for _, name in ipairs(TABLE_EVENTS) do
		local fn = rawget(ret, name)
		if fn ~= nil and type(fn) ~= "function" then
			error(string.format("%s: %s must be a function", script.name, name), 0)
		end
		if fn then
			sock = sock or monitor_socket(script, rawget(ret, "filter"))
			sock:register(TABLE_EVENT_ID[name], fn)
		end
	end
end

return M
