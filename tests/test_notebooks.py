"""Every notebook runs top to bottom on the demo data (outputs are stripped in git)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
#: A line each notebook prints (stream output); the default is the quickstart's.
EXPECTED = {
    "02_registry.ipynb": "of them from registry-only venues, screened on the ellipsoid",
    "03_maps.ipynb": "kB, 0 external references",
    "04_reports.ipynb": "evidence sheets for 苇塘镇; rebuilt byte-identical: True",
    "05_ledger.ipynb": "ledger notebook: 179 cases, 115 overdue at the end of July",
    "06_walk_water_traffic.ipynb": "walks measured on the WGS 84 ellipsoid, part-edges included",
    # a shared extract (../shared/data/osm), not the demo: 18 findings under every profile,
    # the water, traffic and camera sections and the profiles' section
    "07_own_district.ipynb": "own district: 14 schools, 3 gates, 18 findings, 4 analysis sections, 18 evidence sheets",
}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_and_is_stripped(path):
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
        "commit notebooks stripped"
    )
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert EXPECTED.get(path.name, "internet-café findings measured on the ellipsoid") in text
