"""The figures a benchmark prints, written into README.md between its own marker comments.

Every benchmark that backs a figure of the README owns one block of it::

    <!-- screen_bench:start -->
    ... the text the benchmark printed ...
    <!-- screen_bench:end -->

and ``--readme`` rewrites what lies between the two markers with exactly the text the
benchmark printed. The markers themselves stay where they are; the end marker keeps its
indentation, so a block can sit inside a list item. A README with no block, or with a
marker missing, twice or out of order, is left unchanged and the benchmark stops with a
message saying so.

    from readme import add_arguments, write_block

    add_arguments(parser, "screen_bench")     # --readme, --readme-path
    ...
    print(block)
    if args.readme:
        write_block(args.readme_path, "screen_bench", block)
"""

from __future__ import annotations

import argparse
import math
import os
import textwrap
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def markers(name: str) -> tuple[str, str]:
    """The start and end marker comments of the block `name`."""
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def replace_block(text: str, name: str, body: str) -> str:
    """`text` with the block `name` replaced by `body`; ValueError when the markers are wrong."""
    start, end = markers(name)
    for marker in (start, end):
        count = text.count(marker)
        if count != 1:
            raise ValueError(f"{marker} occurs {count} times (once expected)")
    if text.index(end) < text.index(start):
        raise ValueError(f"{end} comes before {start}")
    head, rest = text.split(start)
    old, tail = rest.split(end)
    if not old.startswith("\n"):
        raise ValueError(f"{start} must end its line")
    # the end marker's indentation, so that a block inside a list item stays inside it
    indent = old[old.rfind("\n") + 1 :]
    if "\n" not in old or indent.strip():
        raise ValueError(f"{end} must begin its line, after {start}")
    return f"{head}{start}\n{body.lstrip(chr(10)).rstrip()}\n{indent}{end}{tail}"


def write_block(path: Path, name: str, body: str) -> None:
    """Replace the block `name` of the markdown file `path` with `body`."""
    try:
        new = replace_block(path.read_text(encoding="utf-8"), name, body)
    except (OSError, ValueError) as err:
        raise SystemExit(f"{path}: no block to fill: {err}") from None
    path.write_text(new, encoding="utf-8")
    print(f"wrote the {name} block of {path}")


def framed(name: str, body: str) -> str:
    """`body` between the markers of the block `name`: what ``--readme`` puts in the README."""
    start, end = markers(name)
    return f"{start}\n{body.lstrip(chr(10)).rstrip()}\n{end}"


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    """Add ``--readme`` and ``--readme-path`` to a benchmark's command line."""
    start, end = markers(name)
    parser.add_argument(
        "--readme",
        action="store_true",
        help=f"also write the printed block into README.md between {start} and {end}",
    )
    parser.add_argument(
        "--readme-path",
        type=Path,
        default=README,
        help="the markdown file --readme writes into (default: the repository's README.md)",
    )


# ----------------------------------------------------------------------------- formatting


def sci(value: float, digits: int = 1, *, up: bool = False) -> str:
    """`value` in README notation: ``6.2e-6`` rather than Python's ``6.2e-06``.

    With ``up=True`` the last digit is rounded up, for a bound ("at most", "within").
    """
    if up and value > 0:
        exponent = math.floor(math.log10(value)) - digits
        value = math.ceil(value / 10.0**exponent * (1 - 1e-12)) * 10.0**exponent
    mantissa, exponent_text = f"{value:.{digits}e}".split("e")
    return f"{mantissa}e{int(exponent_text)}"


def wrap(text: str, width: int, indent: str = "") -> str:
    """A paragraph wrapped as the README wraps it; a no-break space (U+00A0) never breaks.

    `indent` begins every line but the first (the continuation of a list item).
    """
    lines = textwrap.wrap(
        text,
        width,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return "\n".join(lines).replace("\u00a0", " ")


def half_up(value: float, decimals: int) -> str:
    """`value` with `decimals` decimals, a half rounded up (85.55 -> 85.6, as people round)."""
    quantum = Decimal(1).scaleb(-decimals)
    return f"{Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP):f}"


def fixed_up(value: float, decimals: int) -> str:
    """`value` with `decimals` decimals, rounded up (a bound: "up to", "within")."""
    scale = 10.0**decimals
    return f"{math.ceil(value * scale * (1 - 1e-12)) / scale:.{decimals}f}"


def spread(texts: list[str], sep: str) -> str:
    """Run values as the README writes them: one value when every run gave it, else joined."""
    return texts[0] if len(set(texts)) == 1 else sep.join(texts)


def busy(threshold: float = 1.0) -> bool:
    """Whether other work is running: a 1-minute load average of at least `threshold`."""
    return os.getloadavg()[0] >= threshold


RUNS = {1: "one run", 2: "two runs", 3: "three runs", 4: "four runs", 5: "five runs"}


def runs_text(n: int) -> str:
    """``two runs`` for 2: how the README counts runs."""
    return RUNS.get(n, f"{n} runs")
