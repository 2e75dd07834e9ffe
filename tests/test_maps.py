from __future__ import annotations

import re

from campus_geo.maps import hazard_map, save_map
from campus_geo.screen import screen

XSS = "<img src=x onerror=alert(1)>"


def test_map_escapes_names_and_draws_every_finding(tmp_path, equator_layers):
    schools, hazards = equator_layers
    hazards = hazards.copy()
    hazards.loc["in_150", "name"] = XSS
    findings = screen(schools, hazards)
    path = save_map(hazard_map(findings, schools, hazards), tmp_path / "map.html")
    page = path.read_text(encoding="utf-8")
    assert XSS not in page
    assert (
        "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in page
        or "&lt;img src=x onerror=alert(1)&gt;" in page
    )
    # one GeoJSON layer each for zones, schools, hazards and measured lines
    assert page.count('"distance": "150.0 \\u7c73"') == 1
    assert len(re.findall(r'"distance": "[0-9.]+ \\u7c73"', page)) == len(findings) == 2
    assert "OpenStreetMap contributors" in page


def test_english_labels(tmp_path, equator_layers):
    schools, hazards = equator_layers
    findings = screen(schools, hazards)
    page = save_map(
        hazard_map(findings, schools, hazards, lang="en"), tmp_path / "m.html"
    ).read_text("utf-8")
    assert '"distance": "199.99 m"' not in page  # rounded to 0.1 m
    assert '"distance": "200.0 m"' in page
    assert "Measured lines" in page
