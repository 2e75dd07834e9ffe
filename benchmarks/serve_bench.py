"""50 simulated users browsing and editing the demo ledger scaled to 20,000 cases on the review desk.

The demo ledger (``campus-geo demo``; ``--demo DIR`` or a fresh one) is copied
and scaled to ``--cases`` cases by cloning its cases under new ids (same
units, townships and categories). The desk runs as ``campus-geo serve`` in
its own process (one uvicorn worker, 127.0.0.1); ``--users`` users, each with
its own account and httpx client (office, unit and township roles), log in
and for ``--seconds`` s open the case table with random filters and pages,
open cases, and edit the notes of cases that several users share (so that
conflicts happen). Each edit sends the version its page showed.

Reported: requests/s, p50/p95 latency, errors (any 5xx, network error or
unexpected status: must be 0), conflicts (409: the ledger refused a stale edit,
as it should) and lost updates (must be 0): every edit answered 303 must be in
the ledger's history with its user, and every case's notes must be the last
value its history records.

    .venv/bin/python benchmarks/serve_bench.py            # 50 users, 20,000 cases, 60 s
    .venv/bin/python benchmarks/serve_bench.py --readme   # also into README.md
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import readme

ROOT = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')
LINK = re.compile(r'href="/cases/([0-9a-f]{16})"')


def demo_ledger(demo: Path | None, work: Path) -> Path:
    if demo is None:
        demo = work / "demo"
        subprocess.run(
            [
                sys.executable,
                "-c",
                "from campus_geo.cli import main; main()",
                "demo",
                "--out",
                str(demo),
            ],
            check=True,
            capture_output=True,
        )
    return demo / "ledger.sqlite"


def scale(source: Path, target: Path, n_cases: int) -> int:
    """Copy the ledger and clone its cases under new ids until it holds `n_cases`."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    conn = sqlite3.connect(target, isolation_level=None)
    rows = conn.execute("SELECT * FROM cases").fetchall()
    names = [d[0] for d in conn.execute("SELECT * FROM cases LIMIT 1").description]
    fid = names.index("finding_id")
    hazard = names.index("hazard_name")
    missing = n_cases - len(rows)
    conn.execute("BEGIN")
    for i in range(missing):
        row = list(rows[i % len(rows)])
        row[fid] = secrets.token_hex(8)
        row[hazard] = f"{row[hazard]} #{i + 1}"
        conn.execute(f"INSERT INTO cases VALUES ({', '.join('?' * len(row))})", row)
    conn.execute("COMMIT")
    total = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
    conn.close()
    return int(total)


def accounts(ledger: Path, n_users: int) -> list[tuple[str, str]]:
    from campus_geo.desk.users import add_user

    conn = sqlite3.connect(ledger)
    units = [
        r[0]
        for r in conn.execute("SELECT enforcing_unit FROM cases GROUP BY 1 ORDER BY count(*) DESC")
    ]
    towns = [
        r[0] for r in conn.execute("SELECT township FROM cases GROUP BY 1 ORDER BY count(*) DESC")
    ]
    conn.close()
    users = []
    for i in range(n_users):
        name, password = f"user{i:02d}", f"bench-pass-{i:02d}"
        if i % 10 == 0:
            add_user(ledger, name, password, role="office")
        elif i % 10 == 1:
            add_user(ledger, name, password, role="township", township=towns[i % len(towns)])
        else:
            add_user(ledger, name, password, role="unit", unit=units[i % 3])
        users.append((name, password))
    return users


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.conflicts = 0
        self.edits: list[tuple[str, str, str]] = []  # (user, case, notes) answered 303


async def timed(stats: Stats, call, *args, ok=(200,), **kwargs) -> httpx.Response | None:
    start = time.perf_counter()
    try:
        response = await call(*args, **kwargs)
    except httpx.HTTPError as exc:
        stats.errors.append(f"{type(exc).__name__}: {exc}")
        return None
    stats.latencies.append(time.perf_counter() - start)
    if response.status_code == 409:
        stats.conflicts += 1
    elif response.status_code not in ok:
        stats.errors.append(
            f"{response.status_code} {response.request.method} {response.request.url}"
        )
    return response


async def user_loop(
    base: str, name: str, password: str, until: float, stats: Stats, seed: int
) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=base, timeout=60.0) as client:
        page = await timed(stats, client.get, "/login")
        if page is None:
            return
        token = CSRF.search(page.text).group(1)
        r = await timed(
            stats,
            client.post,
            "/login",
            data={"csrf": token, "username": name, "password": password},
            ok=(303,),
        )
        if r is None or r.status_code != 303:
            return
        first = await timed(stats, client.get, "/cases", params={"overdue": "1"})
        hot = LINK.findall(first.text)[:8] if first is not None else []
        n = 0
        while time.monotonic() < until:
            roll = rng.random()
            if roll < 0.55 or not hot:
                params = {
                    "page": str(rng.randint(1, 20)),
                    "sort": rng.choice(["deadline", "township", "school"]),
                }
                if rng.random() < 0.5:
                    params["overdue"] = "1"
                r = await timed(stats, client.get, "/cases", params=params)
                if r is not None and r.status_code == 200 and rng.random() < 0.3:
                    links = LINK.findall(r.text)
                    if links:
                        await timed(stats, client.get, f"/cases/{rng.choice(links)}")
            elif roll < 0.65:
                await timed(stats, client.get, "/")
            elif roll < 0.8:
                await timed(stats, client.get, f"/cases/{rng.choice(hot)}")
            else:
                fid = rng.choice(hot)
                page = await timed(stats, client.get, f"/cases/{fid}")
                if page is None or page.status_code != 200 or 'id="change"' not in page.text:
                    continue
                n += 1
                notes = f"bench {name} {n}"
                form = {
                    "csrf": CSRF.search(page.text).group(1),
                    "version": VERSION.search(page.text).group(1),
                    "notes": notes,
                }
                await asyncio.sleep(rng.random() * 0.2)  # the person types
                r = await timed(stats, client.post, f"/cases/{fid}", data=form, ok=(303,))
                if r is not None and r.status_code == 303:
                    stats.edits.append((name, fid, notes))


def lost_updates(ledger: Path, edits: list[tuple[str, str, str]]) -> int:
    conn = sqlite3.connect(ledger)
    rows = conn.execute(
        "SELECT finding_id, who, new FROM history WHERE field = 'notes' AND source = 'desk' ORDER BY history_id"
    ).fetchall()
    recorded = {(who, fid, new) for fid, who, new in rows}
    lost = sum(1 for edit in edits if edit not in recorded)
    last: dict[str, str] = {}
    for fid, _who, new in rows:
        last[fid] = new
    for fid, value in last.items():
        (notes,) = conn.execute("SELECT notes FROM cases WHERE finding_id = ?", (fid,)).fetchone()
        lost += notes != value
    conn.close()
    return lost


async def load(base: str, users: list[tuple[str, str]], seconds: float) -> tuple[Stats, float]:
    stats = Stats()
    start = time.monotonic()
    until = start + seconds
    await asyncio.gather(
        *(user_loop(base, n, p, until, stats, i) for i, (n, p) in enumerate(users))
    )
    return stats, time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--demo", type=Path, help="a `campus-geo demo` output folder (default: make one)"
    )
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    readme.add_arguments(parser, "serve_bench")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = demo_ledger(args.demo, work)
        ledger = work / "ledger.sqlite"
        n_cases = scale(source, ledger, args.cases)
        if source.with_name("findings.gpkg").is_file():
            shutil.copy(source.with_name("findings.gpkg"), work / "findings.gpkg")
        users = accounts(ledger, args.users)
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        server = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from campus_geo.cli import main; main()",
                "serve",
                "--ledger",
                str(ledger),
                "--port",
                str(port),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"{base}/login", timeout=1.0)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the desk did not start") from None
                    time.sleep(0.2)
            stats, elapsed = asyncio.run(load(base, users, args.seconds))
        finally:
            server.terminate()
            server.wait(timeout=30)
        lost = lost_updates(ledger, stats.edits)
    lat = sorted(stats.latencies)
    p95 = lat[int(0.95 * (len(lat) - 1))] if lat else float("nan")
    block = "\n".join(
        [
            f"`benchmarks/serve_bench.py`: {args.users} simulated users (httpx, one client and account "
            f"each) on the demo ledger scaled to {n_cases:,} cases, {args.seconds:g} s, `campus-geo serve` "
            f"(one uvicorn worker) on {os.cpu_count()} cores shared with the clients:",
            "",
            "| requests | requests/s | p50 | p95 | edits saved | conflicts (409) | errors | lost updates |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| {len(lat):,} | {len(lat) / elapsed:.1f} | {statistics.median(lat) * 1000:.0f} ms "
            f"| {p95 * 1000:.0f} ms | {len(stats.edits):,} | {stats.conflicts:,} | {len(stats.errors)} | {lost} |",
        ]
    )
    print(block)
    for error in stats.errors[:10]:
        print("error:", error, file=sys.stderr)
    if args.readme:
        readme.write_block(args.readme_path, "serve_bench", block)
    if stats.errors or lost:
        raise SystemExit(2)


if __name__ == "__main__":
    main()
