#!/usr/bin/env python3
"""notify.py WEIR SRC — weir run under a stand-in for systemd's notify socket (Type=notify).

A unix datagram socket is NOTIFY_SOCKET; WATCHDOG_USEC/WATCHDOG_PID ask for watchdog pings. weir runs on
a net_pcap port (the bundled capture) with the dashboard on loopback:
 - ready: READY=1 arrives, and at that moment the dashboard accepts a connection; STATUS= lines say
   "running: 1 port, 1 worker"; WATCHDOG=1 pings arrive at about half the interval; SIGHUP gives
   RELOADING=1 then READY=1 with "reloads 1 (0 failed)", also in the dashboard's /api/stats;
   SIGTERM gives STOPPING=1 and exit 0;
 - broken: a script that does not load: no READY=1 ever, exit 78;
 - stuck: a trusted script (outside the sandbox, so its own pcall catches the time budget's error)
   and a timer (armed on the first packet) whose callback loops forever that way: pings arrive
   before it fires and none after, and the STATUS= line says "worker 0 stuck".
"""
import json, os, signal, socket, subprocess, sys, tempfile, threading, time, urllib.request

WEIR, SRC = sys.argv[1], sys.argv[2]
PCAP = os.path.join(SRC, "tests/data/sample.pcap")
WATCHDOG_USEC = 400000  # pings every 0.2 s


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Run:
    """weir run -c CONFIG with NOTIFY_SOCKET; every datagram is kept with its arrival time."""

    def __init__(self, d, name, script_text, trusted=False):
        self.d, self.msgs, self.port = d, [], free_port()
        script = os.path.join(d, name + ".lua")
        open(script, "w").write(script_text)
        cfg = os.path.join(d, name + ".cfg.lua")
        open(cfg, "w").write(
            'dpdk = { ports = { { dev = "net_pcap0,rx_pcap=%s" } }, mbufs = 4095 }\n'
            'mode = "passive"\nidle_sleep_us = 100\nscripts = { { "%s", trusted = %s } }\n'
            'dashboard = { listen = "127.0.0.1:%d" }\n' % (PCAP, script, "true" if trusted else "false", self.port))
        self.sock_path = os.path.join(d, name + ".notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.sock_path)
        self.sock.settimeout(0.1)
        self.ready_connect = None
        self.done = False
        self.reader = threading.Thread(target=self.read)
        self.reader.start()
        env = dict(os.environ, NOTIFY_SOCKET=self.sock_path, WATCHDOG_USEC=str(WATCHDOG_USEC))
        self.err = open(os.path.join(d, name + ".err"), "w+")
        # WATCHDOG_PID must be weir's own pid: the shell exports its pid, then becomes weir.
        self.proc = subprocess.Popen(
            ["sh", "-c", 'WATCHDOG_PID=$$ exec "$0" run -c "$1"', WEIR, cfg],
            env=env, stdout=subprocess.DEVNULL, stderr=self.err)

    def read(self):
        while not self.done:
            try:
                data = self.sock.recv(4096).decode()
            except socket.timeout:
                continue
            t = time.monotonic()
            if "READY=1" in data and self.ready_connect is None:
                # READY=1 must mean the dashboard is up: connect right now.
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    self.ready_connect = True
                except OSError:
                    self.ready_connect = False
            for line in data.split("\n"):
                self.msgs.append((t, line))

    def wait_for(self, what, after=0.0, timeout=20):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for t, m in list(self.msgs):
                if m.startswith(what) and t >= after:
                    return t
            time.sleep(0.02)
        self.fail("no %r after %.2f" % (what, after))

    def pings(self, a, b):
        return [t for t, m in list(self.msgs) if m == "WATCHDOG=1" and a <= t < b]

    def finish(self, timeout=30):
        try:
            rc = self.proc.wait(timeout)
        finally:
            self.done = True
            self.reader.join()
            self.sock.close()
        return rc

    def fail(self, why):
        self.proc.kill()
        self.done = True  # the reader thread ends, so the failure ends the test instead of hanging it
        self.err.seek(0)
        sys.exit("FAIL: %s\nmessages: %r\nstderr:\n%s" % (why, self.msgs[-30:], self.err.read()))


ALERT = 'local weir = require "weir"\nreturn { on_new_data = function() weir.counter("n"):inc() end }\n'
d = tempfile.mkdtemp(prefix="weir-notify.")

# ready: READY=1 only with the dashboard up; STATUS=, WATCHDOG=1, a reload, a stop
r = Run(d, "ready", ALERT)
t_ready = r.wait_for("READY=1")
if not r.ready_connect:
    r.fail("READY=1 came before the dashboard accepted connections")
r.wait_for("STATUS=running: 1 port, 1 worker, ")
time.sleep(1.5)
n = len(r.pings(t_ready, t_ready + 1.5))
if n < 4:
    r.fail("%d watchdog pings in 1.5 s, want about 7" % n)
t_hup = time.monotonic()
r.proc.send_signal(signal.SIGHUP)
t_reloading = r.wait_for("RELOADING=1", t_hup)
t_ready2 = r.wait_for("READY=1", t_reloading)
r.wait_for("STATUS=running: 1 port, 1 worker, ", t_ready2)
if not any(m.endswith("reloads 1 (0 failed)") for t, m in r.msgs if t >= t_ready2):
    r.fail("no STATUS= with reloads 1 (0 failed) after the reload")
# the dashboard's /api/stats counts it too (sampled once a second)
for _ in range(30):
    stats = json.loads(urllib.request.urlopen("http://127.0.0.1:%d/api/stats" % r.port, timeout=2).read())
    if stats.get("reloads") == {"done": 1, "failed": 0}:
        break
    time.sleep(0.1)
else:
    r.fail("/api/stats reloads: %r" % stats.get("reloads"))
t_term = time.monotonic()
r.proc.send_signal(signal.SIGTERM)
r.wait_for("STOPPING=1", t_term)
rc = r.finish()
if rc != 0:
    r.fail("exit %d after SIGTERM" % rc)
print("ready: READY=1 with the dashboard up, %d pings in 1.5 s, RELOADING=1 then READY=1 (and on the page), "
      "STOPPING=1, exit 0" % n)

# broken: no READY=1, exit 78
b = Run(d, "broken", 'local weir = require "weir"\nweir.monitor_socket("tcp port")\n')
rc = b.finish()
if rc != 78 or any(m == "READY=1" for _, m in b.msgs):
    b.fail("a script that does not load: exit %d (want 78), messages %r" % (rc, b.msgs))
print("broken: no READY=1, exit 78")

# stuck: an endless loop that catches the budget's error, in a trusted script's timer 1.5 s after
# the start, stops the pings (armed by the first packet's handler: the worker's clock is live from
# then on)
s = Run(d, "stuck", 'local weir = require "weir"\nlocal armed\n'
        'return { on_new_data = function() if armed then return end armed = true\n'
        '  weir.timer(1500, function() while true do pcall(function() while true do end end) end end) end }\n',
        trusted=True)
t0 = s.wait_for("READY=1")
time.sleep(3.5)
before = s.pings(t0, t0 + 1.2)
after = s.pings(t0 + 2.5, t0 + 3.5)
if len(before) < 3 or after:
    s.fail("pings before the loop %d (want >= 3), after it %d (want 0)" % (len(before), len(after)))
s.wait_for("STATUS=worker 0 stuck: ", t0 + 1.5)  # systemctl status says why
s.proc.kill()
s.finish()
print("stuck: %d pings before the worker's endless loop, none after; STATUS= says it" % len(before))
print("1 passed, 0 failed")
