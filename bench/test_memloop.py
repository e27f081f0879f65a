#!/usr/bin/env python3
"""test_memloop.py — CTest memloop: weir_memloop's four modes on tests/data/sample.pcap.

Checks each JSON line against what is known of the file: 235 frames (tests/data/README.md), the
wire bytes and flows `weir replay --stats-json` counts, and for reasm the in-order bytes `weir
replay --eve` records (the sum of both streams' "delivered"); track buffers no stream bytes, reasm
does; --repeat multiplies the counts; --workers 2 splits the flows over two workers and finds the
same packets, flows and delivered bytes, each worker's packets adding up to them and each worker
with its own CPU time; usage errors exit 64 and an unreadable file 66.

usage: test_memloop.py WEIR_MEMLOOP WEIR SAMPLE.pcap
"""
import json
import os
import sys
import tempfile

from checks import check, run

SAMPLE_FRAMES = 235  # tests/data/README.md; capinfos -c agrees


def replay_facts(weir, pcap):
    """Packets, wire bytes, flows and delivered bytes of one `weir replay` of pcap."""
    with tempfile.TemporaryDirectory() as d:
        stats, eve = os.path.join(d, "stats.json"), os.path.join(d, "eve.json")
        run([weir, "replay", "-q", "--stats-json", stats, "--eve", eve, pcap])
        with open(stats) as f:
            st = json.load(f)
        delivered = 0
        with open(eve) as f:
            for line in f:
                rec = json.loads(line)
                if rec.get("event_type") == "flow":
                    delivered += sum(rec["streams"][s]["delivered"] for s in ("toserver", "toclient"))
    return st["packets"], st["bytes"], st["flows"]["created"], delivered


def main():
    memloop, weir, pcap = sys.argv[1:4]
    packets, wire, flows, delivered = replay_facts(weir, pcap)
    check(packets == SAMPLE_FRAMES, "weir replay reads %d frames" % SAMPLE_FRAMES)
    check(flows > 0 and delivered > 0, "weir replay: %d flows, %d bytes delivered" % (flows, delivered))
    for mode in ("walk", "hash", "track", "reasm"):
        for repeat in (1, 3):
            out = run([memloop, mode, pcap, "--repeat", str(repeat)])
            lines = out.splitlines()
            check(len(lines) == 1, "%s x%d prints one line" % (mode, repeat))
            r = json.loads(lines[0])
            check(r["mode"] == mode, "%s x%d: mode" % (mode, repeat))
            check(r["packets"] == SAMPLE_FRAMES * repeat, "%s x%d: packets %d" % (mode, repeat, r["packets"]))
            check(r["bytes"] == wire * repeat, "%s x%d: bytes %d" % (mode, repeat, r["bytes"]))
            check(r["seconds"] > 0 and r["ns_per_packet"] > 0, "%s x%d: a time" % (mode, repeat))
            want_flows = flows * repeat if mode in ("track", "reasm") else 0
            check(r["flows"] == want_flows, "%s x%d: flows %d, want %d" % (mode, repeat, r["flows"], want_flows))
            if mode == "track":
                check(r["stream_peak"] == 0, "track x%d: no stream buffer" % repeat)
            if mode == "reasm":
                check(r["stream_peak"] > 0, "reasm x%d: stream buffers, peak %d" % (repeat, r["stream_peak"]))
                check(r["delivered"] == delivered * repeat,
                      "reasm x%d: delivered %d, want %d" % (repeat, r["delivered"], delivered * repeat))
    for mode in ("track", "reasm"):
        one = json.loads(run([memloop, mode, pcap]))
        two = json.loads(run([memloop, mode, pcap, "--workers", "2", "--repeat", "2"]))
        check(two["workers"] == 2 and two["wall_seconds"] > 0 and two["wall_pps"] > 0,
              "%s --workers 2: a wall-clock time" % mode)
        for k in ("packets", "bytes", "flows", "delivered"):
            check(two[k] == 2 * one[k], "%s --workers 2 x2: %s %d, one worker x1 %d" % (mode, k, two[k], one[k]))
        check(one["worker_packets"] == [one["packets"]] and one["worker_seconds"] == [one["seconds"]],
              "%s --workers 1: the one worker has every packet and all the time (%s)" % (mode, one))
        split, secs = two["worker_packets"], two["worker_seconds"]
        check(len(split) == 2 and sum(split) == two["packets"] and min(split) > 0,
              "%s --workers 2: each worker has packets, together all of them (%s)" % (mode, split))
        check(len(secs) == 2 and min(secs) > 0 and abs(sum(secs) - two["seconds"]) < 1e-6,
              "%s --workers 2: each worker's CPU seconds, adding up to the total (%s)" % (mode, secs))
    run([memloop, "walk", pcap, "--workers", "2"], 64)
    run([memloop, "reasm", pcap, "--workers", "0"], 64)
    run([memloop, "walk"], 64)
    run([memloop, "fly", pcap], 64)
    run([memloop, "walk", pcap, "--repeat", "0"], 64)
    run([memloop, "walk", pcap, "--burst", "257"], 64)
    run([memloop, "walk", "/nonexistent/x.pcap"], 66)
    print("ok: usage errors exit 64, a missing file 66")


if __name__ == "__main__":
    main()
