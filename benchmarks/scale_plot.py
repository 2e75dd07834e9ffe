"""Time and memory against pairs: every scale_bench run in one plot and one table.

Usage::

    python benchmarks/scale_bench.py --schools 1000 --venues 100000 --methods ...
    python benchmarks/scale_bench.py --schools 10000 --venues 1000000 --layout district ...
    python benchmarks/scale_bench.py --schools 50000 --venues 5000000 ...
    python benchmarks/scale_plot.py --readme

Each scale_bench run leaves ``benchmarks/out/scale_runs_<layout>_<size>_seed<n>.json``
(its methods' total seconds and peak memory, and the number of true pairs). This
script draws total seconds and peak MiB against venues + pairs for every method
(``benchmarks/scale_plot.png``, shown in the README) and prints a table with each
method's ratio to DuckDB's UTM join and campus_geo's cost per million venues +
pairs: a flat cost means a run grows linearly in venues plus pairs. ``--readme``
writes the table into the README block "scale_plot".
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import readme
import screen_bench as sb

PNG = Path(__file__).resolve().parent / "scale_plot.png"
#: method -> (short name, matplotlib style)
SHOWN = {
    "screen": ("campus_geo screen() of GeoDataFrames (read with geopandas)", "-o"),
    "screen_files": ("campus_geo screen() of the files' paths", "-P"),
    "campus_geo": ("campus_geo stream (GeoParquet in and out)", "-s"),
    "duckdb": ("DuckDB ST_DWithin in UTM (inexact)", "--^"),
    "utm": ("geopandas UTM sjoin dwithin (inexact)", "--v"),
    "postgis": ("PostGIS geography + GiST", ":d"),
}


def load_runs(folder: Path = sb.OUT_DIR) -> list[dict[str, Any]]:
    """The scale_bench runs on record, smallest first."""
    runs = [json.loads(p.read_text()) for p in sorted(folder.glob("scale_runs_*.json"))]
    return sorted(runs, key=lambda r: r["venues"] + r["pairs"])


def _size(run: dict[str, Any]) -> str:
    place = "dense district" if run["layout"] == "district" else "~40 towns"
    return f"{run['schools']:,} x {run['venues']:,} ({place})"


def table(runs: list[dict[str, Any]]) -> str:
    """Markdown: per run, each method's seconds / MiB and ratio to DuckDB; campus_geo's cost."""
    lines = [
        "| schools x venues | pairs | `screen()` s / MiB | `screen(paths)` s / MiB "
        "| stream s / MiB | DuckDB s | geopandas UTM s | `screen()` / DuckDB "
        "| `screen(paths)` / DuckDB | stream / DuckDB "
        "| `screen()` s per million venues + pairs |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def cell(run: dict[str, Any], method: str, memory: bool = True) -> str:
        m = run["methods"].get(method)
        if m is None:
            return "—"
        return f"{m['total_s']:.2f} / {m['peak_mib']:,.0f}" if memory else f"{m['total_s']:.2f}"

    def ratio(run: dict[str, Any], method: str) -> str:
        m, d = run["methods"].get(method), run["methods"].get("duckdb")
        return f"{m['total_s'] / d['total_s']:.2f}" if m and d else "—"

    for run in runs:
        screen = run["methods"].get("screen")
        per = f"{screen['total_s'] / ((run['venues'] + run['pairs']) / 1e6):.2f}" if screen else "—"
        lines.append(
            f"| {_size(run)} | {run['pairs']:,} | {cell(run, 'screen')} "
            f"| {cell(run, 'screen_files')} "
            f"| {cell(run, 'campus_geo')} | {cell(run, 'duckdb', memory=False)} "
            f"| {cell(run, 'utm', memory=False)} | {ratio(run, 'screen')} "
            f"| {ratio(run, 'screen_files')} | {ratio(run, 'campus_geo')} | {per} |"
        )
    revisions = sorted({run["revision"] for run in runs})
    return "\n".join(lines) + f"\n\ncampus_geo at {', '.join(revisions)}."


def plot(runs: list[dict[str, Any]], path: Path = PNG) -> None:
    """Total seconds and peak MiB against venues + pairs, log-log, one line per method."""
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110)
    for method, (name, style) in SHOWN.items():
        points = [
            (r["venues"] + r["pairs"], r["methods"][method]) for r in runs if method in r["methods"]
        ]
        if not points:
            continue
        x = [p[0] for p in points]
        left.plot(x, [p[1]["total_s"] for p in points], style, label=name)
        right.plot(x, [p[1]["peak_mib"] for p in points], style, label=name)
    for axis, label in ((left, "total seconds (load included)"), (right, "peak memory, MiB")):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("venues + pairs within 200 m")
        axis.set_ylabel(label)
        axis.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=7)
    fig.suptitle("scale_bench: 2 cores, one run per size (benchmarks/scale_plot.py)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    readme.add_arguments(parser, "scale_plot")
    args = parser.parse_args(argv)
    runs = load_runs()
    if not runs:
        raise SystemExit(f"no scale_bench runs in {sb.OUT_DIR}: run benchmarks/scale_bench.py")
    plot(runs)
    block = (
        f"![time and memory against venues + pairs]({PNG.relative_to(readme.README.parent)})\n\n"
        + table(runs)
    )
    print(block)
    if args.readme:
        readme.write_block(args.readme_path, "scale_plot", block)


if __name__ == "__main__":
    main()
