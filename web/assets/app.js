// app.js — the dashboard's logic: polls /api/all every second, fills tiles and tables, scrolls the uPlot charts, reconnects after a restart.
'use strict';
(function () {
	const POLL_MS = 1000;      // at least one update a second
	const RETRY_MAX_MS = 5000; // back-off ceiling while the engine is away
	const $ = (id) => document.getElementById(id);
	let boot = null, lastSamples = -1, retry = POLL_MS, charts = null;

	// 1234567 -> "1.23 M"; small values keep their decimals.
	function si(v, digits) {
		if (!isFinite(v)) return '–';
		const a = Math.abs(v), d = digits === undefined ? 3 : digits;
		const units = [[1e12, ' T'], [1e9, ' G'], [1e6, ' M'], [1e3, ' k']];
		for (const [k, u] of units) if (a >= k) return (v / k).toPrecision(d) + u;
		return a >= 100 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(a >= 10 ? 1 : 2);
	}
	const int = (v) => Number(v).toLocaleString('en-US');
	function bytes(v) {
		const units = [[2 ** 40, ' TiB'], [2 ** 30, ' GiB'], [2 ** 20, ' MiB'], [2 ** 10, ' KiB']];
		for (const [k, u] of units) if (v >= k) return (v / k).toFixed(1) + u;
		return v + ' B';
	}
	function dur(s) {
		if (s < 1) return (s * 1000).toFixed(0) + ' ms';
		if (s < 120) return s.toFixed(1) + ' s';
		if (s < 7200) return (s / 60).toFixed(1) + ' min';
		return (s / 3600).toFixed(1) + ' h';
	}
	function esc(s) {
		return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
	}

	function tile(id, value, text, sub) {
		const t = $(id), v = t.querySelector('.v');
		v.dataset.value = String(value);
		v.textContent = text;
		const s = t.querySelector('.sub');
		if (s && sub !== undefined) s.textContent = sub;
	}
	function breakdown(id, obj) {
		const items = Object.entries(obj).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
		$(id).querySelector('.breakdown').innerHTML = items.length
			? items.map(([k, v]) => `<li data-key="${esc(k)}" data-value="${v}">${esc(k)} ${si(v)}</li>`).join('')
			: '<li>none</li>';
	}
	function rows(id, list, cols, empty) {
		const tb = $(id).querySelector('tbody');
		tb.innerHTML = list.length ? list.map((r) => '<tr>' + cols.map((c) => c(r)).join('') + '</tr>').join('')
			: `<tr><td class="empty" colspan="${$(id).querySelectorAll('th').length}">${esc(empty)}</td></tr>`;
	}
	const td = (v, cls) => `<td${cls ? ` class="${cls}"` : ''}>${v}</td>`;
	const num = (v) => td(v, 'n');
	const state = (s) => td(`<span class="st-${esc(s)}">${esc(s)}</span>`);

	function renderTiles(st) {
		const r = st.rates, t = st.totals;
		tile('tile-pps', r.pps, si(r.pps), `${int(t.packets)} packets`);
		tile('tile-gbps', r.gbps, r.gbps.toFixed(3), `${bytes(t.bytes)} total`);
		tile('tile-active', t.flows.active, int(t.flows.active), `${int(t.flows.created)} created, ${int(t.flows.closed)} closed`);
		tile('tile-newflows', r.new_flows_ps, si(r.new_flows_ps), `${int(t.flows.midstream)} mid-stream`);
		const evps = Object.values(r.events_ps).reduce((a, b) => a + b, 0);
		tile('tile-events', evps, si(evps));
		breakdown('tile-events', r.events_ps);
		const drps = Object.values(r.drops_ps).reduce((a, b) => a + b, 0);
		tile('tile-drops', drps, si(drps));
		breakdown('tile-drops', Object.fromEntries(Object.entries(st.drops).map(([k, v]) => [k, v])));
		tile('tile-alerts', r.alerts_ps, si(r.alerts_ps), `${int(t.alerts)} alerts`);
	}

	function renderTables(d) {
		rows('flows', d.flows, [(f) => td(esc(f.client)), (f) => td(esc(f.server)), (f) => num(bytes(f.bytes)),
			(f) => num(bytes(f.bytes_c2s)), (f) => num(bytes(f.bytes_s2c)), (f) => num(int(f.packets)),
			(f) => num(dur(f.duration_s)), (f) => state(f.client_state), (f) => state(f.server_state),
			(f) => num(f.core)], 'no active flows');
		$('alerts-total').textContent = `${int(d.stats.totals.alerts)} in all`;
		rows('alerts', d.alerts.slice(0, 12), [(a) => td(new Date(a.ts_ns / 1e6).toISOString().slice(11, 23)),
			(a) => td(esc(a.source)), (a) => td(esc(a.msg), 'sev' + a.severity), (a) => td(esc(a.client)),
			(a) => td(esc(a.server))], 'no alerts');
		rows('scripts', d.scripts, [(s) => td(esc(s.name)), (s) => num(int(s.events)), (s) => num(int(s.errors)),
			(s) => num(int(s.budget_stops)), (s) => num(int(s.memory_errors)), (s) => num(int(Math.round(s.ns_per_event))),
			(s) => num(int(s.alerts)), (s) => num(`${s.disabled}/${s.handlers}`)],
			'no scripts loaded');
		rows('cores', d.cores, [(c) => td(c.core),
			(c) => td(`<span class="bar"><span style="width:${Math.min(100, c.load * 100).toFixed(0)}%"></span></span> ${(c.load * 100).toFixed(0)}%`),
			(c) => num(si(c.pps)), (c) => num(int(c.packets)), (c) => num(int(c.flows_active))], 'no workers');
		rows('ports', d.ports, [(p) => td(`${esc(p.name)} <small>(core ${p.core})</small>`), (p) => num(int(p.rx_packets)),
			(p) => num(bytes(p.rx_bytes)), (p) => num(int(p.tx_packets)), (p) => num(int(p.rx_missed)),
			(p) => num(int(p.rx_errors + p.tx_errors))], 'no ports');
		const t = d.stats.totals, tot = { packets: t.packets, bytes: t.bytes, 'TCP packets': t.tcp_packets,
			'other packets': t.other_packets, fragments: t.fragments, orphans: t.orphans, 'flows created': t.flows.created,
			'flows closed': t.flows.closed, 'flows evicted': t.flows.evicted, 'flows refused': t.flows.refused,
			'stream memory': bytes(d.stats.memory.used), 'memory peak': bytes(d.stats.memory.peak) };
		for (const [k, v] of Object.entries(d.stats.anomalies)) if (v) tot['anomaly ' + k] = v;
		for (const [k, v] of Object.entries(d.stats.malformed)) if (v) tot['malformed ' + k] = v;
		$('totals').innerHTML = Object.entries(tot).map(([k, v]) =>
			`<div><dt>${esc(k)}</dt><dd data-key="${esc(k)}">${typeof v === 'number' ? int(v) : esc(v)}</dd></div>`).join('');
	}

	function chartOpts(el, series) {
		return {
			width: Math.max(300, el.clientWidth), height: 180, cursor: { drag: { x: false, y: false } },
			scales: { x: { time: true } },
			axes: [{ stroke: '#8a99a8', grid: { stroke: '#26313c' } },
				{ stroke: '#8a99a8', grid: { stroke: '#26313c' }, size: 60, values: (u, v) => v.map((x) => si(x, 2)) }],
			series: [{}].concat(series.map(([label, color]) => ({ label, stroke: color, width: 2, value: (u, v) => v == null ? '–' : si(v) }))),
		};
	}
	const CHARTS = [
		['chart-traffic', [['packets/s', '#4fb3ff', 'pps'], ['Mbit/s', '#3fcf8e', 'mbps']]],
		['chart-flows', [['active flows', '#ffc857', 'active'], ['new flows/s', '#c792ea', 'new_flows_ps']]],
		['chart-events', [['events/s', '#4fb3ff', 'events_ps'], ['alerts/s', '#ff6b6b', 'alerts_ps'], ['drops/s', '#ffa657', 'drops_ps']]],
	];
	function renderCharts(h) {
		if (typeof uPlot === 'undefined') return;
		h.mbps = h.gbps.map((x) => x * 1000);
		if (!charts) {
			charts = CHARTS.map(([id, series]) => {
				const el = $(id);
				return new uPlot(chartOpts(el, series), [h.t].concat(series.map((s) => h[s[2]])), el);
			});
			window.addEventListener('resize', () => charts.forEach((u, i) =>
				u.setSize({ width: Math.max(300, $(CHARTS[i][0]).clientWidth), height: 180 })));
			return;
		}
		charts.forEach((u, i) => u.setData([h.t].concat(CHARTS[i][1].map((s) => h[s[2]]))));
	}

	function connected(up, text) {
		$('conn').className = 'conn ' + (up ? 'up' : 'down');
		$('conn-text').textContent = text;
	}

	function apply(d) {
		const st = d.stats;
		if (boot !== null && st.boot !== boot) { // the engine restarted: its history starts over
			charts && charts.forEach((u) => u.destroy());
			charts = null;
			CHARTS.forEach(([id]) => { $(id).innerHTML = ''; });
			lastSamples = -1;
		}
		boot = st.boot;
		$('mode').textContent = st.mode;
		$('state').textContent = st.state;
		$('meta').textContent = `${st.workers} worker${st.workers === 1 ? '' : 's'} · updated ${new Date(st.t).toLocaleTimeString()}`;
		renderTiles(st);
		renderTables(d);
		renderCharts(d.history);
		if (st.samples !== lastSamples) {
			lastSamples = st.samples;
			document.body.dataset.updates = String(Number(document.body.dataset.updates) + 1);
		}
	}

	async function poll() {
		try {
			const res = await fetch('/api/all', { cache: 'no-store', credentials: 'same-origin' });
			if (res.status === 401) {
				connected(false, 'token required: open the page with ?token=…');
				retry = RETRY_MAX_MS;
			} else if (!res.ok) {
				throw new Error('HTTP ' + res.status);
			} else {
				apply(await res.json());
				connected(true, 'live');
				retry = POLL_MS;
			}
		} catch (e) {
			connected(false, 'engine unreachable, retrying…');
			retry = Math.min(RETRY_MAX_MS, retry * 2);
		}
		setTimeout(poll, retry);
	}

	poll();
})();
