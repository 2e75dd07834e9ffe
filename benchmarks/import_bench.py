"""How long ``import campus_geo`` and ``campus-geo --help`` take, beside ``import geopandas``.

Each command runs in a fresh interpreter (as a user starts it), several rounds,
the commands interleaved so that a slow moment of the machine hits them alike;
the table gives each one's median wall time, its ratio to ``import geopandas``
and the heavy libraries it loaded (read from ``sys.modules`` at its end).

    .venv/bin/python benchmarks/import_bench.py            # 9 rounds
    .venv/bin/python benchmarks/import_bench.py --readme   # also into README.md
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import readme

HEAVY = ("numpy", "pandas", "geopandas", "shapely", "pyproj", "matplotlib", "folium", "openpyxl")
REPORT = (
    "import sys, json\n"
    "print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r}))))\n"
)
#: command -> (code, the module whose cumulative ``-X importtime`` is reported)
COMMANDS = {
    "`python -c pass` (the interpreter alone)": ("pass", None),
    "`import campus_geo`": ("import campus_geo", "campus_geo"),
    "`campus-geo --help`": (
        "import contextlib, io\n"
        "from campus_geo.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])",
        "campus_geo.cli",
    ),
    "`import geopandas`": ("import geopandas", "geopandas"),
    "`import campus_geo.screen` (the engine, on first use)": (
        "import campus_geo.screen",
        "campus_geo.screen",
    ),
}


def _run(code: str, module: str | None) -> tuple[float, float, list[str]]:
    """Wall seconds, ``-X importtime`` cumulative seconds of `module`, heavy modules loaded."""
    script = code + "\n" + REPORT.format(heavy=HEAVY)
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", script],
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - t0
    cumulative = 0.0
    for line in out.stderr.splitlines():  # "import time: self [us] | cumulative | imported package"
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == module:
            cumulative = int(parts[1]) / 1e6
    return elapsed, cumulative, json.loads(out.stdout.strip().splitlines()[-1])


def measure(rounds: int) -> dict[str, tuple[list[float], list[float], list[str]]]:
    wall: dict[str, list[float]] = {name: [] for name in COMMANDS}
    imports: dict[str, list[float]] = {name: [] for name in COMMANDS}
    loaded: dict[str, list[str]] = {}
    for name, (code, module) in COMMANDS.items():  # one untimed run each: the page cache
        loaded[name] = _run(code, module)[2]
    for _ in range(rounds):
        for name, (code, module) in COMMANDS.items():
            seconds, cumulative, _ = _run(code, module)
            wall[name].append(seconds)
            imports[name].append(cumulative)
    return {name: (wall[name], imports[name], loaded[name]) for name in COMMANDS}


def table(results: dict[str, tuple[list[float], list[float], list[str]]], rounds: int) -> str:
    geopandas = statistics.median(results["`import geopandas`"][0])
    lines = [
        f"| command (fresh interpreter, median of {rounds}) | wall s | / `import geopandas` "
        "| `-X importtime` s | heavy libraries loaded |",
        "|---|---:|---:|---:|---|",
    ]
    for name, (wall, imports, loaded) in results.items():
        median = statistics.median(wall)
        cumulative = f"{statistics.median(imports):.3f}" if COMMANDS[name][1] else ""
        lines.append(
            f"| {name} | {median:.3f} | {median / geopandas:.2f} | {cumulative} "
            f"| {', '.join(loaded) or 'none'} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    readme.add_arguments(parser, "import_bench")
    args = parser.parse_args()
    report = table(measure(args.rounds), args.rounds)
    print(report)
    if args.readme:
        readme.write_block(args.readme_path, "import_bench", report)


if __name__ == "__main__":
    main()
