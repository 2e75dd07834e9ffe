"""Reading a province-sized OSM PBF extract: time and peak memory of `layers_from_osm`.

Real extracts cannot be downloaded here, so this script writes a synthetic one
with the make-up of a Chinese province extract: mapping "sessions" scattered
over Henan's box (lon 110.4-116.6, lat 31.4-36.4), each a cluster of
buildings, streets, shops and sometimes a school, a pond, an internet café or
a fuel station, with consecutive ids inside a session (as real edits make
them) so that the PBF compresses like a real one (about 9-10 bytes per node).
A multipolygon lake relation is added too.

The extract is written as OPL text and converted to PBF by libosmium
(pyosmium), cached in benchmarks/out/. Each read runs in its own process;
peak RSS is the child's ru_maxrss (VmHWM).

    python benchmarks/pbf_bench.py --sessions 1000000          # ~ 500 MB
    python benchmarks/pbf_bench.py --sessions 100000 --sessions 1000000
    python benchmarks/pbf_bench.py --sessions 20000 --sessions 1450000 --readme

It prints the sentences and table of the README section "Registries, rosters and
PBF" between their markers; ``--readme`` writes them there (the README shows
``--sessions 20000 --sessions 1450000``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import readme

OUT = Path(__file__).resolve().parent / "out"
BOX = (110.4, 31.4, 116.6, 36.4)
BUILDINGS, STREETS, POIS = 8, 2, 3
STREET_NODES = 8


def _esc(text: str) -> str:
    """OPL escaping: everything but safe ASCII as %hex%."""
    safe = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:;/()")
    return "".join(c if c in safe else f"%{ord(c):x}%" for c in text)


WANGBA = _esc("网吧")
SCHOOL = _esc("小学")
FUEL = _esc("加油站")
SHOP = _esc("便利店")
STREET = _esc("路")


def write_opl(path: Path, sessions: int, seed: int = 1) -> dict[str, int]:
    """Write the synthetic extract as OPL; return its counts."""
    rng = np.random.default_rng(seed)
    cx = rng.uniform(BOX[0], BOX[2], sessions)
    cy = rng.uniform(BOX[1], BOX[3], sessions)
    per_session = BUILDINGS * 4 + STREETS * STREET_NODES + POIS + 4 + 4  # + school + pond corners
    counts = {"nodes": 0, "ways": 0, "relations": 0, "schools": 0}
    ways_per_session = BUILDINGS + STREETS + 2
    with path.open("w", encoding="ascii") as f:
        chunk = 20_000
        for start in range(0, sessions, chunk):
            stop = min(start + chunk, sessions)
            lines = []
            for s in range(start, stop):
                base = s * (per_session + 3) + 1  # gaps between sessions, as real ids have
                jitter = rng.normal(0.0, 0.0015, (per_session, 2))
                for i in range(per_session):
                    x, y = cx[s] + jitter[i, 0], cy[s] + jitter[i, 1]
                    tag = ""
                    if (
                        BUILDINGS * 4 + STREETS * STREET_NODES
                        <= i
                        < BUILDINGS * 4 + STREETS * STREET_NODES + POIS
                    ):
                        j = i - BUILDINGS * 4 - STREETS * STREET_NODES
                        if j == 0 and s % 60 == 0:
                            tag = f" Tshop=yes,name={s}{WANGBA}"
                        elif j == 1 and s % 200 == 0:
                            tag = f" Tamenity=fuel,name={s}{FUEL}"
                        else:
                            tag = f" Tshop=convenience,name={s}{SHOP}"
                    lines.append(f"n{base + i} v1 x{x:.7f} y{y:.7f}{tag}\n")
            f.write("".join(lines))
            counts["nodes"] += (stop - start) * per_session
        for start in range(0, sessions, chunk):
            stop = min(start + chunk, sessions)
            lines = []
            for s in range(start, stop):
                base = s * (per_session + 3) + 1
                wbase = s * (ways_per_session + 2) + 1
                w = 0
                for b in range(BUILDINGS):
                    n = [base + 4 * b + i for i in range(4)]
                    lines.append(
                        f"w{wbase + w} v1 Tbuilding=yes Nn{n[0]},n{n[1]},n{n[2]},n{n[3]},n{n[0]}\n"
                    )
                    w += 1
                for t in range(STREETS):
                    first = base + BUILDINGS * 4 + t * STREET_NODES
                    refs = ",".join(f"n{first + i}" for i in range(STREET_NODES))
                    lines.append(f"w{wbase + w} v1 Thighway=residential,name={s}{STREET} N{refs}\n")
                    w += 1
                corner = base + BUILDINGS * 4 + STREETS * STREET_NODES + POIS
                if s % 40 == 0:
                    refs = ",".join(f"n{corner + i}" for i in (0, 1, 2, 3, 0))
                    lines.append(f"w{wbase + w} v1 Tamenity=school,name={s}{SCHOOL} N{refs}\n")
                    counts["schools"] += 1
                    counts["ways"] += 1
                w += 1
                if s % 100 == 0:
                    refs = ",".join(f"n{corner + 4 + i}" for i in (0, 1, 2, 3, 0))
                    lines.append(f"w{wbase + w} v1 Tnatural=water,water=pond N{refs}\n")
                    counts["ways"] += 1
                w += 1
            f.write("".join(lines))
            counts["ways"] += (stop - start) * (BUILDINGS + STREETS)
        # a lake as a multipolygon of two untagged ways (the first session's building outlines)
        lines = ["r1 v1 Ttype=multipolygon,natural=water,name=lake Mw1@outer\n"]
        f.write("".join(lines))
        counts["relations"] = 1
    return counts


def make_extract(sessions: int) -> tuple[Path, dict[str, int]]:
    import osmium

    OUT.mkdir(parents=True, exist_ok=True)
    pbf = OUT / f"synthetic_{sessions}.osm.pbf"
    meta = OUT / f"synthetic_{sessions}.json"
    if pbf.exists() and meta.exists():
        return pbf, json.loads(meta.read_text())
    opl = OUT / f"synthetic_{sessions}.opl"
    started = time.perf_counter()
    counts = write_opl(opl, sessions)
    writer = osmium.SimpleWriter(str(pbf), overwrite=True)
    osmium.apply(str(opl), writer)
    writer.close()
    opl.unlink()
    counts["seconds_to_generate"] = round(time.perf_counter() - started, 1)
    meta.write_text(json.dumps(counts))
    return pbf, counts


_CHILD = """
import json, resource, sys, time
from campus_geo.layers import layers_from_osm
from campus_geo.network import pbf
if sys.argv[2] == "memory-index":
    pbf.DISK_INDEX_BYTES = 1 << 62  # read at each call: every file's index in memory
started = time.perf_counter()
layers = layers_from_osm(sys.argv[1])
seconds = time.perf_counter() - started
print(json.dumps({
    "seconds": seconds,
    "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "schools": len(layers.schools), "hazards": len(layers.hazards),
    "streets": len(layers.streets),
}))
"""


def read_in_child(pbf: Path, index: str) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(pbf), index],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


#: bytes per node of libosmium's sparse_file_array index: the node id and its location
SPARSE_BYTES_PER_NODE = 16


def _generated_in(seconds: float | None) -> str:
    """How long the extract took to write, as the README says it ("30 minutes to")."""
    if seconds is None:
        return "time not recorded to"
    return f"{seconds / 60:.0f} minutes to" if seconds >= 90 else f"{seconds:.0f} s to"


def readme_block(rows: list[dict[str, Any]], *, cores: int | None, busy: bool) -> str:
    """The README's sentences and table on the PBF extracts (section "Registries, rosters and PBF").

    `rows`: one dict per extract, in the order read, with ``sessions``, ``bytes``,
    ``counts`` (the extract's meta), ``index`` and the child's ``result``.
    """
    big = max(rows, key=lambda r: r["bytes"])
    c, res = big["counts"], big["result"]
    lines = [
        f"`python benchmarks/pbf_bench.py --sessions {big['sessions']}` writes a synthetic",
        f"{big['bytes'] / 1e6:.0f} MB province extract ({readme.half_up(c['nodes'] / 1e6, 1)} M "
        f"nodes, {readme.half_up(c['ways'] / 1e6, 1)} M ways, {c['schools']:,} schools: "
        f"{_generated_in(c.get('seconds_to_generate'))}",
        "write, cached in `benchmarks/out/`) and reads it in its own process. Measured on this",
        f"project's {cores}-core machine{' while other work ran' if busy else ''}:",
        "",
        "| extract MB | nodes | ways | node index | read s | peak RSS MiB | schools | hazards "
        "| streets kept |",
        "|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        n, x = r["counts"], r["result"]
        lines.append(
            f"| {r['bytes'] / 2**20:.0f} | {n['nodes']:,} | {n['ways']:,} | {r['index']} "
            f"| {x['seconds']:.1f} | {x['peak_rss_mib']:,.0f} | {x['schools']:,} "
            f"| {x['hazards']:,} | {x['streets']:,} |"
        )
    if big["index"].startswith("disk"):
        gib = readme.fixed_up(c["nodes"] * SPARSE_BYTES_PER_NODE / 2**30, 1)
        text = [  # the README's line breaks
            f"Peak RSS includes up to {gib} GiB of the memory-mapped node index (page cache, "
            "given back",
            f"under pressure); the rest is the kept features, the {res['streets']:,} streets near "
            "schools and",
            "24 bytes per other street. The same file as OSM XML through osmnx would hold every",
            "element as Python objects (tens of GB).",
        ]
    else:
        text = [
            readme.wrap(
                "Peak RSS includes the node index, held in memory; the rest is the kept features, "
                f"the {res['streets']:,} streets near schools and 24 bytes per other street. The "
                "same file as OSM XML through osmnx would hold every element as Python objects "
                "(tens of GB).",
                88,
            )
        ]
    return "\n".join([*lines, "", *text])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sessions", type=int, action="append", help="mapping sessions (~55 nodes each)"
    )
    parser.add_argument("--index", choices=["auto", "memory-index"], default="auto")
    readme.add_arguments(parser, "pbf_bench")
    args = parser.parse_args()
    from campus_geo.network.pbf import DISK_INDEX_BYTES

    busy = readme.busy()  # other work, before this one starts
    rows = []
    for sessions in args.sessions or [100_000]:
        pbf, counts = make_extract(sessions)
        size = pbf.stat().st_size
        r = read_in_child(pbf, args.index)
        index = (
            "disk (sparse_file_array)"
            if args.index == "auto" and size > DISK_INDEX_BYTES
            else "memory (flex_mem)"
        )
        rows.append(
            {"sessions": sessions, "bytes": size, "counts": counts, "index": index, "result": r}
        )
        print(
            f"  {sessions:,} sessions: {size / 2**20:.0f} MiB, read in {r['seconds']:.1f} s, "
            f"peak RSS {r['peak_rss_mib']:,.0f} MiB",
            flush=True,
        )
    block = readme_block(rows, cores=os.cpu_count(), busy=busy)
    print(readme.framed("pbf_bench", block))
    if args.readme:
        readme.write_block(args.readme_path, "pbf_bench", block)


if __name__ == "__main__":
    main()
