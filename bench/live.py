#!/usr/bin/env python3
"""Benchmark of the live collector: holds N loopback TCP connections (2N
sockets plus a listener) in this process, then runs `meshhunt live` a few
times and prints the collector time (from its own summary line), the whole
run's wall time and peak RSS.

    python3 bench/live.py                   # 5,000 connections = 10,000 sockets
    python3 bench/live.py --connections 20000 --meshhunt target/debug/meshhunt
"""
import argparse
import os
import re
import resource
import socket
import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--meshhunt", default=str(ROOT / "target" / "release" / "meshhunt"))
    args = ap.parse_args()
    need = 2 * args.connections + 100
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, max(hard, need)))

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4096)
    port = listener.getsockname()[1]
    held = []
    for _ in range(args.connections):
        c = socket.create_connection(("127.0.0.1", port))
        s, _ = listener.accept()
        held += [c, s]
    print(f"holding {len(held)} loopback sockets (+1 listener) in pid {os.getpid()}")

    collect, tables, owners, wall, rss = [], [], [], [], []
    for _ in range(args.runs):
        start = time.perf_counter()
        proc = subprocess.Popen([args.meshhunt, "live", "--format", "jsonl", "-o", os.devnull],
                                stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        stderr = proc.stderr.read().decode()
        wall.append(time.perf_counter() - start)
        rss.append(usage.ru_maxrss / 1024)
        m = re.search(r"(\d+) sockets, (\d+) connections.*collected in ([\d.]+) ms "
                      r"\(socket tables ([\d.]+) ms, owners ([\d.]+) ms\)", stderr)
        if not m:
            raise SystemExit(f"no summary line:\n{stderr}")
        collect.append(float(m.group(3)))
        tables.append(float(m.group(4)))
        owners.append(float(m.group(5)))
        sockets, conns = m.group(1), m.group(2)
    print(f"  sockets seen {sockets}, connections {conns}")
    print(f"  collector: median {statistics.median(collect):.1f} ms (min {min(collect):.1f}, max {max(collect):.1f}) over {args.runs} runs; "
          f"of which socket tables {statistics.median(tables):.1f} ms, owners {statistics.median(owners):.1f} ms")
    print(f"  whole `meshhunt live` run (collector + hunts + output): median {statistics.median(wall) * 1000:.0f} ms, peak RSS {max(rss):.1f} MiB")


if __name__ == "__main__":
    main()
