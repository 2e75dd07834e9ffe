"""The README's figures come from scripts: every figure block is written by its benchmark."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_figure_block_has_the_script_that_writes_it():
    starts = re.findall(r"<!-- ([a-z_]+):start -->", README)
    ends = re.findall(r"<!-- ([a-z_]+):end -->", README)
    assert starts == ends
    assert set(starts) >= {
        "screen_bench", "coords_roundtrip", "registry_bench", "pbf_bench", "map_bench",
        "walk_bench", "scale_bench", "scale_plot", "import_bench",
    }  # fmt: skip
    for name in starts:
        script = (ROOT / "benchmarks" / f"{name}.py").read_text(encoding="utf-8")
        assert f'readme.write_block(args.readme_path, "{name}"' in script, name


def test_the_quickstart_has_exactly_the_two_set_up_commands():
    quickstart = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = quickstart.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make demo", "make test"]
