"""Reading and classifying a 200,000-row business registry: rows per second.

Writes a synthetic registry of N rows with the demo registries' columns
(企业名称, 统一社会信用代码, 许可证号, 经营场所, 经营范围, 经度, 纬度 in GCJ-02,
登记状态, 所属乡镇) spread over Henan's box, with the usual dirt in the usual
proportions (1 % missing coordinates, 0.5 % swapped, 0.3 % both numbers in one
cell, 2 % duplicates, 3 % closed, 20 % ordinary shops that classify as nothing),
as GBK CSV (and, with --xlsx, as a workbook with a title row), then times
``campus_geo.registry.hazards_from_registry(path, coords="gcj02")``: decoding,
header detection, coordinate parsing and GCJ-02 -> WGS 84, classification,
duplicates, rejects. Best of --repeat runs, in this process.

    python benchmarks/registry_bench.py                 # 200,000 rows, GBK CSV
    python benchmarks/registry_bench.py --rows 200000 --xlsx
    python benchmarks/registry_bench.py --readme        # also into README.md

It prints the paragraph and table of the README section "Registries, rosters and
PBF" between their markers; ``--readme`` writes them there.
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import os
import random
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import readme

from campus_geo.coords import wgs84_to_gcj02
from campus_geo.demo.tables import BUSINESS_SCOPES, CSV_COLUMNS, credit_code
from campus_geo.registry import hazards_from_registry

OUT = Path(__file__).resolve().parent / "out"
BOX = (110.4, 31.4, 116.6, 36.4)
SUFFIX = {
    "netcafe": "网咖", "ktv": "量贩KTV", "dance": "歌舞厅", "bar": "酒吧", "pub": "啤酒屋",
    "arcade": "电玩城", "chess": "棋牌室", "lottery": "体彩投注站", "tobacco": "烟酒店",
    "alcohol": "酒行", "fuel": "加油站", "gas": "液化气站", "fireworks_name": "烟花爆竹批发部",
    "kiosk": "小吃摊", "latiao": "辣条零食店", "childcare": "托管中心", "prep": "培训学校",
    "books": "书店", "cafe": "咖啡", "supermarket": "超市", "supermarket_tobacco": "便利店",
    "restaurant": "烩面馆", "pharmacy": "大药房", "stationery": "文具店",
}  # fmt: skip
PREFIX = [
    "金马",
    "鑫源",
    "华联",
    "佳佳",
    "星空",
    "蓝天",
    "旺旺",
    "豪情",
    "时代",
    "阳光",
    "永盛",
    "和顺",
    "东方",
    "凯旋",
    "老王",
    "张记",
]


def rows(n: int, seed: int = 1) -> list[list[object]]:
    """N registry rows with dirt, GCJ-02 coordinates with 6 decimals."""
    rng = random.Random(seed)
    gen = np.random.default_rng(seed)
    lon = gen.uniform(BOX[0], BOX[2], n)
    lat = gen.uniform(BOX[1], BOX[3], n)
    glon, glat = wgs84_to_gcj02(lon, lat)
    variants = list(SUFFIX)
    out: list[list[object]] = []
    for i in range(n):
        variant = rng.choice(variants)
        name = f"{rng.choice(PREFIX)}{i}{SUFFIX[variant]}"
        x: object = f"{glon[i]:.6f}"
        y: object = f"{glat[i]:.6f}"
        roll = rng.random()
        if roll < 0.01:
            x, y = "", ""
        elif roll < 0.015:
            x, y = y, x
        elif roll < 0.018:
            x, y = f"{x},{y}", ""
        status = "注销" if rng.random() < 0.03 else "存续"
        row = [
            name,
            credit_code(rng, individual=True),
            f"JY1419950{i:07d}" if rng.random() < 0.5 else "",
            f"许安市青禾区某某路{i}号",
            BUSINESS_SCOPES[variant],
            x,
            y,
            status,
            "某某镇",
        ]
        out.append(row)
        if rng.random() < 0.02:
            out.append(list(row))  # an exact duplicate
    return out[:n]


def write_csv(path: Path, data: list[list[object]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(data)
    path.write_bytes(buf.getvalue().encode("gbk"))


def write_xlsx(path: Path, data: list[list[object]]) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("市场主体名录")
    ws.append(["青禾区市场主体经营许可名录（基准测试）"])
    ws.append(list(CSV_COLUMNS))
    for row in data:
        ws.append(row)
    wb.save(path)


def timed(path: Path, repeat: int) -> tuple[float, float, object]:
    """Best wall-clock and CPU seconds of `repeat` reads (CPU time is robust to other load)."""
    best, best_cpu, result = float("inf"), float("inf"), None
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        result = hazards_from_registry(path, coords="gcj02")
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best, best_cpu, result


def readme_block(
    rows_: list[dict[str, Any]],
    *,
    n_rows: int,
    repeat: int,
    xlsx: bool,
    cores: int | None,
    busy: bool,
) -> str:
    """The README's paragraph and table (section "Registries, rosters and PBF").

    `rows_`: one dict per file with ``kind``, ``mb``, ``counts``, ``wall``, ``cpu``.
    """
    options = ("" if n_rows == 200_000 else f" --rows {n_rows}") + (" --xlsx" if xlsx else "")
    files = f"a {n_rows:,}-row GBK registry" + (" (and the same rows as xlsx)" if xlsx else "")
    best = f"best of {readme.runs_text(repeat)}" if repeat > 1 else "one run"
    intro = (
        f"`python benchmarks/registry_bench.py{options}` reads and classifies {files} "
        "with the usual dirt (GCJ-02 coordinates, 1\u00a0% missing, swapped or combined "
        "coordinates, 2\u00a0% duplicates, 3\u00a0% closed, a quarter ordinary shops): measured "
        f"on this project's {cores}-core machine{', busy with other work,' if busy else ','} "
        f"{best}:"
    )
    lines = [
        readme.wrap(intro, 88),
        "",
        "| file | MB | rows | wall s | CPU s | rows/s (wall) | rows/s (CPU) | used | merged "
        "| rejected | other |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows_:
        c, wall, cpu = r["counts"], r["wall"], r["cpu"]
        lines.append(
            f"| {r['kind']} | {r['mb']:.1f} | {c['read']:,} | {wall:.2f} | {cpu:.2f} "
            f"| **{c['read'] / wall:,.0f}** | {c['read'] / cpu:,.0f} "
            f"| {c['used']:,} | {c['merged']:,} | {c['rejected']:,} | {c['unclassified']:,} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--xlsx", action="store_true", help="also time an xlsx workbook")
    readme.add_arguments(parser, "registry_bench")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the fixed rows' warnings would flood the terminal
    warnings.simplefilter("ignore")  # the same warnings, as Python warnings
    busy = readme.busy()  # other work, before this one starts
    OUT.mkdir(parents=True, exist_ok=True)
    data = rows(args.rows)
    files = [OUT / f"registry_{args.rows}_gbk.csv"]
    write_csv(files[0], data)
    if args.xlsx:
        files.append(OUT / f"registry_{args.rows}.xlsx")
        write_xlsx(files[1], data)
    measured = []
    for path in files:
        seconds, cpu, reg = timed(path, args.repeat)
        measured.append(
            {
                "kind": "CSV (GBK)" if path.suffix == ".csv" else "xlsx (title row)",
                "mb": path.stat().st_size / 2**20,
                "counts": reg.counts,  # type: ignore[attr-defined]
                "wall": seconds,
                "cpu": cpu,
            }
        )
        print(f"  {path.name}: best {seconds:.2f} s wall, {cpu:.2f} s CPU", flush=True)
    block = readme_block(
        measured,
        n_rows=args.rows,
        repeat=args.repeat,
        xlsx=args.xlsx,
        cores=os.cpu_count(),
        busy=busy,
    )
    print(readme.framed("registry_bench", block))
    if args.readme:
        readme.write_block(args.readme_path, "registry_bench", block)


if __name__ == "__main__":
    main()
