#!/usr/bin/env python3
"""What one commit of cloudtwin's SQLite writer writes, B-tree by B-tree.

Runs `cloudtwin serve --lifecycle instant` under the load generator's create scenario and,
while it runs, freezes the server (SIGSTOP) a few times just long enough to copy its WAL file.
Every WAL frame is one 4-KiB page written by a commit. Afterwards each page number is named
with SQLite's `dbstat` table (which B-tree, leaf or interior), and the creates of each commit
are counted from the instances table's row ids (appended, so the newest leaf's last row id
grows by one per create). Prints frames per commit and per create, and the pages each
B-tree adds to every commit: the per-commit cost that a larger group spreads over more
creates (bench/README.md, finding 48).

    bench/wal_anatomy.py --bin target/release [--api starrocks] [-c 64] [--grabs 20]
"""

import argparse
import collections
import json
import os
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time

WAL_HEADER = 32
FRAME_HEADER = 24
TABLE_LEAF = 13


def varint(buf, at):
    """SQLite's big-endian varint at `at`: (value, next offset)."""
    value = 0
    for i in range(8):
        byte = buf[at + i]
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, at + i + 1
    return (value << 8) | buf[at + 8], at + 9


def last_rowid(page, pgno):
    """The largest row id on a table leaf page, or None for any other page."""
    base = 100 if pgno == 1 else 0
    if page[base] != TABLE_LEAF:
        return None
    cells = struct.unpack(">H", page[base + 3 : base + 5])[0]
    if cells == 0:
        return None
    pointer = base + 8 + 2 * (cells - 1)
    cell = struct.unpack(">H", page[pointer : pointer + 2])[0]
    _, at = varint(page, cell)
    rowid, _ = varint(page, at)
    return rowid


def commits_of(wal):
    """The commits of one WAL copy, each a list of (page number, page bytes)."""
    if len(wal) < WAL_HEADER:
        return []
    page_size = struct.unpack(">I", wal[8:12])[0]
    salts = wal[16:24]
    commits, frames, at = [], [], WAL_HEADER
    while at + FRAME_HEADER + page_size <= len(wal):
        pgno, db_pages = struct.unpack(">II", wal[at : at + 8])
        if wal[at + 8 : at + 16] != salts:
            break  # a frame of the WAL's previous generation
        frames.append((pgno, wal[at + FRAME_HEADER : at + FRAME_HEADER + page_size]))
        if db_pages:
            commits.append(frames)
            frames = []
        at += FRAME_HEADER + page_size
    return commits


def run(args, data_dir):
    env = dict(os.environ)
    env.setdefault("CLOUDTWIN_ACCESS_KEY_ID", "LTAIbenchkey0000000001")
    env.setdefault("CLOUDTWIN_ACCESS_KEY_SECRET", "bench-secret-0000000000000001")
    server = subprocess.Popen(
        [os.path.join(args.bin, "cloudtwin"), "serve", "--listen", "127.0.0.1:0",
         "--data-dir", data_dir, "--lifecycle", "instant"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    try:
        line = server.stdout.readline()
        if "listening on " not in line:
            sys.exit(f"cloudtwin did not start: {line!r}")
        url = line.split("listening on ", 1)[1].strip()
        report = os.path.join(data_dir, "loadgen.json")
        load = subprocess.Popen(
            [os.path.join(args.bin, "cloudtwin-loadgen"), "--target", url, "--api", args.api,
             "--scenario", "create", "-c", str(args.c), "-d", str(args.duration),
             "--warmup", "1", "--json", report],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        time.sleep(2)
        wal_path = os.path.join(data_dir, "cloudtwin.db-wal")
        grabs = []
        for _ in range(args.grabs):
            server.send_signal(signal.SIGSTOP)
            try:
                with open(wal_path, "rb") as f:
                    grabs.append(f.read())
            finally:
                server.send_signal(signal.SIGCONT)
            time.sleep(args.every)
        load.wait()
        with open(report) as f:
            rps = json.loads(f.read().splitlines()[-1])["rps"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait()
    return grabs, rps


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", required=True, help="directory of cloudtwin and cloudtwin-loadgen")
    parser.add_argument("--api", default="starrocks", choices=["starrocks", "rocketmq"])
    parser.add_argument("-c", type=int, default=64, help="concurrency")
    parser.add_argument("--duration", type=int, default=4, help="seconds of load")
    parser.add_argument("--grabs", type=int, default=20, help="WAL copies taken")
    parser.add_argument("--every", type=float, default=0.03, help="seconds between copies")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as data_dir:
        grabs, rps = run(args, data_dir)
        db = sqlite3.connect(f"file:{os.path.join(data_dir, 'cloudtwin.db')}?mode=ro", uri=True)
        pages = {pgno: (name, kind) for pgno, name, kind in
                 db.execute("SELECT pageno, name, pagetype FROM dbstat")}
        db.close()

    per_tree = collections.Counter()
    counted = frames = creates = 0
    for wal in grabs:
        newest = None
        for commit in commits_of(wal):
            rowids = [last_rowid(page, pgno) for pgno, page in commit
                      if pages.get(pgno, ("",))[0] == "instances"]
            top = max((r for r in rowids if r is not None), default=None)
            # The first commit of a copy has no predecessor to count its creates from.
            if newest is not None and top is not None and top > newest:
                counted += 1
                frames += len(commit)
                creates += top - newest
                for pgno, _ in commit:
                    name, kind = ("header page", "") if pgno == 1 else pages.get(pgno, ("?", "?"))
                    per_tree[(name, kind)] += 1
            if top is not None:
                newest = max(newest or 0, top)
    if not counted:
        sys.exit("no commit could be counted: try more --grabs or a longer --duration")
    print(f"{args.api} creates at c={args.c}: {rps:,.0f}/s; {counted} commits read from "
          f"{len(grabs)} copies of the WAL")
    print(f"per commit: {creates / counted:.1f} creates, {frames / counted:.1f} frames; "
          f"{frames / creates:.2f} frames (4-KiB pages) per create")
    print(f"{'B-tree':<36} {'page':<9} {'per commit':>10} {'per create':>10}")
    for (name, kind), n in per_tree.most_common():
        print(f"{name:<36} {kind:<9} {n / counted:>10.2f} {n / creates:>10.3f}")


if __name__ == "__main__":
    main()
