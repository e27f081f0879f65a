#!/usr/bin/env python3
"""Zeek agreement on the shared corpus: replays each capture of expect.tsv through `weir replay`
and compares the EVE flow records' zeek block (conn_state, history, orig_bytes, resp_bytes) and
originator/responder with the table, connection by connection. A capture must give exactly the
table's connections: a missing, extra or different one fails.

Usage: run.py TESTDATA_DIR WEIR [EXPECT_TSV]"""
import collections, ipaddress, json, os, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def endpoint(ip, port):
    return '%s:%d' % (ipaddress.ip_address(ip), port)


def read_expect(path):
    """-> {capture: Counter of (orig, resp, conn_state, history, orig_bytes, resp_bytes)}"""
    want = collections.OrderedDict()
    for line in open(path):
        if line.startswith('#') or not line.strip():
            continue
        cols = line.rstrip('\n').split('\t')
        if len(cols) != 8:
            sys.exit('%s: a row needs 8 tab-separated columns: %r' % (path, line))
        want.setdefault(cols[0], collections.Counter())[tuple(cols[1:7])] += 1
    return want


def weir_conns(weir, cap):
    """-> (Counter of the same tuples from weir's TCP flow records, exit code)"""
    got = collections.Counter()
    with tempfile.TemporaryDirectory() as td:
        eve = os.path.join(td, 'eve.json')
        rc = subprocess.run([weir, 'replay', '-q', '--eve', eve, cap],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300).returncode
        for line in open(eve) if os.path.exists(eve) else []:
            rec = json.loads(line)
            if rec.get('event_type') != 'flow' or rec.get('proto') != 'TCP':
                continue
            z = rec['zeek']
            got[(endpoint(rec['src_ip'], rec['src_port']), endpoint(rec['dest_ip'], rec['dest_port']),
                 z['conn_state'], z['history'], str(z['orig_bytes']), str(z['resp_bytes']))] += 1
    return got, rc


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    corpus, weir = sys.argv[1], sys.argv[2]
    want = read_expect(sys.argv[3] if len(sys.argv) == 4 else os.path.join(HERE, 'expect.tsv'))
    bad = conns = 0
    for cap, exp in want.items():
        path = os.path.join(corpus, cap)
        if not os.path.isfile(path):
            print('FAIL %s: capture not found' % cap)
            bad += 1
            continue
        got, rc = weir_conns(weir, path)
        conns += sum(exp.values())
        if rc != 0:
            print('FAIL %s: weir replay exited %d' % (cap, rc))
            bad += 1
        for row in sorted((exp - got).elements()):
            print('FAIL %s: expected, not in weir: %s' % (cap, '  '.join(row)))
            bad += 1
        for row in sorted((got - exp).elements()):
            print('FAIL %s: weir wrote, not expected: %s' % (cap, '  '.join(row)))
            bad += 1
    print('%d captures, %d connections: %s' % (len(want), conns, 'all equal' if not bad else '%d differences' % bad))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
