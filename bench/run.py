#!/usr/bin/env python3
"""meshhunt benchmark: builds corpora from ../shared/fixtures, runs evtx_dump
and meshhunt side by side, prints records/s, MB/s, CPU-seconds, peak RSS and
the CPU ratio. Figures, not pass/fail: targets are read by people.

    python3 bench/run.py                # 500 MB EVTX + 200 MB JSON corpora
    python3 bench/run.py --evtx-mb 100 --json-mb 50

Needs a release build (`cargo build --release`) and evtx_dump, which this
script installs from crates.io into bench/.tools when it is missing.
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(os.environ.get("MESHHUNT_FIXTURES", ROOT.parent / "shared" / "fixtures"))
TOOLS = ROOT / "bench" / ".tools"
CHUNK = 65536
HEADER = 4096


def evtx_chunks(path):
    """The 64 KiB chunks of an EVTX file (each is self-contained)."""
    data = path.read_bytes()
    if not data.startswith(b"ElfFile\0"):
        return []
    return [data[o:o + CHUNK] for o in range(HEADER, len(data) - CHUNK + 1, CHUNK)
            if data[o:o + 8] == b"ElfChnk\0"]


def build_evtx(out, target_mb):
    """One valid EVTX file of about target_mb: the chunks of every fixture
    EVTX, repeated, behind one file header with its chunk count and CRC
    fixed."""
    files = sorted((FIXTURES / "evtx-attack-samples").rglob("*.evtx"))
    chunks = [c for f in files for c in evtx_chunks(f)]
    header = bytearray(files[0].read_bytes()[:HEADER])
    n = max(1, target_mb * 1024 * 1024 // CHUNK)
    with open(out, "wb") as f:
        count = min(n, 0xFFFF)
        struct.pack_into("<Q", header, 8, 0)             # first chunk
        struct.pack_into("<Q", header, 16, count - 1)    # last chunk
        struct.pack_into("<H", header, 42, count)        # chunk count
        struct.pack_into("<I", header, 120, 0)           # flags: clean
        struct.pack_into("<I", header, 124, zlib.crc32(bytes(header[:120])) & 0xFFFFFFFF)
        f.write(header)
        for i in range(n):
            f.write(chunks[i % len(chunks)])
    return out


def build_json(out, target_mb):
    """Mordor JSON lines (every otrf sysmon set) repeated to about target_mb."""
    files = sorted(p for p in (FIXTURES / "otrf-security-datasets" / "sysmon").rglob("*.json")
                   if p.name != "FACTS.json")
    blob = b"".join(p.read_bytes().rstrip(b"\n") + b"\n" for p in files)
    with open(out, "wb") as f:
        written = 0
        while written < target_mb * 1024 * 1024:
            f.write(blob)
            written += len(blob)
    return out


def run(cmd, label, records=None, size=None):
    """Runs a command, returning wall, CPU seconds and peak RSS from wait4."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as null:
        proc = subprocess.Popen(cmd, stdout=null, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        stderr = proc.stderr.read().decode(errors="replace")
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 3):
        sys.exit(f"{label} failed:\n{stderr}")
    cpu = usage.ru_utime + usage.ru_stime
    rss = usage.ru_maxrss / 1024
    line = f"  {label:<34} wall {wall:7.2f} s  cpu {cpu:7.2f} s  peak RSS {rss:7.1f} MiB"
    if records:
        line += f"  {records / wall:10.0f} records/s"
    if size:
        line += f"  {size / 1e6 / wall:7.1f} MB/s"
    print(line, flush=True)
    return {"wall": wall, "cpu": cpu, "rss_mib": rss, "stderr": stderr}


def evtx_dump():
    exe = TOOLS / "bin" / "evtx_dump"
    if not exe.exists():
        print("installing evtx_dump (evtx 0.15.1) from crates.io ...", flush=True)
        subprocess.run(["cargo", "install", "--quiet", "evtx", "--version", "0.15.1",
                        "--root", str(TOOLS)], check=True)
    return str(exe)


def records_from(stderr):
    for line in stderr.splitlines():
        if " records (" in line:
            return int(line.split(" records (")[0].rsplit(" ", 1)[1])
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--evtx-mb", type=int, default=500)
    ap.add_argument("--json-mb", type=int, default=200)
    ap.add_argument("--meshhunt", default=str(ROOT / "target" / "release" / "meshhunt"))
    args = ap.parse_args()
    if not Path(args.meshhunt).exists():
        sys.exit(f"{args.meshhunt} not found: run `cargo build --release` first")
    dump = evtx_dump()
    with tempfile.TemporaryDirectory(prefix="meshhunt-bench-") as tmp:
        tmp = Path(tmp)
        evtx = build_evtx(tmp / "corpus.evtx", args.evtx_mb)
        size = evtx.stat().st_size
        print(f"EVTX corpus: {size / 1e6:.0f} MB ({evtx})")
        mh = run([args.meshhunt, "hunt", str(evtx), "--format", "jsonl", "-o", os.devnull],
                 "meshhunt hunt", size=size)
        records = records_from(mh["stderr"])
        print(f"  {records} records")
        d1 = run([dump, "-t", "1", "-o", "xml", str(evtx)], "evtx_dump -t 1 -o xml", records, size)
        d0 = run([dump, "-o", "xml", str(evtx)], "evtx_dump -o xml (all threads)", records, size)
        print(f"  meshhunt / evtx_dump CPU ratio: {mh['cpu'] / d1['cpu']:.2f} (single-thread dump), "
              f"{mh['cpu'] / d0['cpu']:.2f} (threaded dump); meshhunt records/s {records / mh['wall']:.0f}")
        evtx.unlink()

        js = build_json(tmp / "corpus.json", args.json_mb)
        size = js.stat().st_size
        print(f"JSON corpus: {size / 1e6:.0f} MB of Mordor JSON lines ({js})")
        mh = run([args.meshhunt, "hunt", str(js), "--format", "jsonl", "-o", os.devnull],
                 "meshhunt hunt", size=size)
        records = records_from(mh["stderr"])
        print(f"  {records} records, {records / mh['wall']:.0f} records/s")
        if shutil.which("jq"):
            jq = run(["jq", "-c", ".", str(js)], "jq -c . (reference parse)", records, size)
            print(f"  meshhunt / jq CPU ratio: {mh['cpu'] / jq['cpu']:.2f}")


if __name__ == "__main__":
    main()
