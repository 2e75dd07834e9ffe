"""CI cannot skip silently: a missing Chromium or OSM extract fails a test there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

PROBE = """
from conftest import osm_extract

def test_needs_an_extract():
    osm_extract("no-such-extract.osm.pbf")
"""


@pytest.mark.parametrize(("require", "outcome"), [("1", "1 failed"), ("0", "1 skipped")])
def test_a_missing_extract_fails_in_ci_and_skips_elsewhere(tmp_path, require, outcome):
    probe = tmp_path / "test_probe.py"
    probe.write_text(PROBE, encoding="utf-8")
    env = {**os.environ, "CAMPUS_GEO_REQUIRE_ALL": require, "CI": "", "PYTHONPATH": str(HERE)}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
         "-c", os.devnull, str(probe)],
        capture_output=True, text=True, env=env, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert outcome in run.stdout, run.stdout
    if require == "1":
        assert "CI requires it" in run.stdout


def test_ci_run_requires_the_browser_and_real_data_tests():
    script = (HERE.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "export CAMPUS_GEO_REQUIRE_ALL=1" in script
    assert script.rstrip().endswith("make test")
