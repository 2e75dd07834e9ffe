"""OSM PBF: the same layers, ids and findings as the XML path, for the same data.

Each test converts an XML extract to PBF in tmp_path with pyosmium and reads
both: osmnx for XML, the streaming pyosmium reader for PBF.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import osm_extract, to_pbf

from campus_geo import demo
from campus_geo._errors import InputDataError, RejectedRowsWarning
from campus_geo.layers import FEATURE_TAGS, layers_from_features, layers_from_osm
from campus_geo.network import pbf as network_pbf
from campus_geo.screen import screen
from campus_geo.sources import osm_pbf as _osm_pbf

LAYERS = ("schools", "entrances", "hazards", "streets", "water")


def assert_same_layers(xml, pbf):
    for name in LAYERS:
        a, b = getattr(xml, name), getattr(pbf, name)
        assert a.index.tolist() == b.index.tolist(), name
        columns = [c for c in a.columns if c not in ("geometry", "source")]
        assert b[columns].astype(str).equals(a[columns].astype(str)), name
        # the same coordinates, bit for bit
        assert a.geometry.geom_equals_exact(b.geometry, tolerance=0).all(), name
        if "source" in a:  # the same element ids; only the file name differs
            assert b["source"].str.split(" ").str[0].equals(a["source"].str.split(" ").str[0])
    pd.testing.assert_frame_equal(xml.excluded, pbf.excluded)


def assert_same_findings(xml, pbf):
    fa = screen(xml.schools, xml.hazards, entrances=xml.entrances)
    fb = screen(pbf.schools, pbf.hazards, entrances=pbf.entrances)
    assert fa.index.tolist() == fb.index.tolist()  # finding ids hash school, hazard and rule ids
    assert (fa["distance_m"] == fb["distance_m"]).all()
    return fa


def read_both(src, tmp_path):
    """XML layers; PBF layers as read by default; PBF layers with every street and building."""
    xml = layers_from_osm(src)
    pbf_path = to_pbf(src, tmp_path)
    pbf = layers_from_osm(pbf_path)
    everything = layers_from_features(
        _osm_pbf.read_features(pbf_path, margin_m=1e6), source=pbf_path.name
    )
    # by default streets are kept near schools only; plain buildings are not read from PBF
    for name in ("streets", "buildings"):
        assert set(getattr(pbf, name).index) <= set(getattr(xml, name).index)
    assert set(everything.buildings.index) <= set(xml.buildings.index)
    if len(xml.streets):
        assert len(pbf.streets) > 0
    return xml, pbf, everything


@pytest.mark.realdata
@pytest.mark.parametrize(
    "name", ["nanjing_xinjiekou_2021.osm.bz2", "beijing_haidian_wudaokou_2017.osm.bz2"]
)
def test_shared_extract_gives_the_same_layers_and_findings_as_pbf(tmp_path, name):
    src = osm_extract(name)
    xml, pbf, everything = read_both(src, tmp_path)
    assert_same_layers(xml, everything)
    findings = assert_same_findings(xml, pbf)
    assert len(findings) > 0
    assert xml.hazards.index.str.match(r"^(node|way|relation)/\d+$").all()


def test_demo_district_gives_the_same_layers_and_findings_as_pbf(tmp_path):
    src = demo.DEMO_DIR / "district.osm"
    xml, pbf, everything = read_both(src, tmp_path)
    assert_same_layers(xml, everything)
    findings = assert_same_findings(xml, pbf)
    fuel = findings[
        (findings["hazard_id"] == "way/2000485") & (findings["school_id"] == "way/2000343")
    ]
    assert fuel["distance_m"].iloc[0] == pytest.approx(199.6, abs=0.01)


RELATIONS_XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
 <node id="1" lat="34.0000000" lon="113.0000000"/>
 <node id="2" lat="34.0000000" lon="113.0100000"/>
 <node id="3" lat="34.0100000" lon="113.0100000"/>
 <node id="4" lat="34.0100000" lon="113.0000000"/>
 <node id="5" lat="34.0040000" lon="113.0040000"/>
 <node id="6" lat="34.0040000" lon="113.0060000"/>
 <node id="7" lat="34.0060000" lon="113.0060000"/>
 <node id="8" lat="34.0060000" lon="113.0040000"/>
 <node id="9" lat="34.0020000" lon="113.0020000"><tag k="name" v="星空网咖"/><tag k="shop" v="yes"/></node>
 <node id="10" lat="34.0000000" lon="113.0050000"><tag k="barrier" v="gate"/></node>
 <node id="20" lat="34.0120000" lon="113.0000000"/>
 <node id="21" lat="34.0120000" lon="113.0010000"/>
 <node id="30" lat="34.2000000" lon="113.5000000"/>
 <node id="31" lat="34.2000000" lon="113.5010000"/>
 <way id="100"><nd ref="1"/><nd ref="10"/><nd ref="2"/><nd ref="3"/></way>
 <way id="101"><nd ref="3"/><nd ref="4"/><nd ref="1"/></way>
 <way id="102"><nd ref="5"/><nd ref="6"/><nd ref="7"/><nd ref="8"/><nd ref="5"/></way>
 <way id="200"><nd ref="20"/><nd ref="21"/><tag k="highway" v="residential"/><tag k="name" v="near road"/></way>
 <way id="201"><nd ref="30"/><nd ref="31"/><tag k="highway" v="residential"/><tag k="name" v="far road"/></way>
 <relation id="300">
  <member type="way" ref="100" role="outer"/><member type="way" ref="101" role="outer"/>
  <member type="way" ref="102" role="inner"/>
  <tag k="type" v="multipolygon"/><tag k="amenity" v="school"/><tag k="name" v="环形小学"/>
 </relation>
 <relation id="301">
  <member type="way" ref="100" role="outer"/><member type="way" ref="101" role="outer"/>
  <tag k="type" v="boundary"/><tag k="boundary" v="administrative"/><tag k="admin_level" v="8"/>
  <tag k="name" v="环形镇"/>
 </relation>
</osm>
"""


def test_multipolygon_school_admin_boundary_gate_and_the_street_margin(tmp_path):
    src = tmp_path / "rel.osm"
    src.write_text(RELATIONS_XML, encoding="utf-8")
    xml = layers_from_osm(src)
    pbf_path = to_pbf(src, tmp_path)
    pbf = layers_from_osm(pbf_path)
    school = pbf.schools.loc["relation/300"]
    assert school.geometry.geom_type == "Polygon"
    assert len(school.geometry.interiors) == 1  # the inner ring is a hole, as osmnx makes it
    assert school["township"] == "环形镇"
    assert pbf.entrances["school_id"].tolist() == ["relation/300"]
    assert pbf.hazards.index.tolist() == ["node/9"]
    for name in ("schools", "entrances", "hazards"):
        assert getattr(xml, name).geometry.geom_equals_exact(getattr(pbf, name).geometry, 0).all()
    # the road 220 m from the school is kept; the one 55 km away is not read (XML keeps both)
    assert xml.streets["name"].tolist() == ["near road", "far road"]
    assert pbf.streets["name"].tolist() == ["near road"]
    # with no street near any school the layers are still made (an empty street layer)
    lean = layers_from_features(_osm_pbf.read_features(pbf_path, margin_m=10.0), source="x")
    assert lean.streets.empty
    assert lean.schools.index.tolist() == ["relation/300"]


def test_the_disk_index_gives_the_same_features(tmp_path, monkeypatch):
    src = demo.DEMO_DIR / "district.osm"
    pbf = to_pbf(src, tmp_path)
    in_memory = _osm_pbf.read_features(pbf)
    monkeypatch.setattr(network_pbf, "DISK_INDEX_BYTES", 0)
    on_disk = _osm_pbf.read_features(pbf)
    assert in_memory.index.equals(on_disk.index)
    assert in_memory.geometry.geom_equals_exact(on_disk.geometry, tolerance=0).all()


def test_only_the_needed_tag_keys_are_kept(tmp_path):
    features = _osm_pbf.read_features(to_pbf(demo.DEMO_DIR / "district.osm", tmp_path))
    assert set(features.columns) - {"geometry"} <= set(FEATURE_TAGS)
    assert "operator" not in features.columns  # camera operator: not used by the layers


def test_a_users_categories_choose_what_a_pbf_file_keeps(tmp_path):
    from _osm_xml import OsmBuilder

    from campus_geo.category_registry import Category
    from campus_geo.rules import default_categories

    osm = OsmBuilder()
    h = 0.001
    osm.way([(-h, -h), (h, -h), (h, h), (-h, h), (-h, -h)], amenity="school", name="赤道小学")
    osm.node(0.0015, 0.0, leisure="trampoline_park", surface="foam")
    osm.node(0.0016, 0.0, shop="yes", name="欢乐蹦床")
    osm.node(0.0, 0.0, shop="convenience")  # a weak tag makes a node wanted too
    src = osm.write(tmp_path / "park.osm")
    park = Category(
        key="trampoline_park",
        label="蹦床馆",
        label_en="trampoline park",
        osm_tags=(("leisure", "trampoline_park"),),
        name_keywords=("蹦床",),
    )
    cats = default_categories().merged([park])
    pbf = to_pbf(src, tmp_path)
    mine = layers_from_osm(pbf, categories=cats)
    assert mine.hazards["category"].tolist() == ["trampoline_park", "trampoline_park", "tuck_shop"]
    assert_same_layers(layers_from_osm(src, categories=cats), mine)
    # the default categories: neither node is read
    assert layers_from_osm(pbf).hazards["category"].tolist() == ["tuck_shop"]
    assert not _osm_pbf.wanted({"leisure": "trampoline_park"})
    assert _osm_pbf.wanted({"leisure": "trampoline_park"}, cats)
    assert "surface" not in _osm_pbf.read_features(pbf, categories=cats).columns


CUT_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="campus_geo tests">
 <node id="1" lat="34.050" lon="113.850"/>
 <node id="2" lat="34.050" lon="113.852"/>
 <node id="3" lat="34.052" lon="113.852"/>
 <node id="4" lat="34.052" lon="113.850"/>
 <node id="5" lat="34.053" lon="113.850"/>
 <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
  <tag k="amenity" v="school"/><tag k="name" v="柳湾镇中心小学"/></way>
 <way id="11"><nd ref="4"/><nd ref="5"/><tag k="highway" v="residential"/></way>
 <way id="12"><nd ref="5"/><nd ref="99"/><tag k="highway" v="residential"/></way>
</osm>
"""


def test_ways_with_a_node_missing_from_the_file_are_left_out_with_a_warning(tmp_path, caplog):
    src = tmp_path / "cut.osm"
    src.write_text(CUT_XML, encoding="utf-8")
    pbf_path = to_pbf(src, tmp_path)
    with pytest.warns(RejectedRowsWarning) as record:
        layers = layers_from_osm(pbf_path)
    assert layers.streets.index.tolist() == ["way/11"]
    assert [str(w.message) for w in record] == [
        "cut.osm.pbf: 1 way(s) left out: a node missing from the file, or only one node "
        "(see the rejects)"
    ]
    # ... and each is a reject (it was only counted)
    assert layers.rejects[["file", "row", "column"]].values.tolist() == [
        [str(pbf_path), "way/12", "nd"]
    ]
    assert record[0].filename == __file__
    with pytest.warns(RejectedRowsWarning) as record:
        graph = network_pbf.graph_from_pbf(pbf_path, way_tags=["highway"])
    assert graph.number_of_edges() == 2  # way 11, both directions
    assert [str(w.message) for w in record] == [
        f"{pbf_path}: 1 highway way(s) left out: a node missing from the file"
    ]
    logged = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert logged == [
        "cut.osm.pbf: 1 way(s) left out: a node missing from the file, or only one node "
        "(see the rejects)",
        f"{pbf_path}: 1 highway way(s) left out: a node missing from the file",
    ]


def test_bad_pbf_files_are_input_errors(tmp_path):
    with pytest.raises(InputDataError, match="does not exist"):
        layers_from_osm(tmp_path / "none.osm.pbf")
    garbage = tmp_path / "bad.osm.pbf"
    garbage.write_bytes(b"\x00\x00\x00\x0dnot a pbf file at all" * 10)
    with pytest.raises(InputDataError, match=r"cannot read OSM file .*bad\.osm\.pbf"):
        layers_from_osm(garbage)
