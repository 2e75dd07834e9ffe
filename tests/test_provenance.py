"""Input provenance: hashes, OSM data dates and element metadata, sources parsed back."""

from __future__ import annotations

import bz2
import datetime as dt
import hashlib

import pandas as pd
import pytest
from conftest import osm_extract

from campus_geo import InputDataError
from campus_geo.provenance import (
    SourceRef,
    describe_inputs,
    generation_time,
    osm_element_ids,
    parse_source,
)

OVERPASS = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="Overpass API 0.7.56.9 76e5016d">
<meta osm_base="2021-06-12T07:41:41Z"/>
  <node id="1" lat="32.05" lon="118.79"/>
  <way id="7"><nd ref="1"/></way>
</osm>
"""
EXPORT = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="CGImap 0.6.0">
 <node id="1" version="20" timestamp="2012-04-27T09:28:25Z" lat="39.99" lon="116.31"/>
 <node id="2" version="3" timestamp="2017-06-24T10:40:54Z" lat="39.99" lon="116.31"/>
 <way id="9" version="4" timestamp="2016-01-02T03:04:05Z"><nd ref="1"/><nd ref="2"/></way>
</osm>
"""


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "osm:way/2000422 (district.osm)",
            SourceRef("osm", "district.osm", "way/2000422", "", "osm:way/2000422 (district.osm)"),
        ),
        ("osm:node/5", SourceRef("osm", "", "node/5", "", "osm:node/5")),
        (
            "file:网吧名单.csv#17",
            SourceRef("file", "网吧名单.csv", "", "17", "file:网吧名单.csv#17"),
        ),
        (
            "file:schools.gpkg#feature 3",
            SourceRef("file", "schools.gpkg", "", "feature 3", "file:schools.gpkg#feature 3"),
        ),
        ("inspection 2023-06", SourceRef("", raw="inspection 2023-06")),
    ],
)
def test_parse_source(source, expected):
    assert parse_source(source) == expected


def test_hashes_and_the_overpass_data_date(tmp_path):
    osm = tmp_path / "extract.osm"
    osm.write_text(OVERPASS, encoding="utf-8")
    table = tmp_path / "网吧.csv"
    table.write_bytes("id,名称\n1,星空网咖\n".encode())
    prov = describe_inputs([osm, table, osm], osm_elements={"way/7"})
    assert [f.name for f in prov.files] == ["extract.osm", "网吧.csv"]
    first = prov.files[0]
    assert first.sha256 == hashlib.sha256(OVERPASS.encode()).hexdigest()
    assert first.size == len(OVERPASS.encode())
    assert (first.data_date, first.data_date_source) == ("2021-06-12T07:41:41Z", "osm_base")
    assert first.generator == "Overpass API 0.7.56.9 76e5016d"
    assert prov.files[1].data_date == ""
    assert prov.elements[("extract.osm", "way/7")].version == ""
    assert prov.file("网吧.csv") is prov.files[1]


def test_export_is_dated_by_its_latest_element_and_bz2_is_read(tmp_path):
    osm = tmp_path / "export.osm.bz2"
    osm.write_bytes(bz2.compress(EXPORT.encode()))
    prov = describe_inputs([osm], osm_elements={"way/9", "node/2", "node/404"})
    assert prov.files[0].data_date == "2017-06-24T10:40:54Z"
    assert prov.files[0].data_date_source == "latest element timestamp"
    assert prov.files[0].sha256 == hashlib.sha256(osm.read_bytes()).hexdigest()
    way = prov.elements[("export.osm.bz2", "way/9")]
    assert (way.version, way.timestamp) == ("4", "2016-01-02T03:04:05Z")
    assert ("export.osm.bz2", "node/404") not in prov.elements


def test_missing_and_broken_inputs_are_named(tmp_path):
    with pytest.raises(InputDataError, match=r"input file .*nothing\.osm does not exist"):
        describe_inputs([tmp_path / "nothing.osm"])
    broken = tmp_path / "broken.osm"
    broken.write_text("<osm><node id='1'", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"cannot read OSM file .*broken\.osm"):
        describe_inputs([broken])


def test_osm_element_ids_from_sources():
    layer = pd.DataFrame({"source": ["osm:way/1 (a.osm)", "file:b.csv#2", None, "osm:node/3"]})
    assert osm_element_ids(layer, None) == {"way/1", "node/3"}


def test_generation_time(monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert generation_time("2023-06-15T10:00:00+08:00").isoformat() == "2023-06-15T10:00:00+08:00"
    # times are written in Beijing time (Asia/Shanghai), whatever the machine's zone
    monkeypatch.delenv("CAMPUS_GEO_TIMEZONE", raising=False)
    assert generation_time(dt.datetime(2023, 6, 15, 10)).isoformat() == "2023-06-15T10:00:00+08:00"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1686794400")
    assert generation_time().isoformat() == "2023-06-15T10:00:00+08:00"
    monkeypatch.setenv("CAMPUS_GEO_TIMEZONE", "UTC")
    assert generation_time().isoformat() == "2023-06-15T02:00:00+00:00"
    monkeypatch.setenv("CAMPUS_GEO_TIMEZONE", "Asia/Beijing")
    with pytest.raises(InputDataError, match="'Asia/Beijing' is not a known time zone"):
        generation_time()
    monkeypatch.delenv("CAMPUS_GEO_TIMEZONE")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(InputDataError, match="SOURCE_DATE_EPOCH='yesterday'"):
        generation_time()
    with pytest.raises(InputDataError, match="is not an ISO 8601 time"):
        generation_time("15/06/2023")
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    now = generation_time()
    assert now.utcoffset() == dt.timedelta(hours=8)
    assert abs((dt.datetime.now(dt.UTC) - now).total_seconds()) < 60


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("name", "date", "origin"),
    [
        ("nanjing_xinjiekou_2021.osm.bz2", "2021-06-12T07:41:41Z", "osm_base"),
        (
            "beijing_haidian_wudaokou_2017.osm.bz2",
            "2017-06-24T10:40:54Z",
            "latest element timestamp",
        ),
    ],
)
def test_real_extracts_are_dated(name, date, origin):
    path = osm_extract(name)
    prov = describe_inputs([path], osm_elements={"node/32618840"})
    assert (prov.files[0].data_date, prov.files[0].data_date_source) == (date, origin)
    if name.startswith("beijing"):
        node = prov.elements[(name, "node/32618840")]
        assert (node.version, node.timestamp) == ("20", "2012-04-27T09:28:25Z")
