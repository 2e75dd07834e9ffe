"""Business registries: encodings, column layouts, dirty rows, classification, merges, the demo."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from campus_geo import demo
from campus_geo._errors import CoordinateWarning, InputDataError
from campus_geo.cli import cli
from campus_geo.coords import wgs84_to_gcj02
from campus_geo.demo import district as demo_district
from campus_geo.geodesy import geodesic_distance
from campus_geo.layers import layers_from_osm
from campus_geo.registry import (
    classify_registry,
    credit_code_valid,
    hazards_from_registry,
    merge_with_osm,
)
from campus_geo.screen import screen
from campus_geo.sources.tables import decode_text

HEADER = [
    "企业名称",
    "统一社会信用代码",
    "许可证号",
    "经营场所",
    "经营范围",
    "经度",
    "纬度",
    "登记状态",
]
#: Two plain rows (WGS 84, so positions are checkable by hand).
NETCAFE = [
    "星空网咖",
    "91419950MAW01L657K",
    "豫网文〔2019〕0898-025号",
    "文昌路1号",
    "互联网上网服务",
]
ROWS = [
    [*NETCAFE, 113.85, 34.05, "存续"],
    ["𠮷祥烟酒店", "", "", "人民路2号", "烟草制品零售；酒类经营", 113.86, 34.06, "在营"],
]  # fmt: skip


def write_csv(path, rows, *, encoding="utf-8", header=HEADER, sep=",", title=None):
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, lineterminator="\r\n")
    if title:
        writer.writerow([title])
    writer.writerow(header)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_xlsx(path, rows, *, header=HEADER, title=None, sheets_before=0):
    wb = openpyxl.Workbook()
    ws = wb.active
    for i in range(sheets_before):
        ws.title = f"说明{i}"
        ws.append(["本表由市场监管局导出"])
        ws = wb.create_sheet()
    ws.title = "名录"
    if title:
        ws.append([title])
        ws.append([])
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


# ---------------------------------------------------------------------------
# encodings


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("gb18030", "gb18030"),
        ("utf-16", "utf-16"),
    ],
)
def test_each_encoding_reads_the_same_names(tmp_path, encoding, detected):
    path = write_csv(
        tmp_path / "r.csv", ROWS, encoding=encoding, sep="\t" if encoding == "utf-16" else ","
    )
    assert decode_text(path.read_bytes())[1] == detected
    reg = hazards_from_registry(path, coords="wgs84")
    assert reg.hazards["name"].tolist() == [
        "星空网咖",
        "𠮷祥烟酒店",
    ]  # 𠮷 is a 4-byte GB18030 character


def test_gbk_file_reads_as_gb18030_superset(tmp_path):
    rows = [r.copy() for r in ROWS]
    rows[1][0] = "吉祥烟酒店"  # GBK has no 𠮷
    path = write_csv(tmp_path / "gbk.csv", rows, encoding="gbk")
    reg = hazards_from_registry(path, coords="wgs84")
    assert reg.hazards["name"].tolist() == ["星空网咖", "吉祥烟酒店"]
    # a two-line GBK sample is ambiguous to a detector (UTF-16, CP949 tie): GB wins the tie
    assert decode_text("名称,经度\n张记网吧,113.85\n".encode("gbk"))[0].startswith("名称")


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("big5", "名稱,經度,緯度\n網咖天堂,121.5,25.03\n彩券行,121.4,25.0\n"),
        ("cp1252", "name,lon,lat\nCafé Müller,113.85,34.05\nBäckerei Größe,113.8,34.0\n"),
        ("euc_kr", "상호,경도,위도\n서울카페,126.97,37.56\n부산식당,129.0,35.1\n"),
        ("shift_jis", "名前,経度,緯度\n東京カフェ,139.7,35.6\nラーメン屋,139.6,35.5\n"),
    ],
)
def test_a_file_in_another_encoding_is_refused_not_garbled(tmp_path, encoding, text):
    path = tmp_path / "other.csv"
    path.write_bytes(text.encode(encoding))
    with pytest.raises(
        InputDataError, match=r"not UTF-8, GBK or GB18030 text .*save it as 'CSV UTF-8'"
    ):
        hazards_from_registry(path, coords="wgs84")


def test_gbk_file_with_a_pasted_utf8_line_is_refused_naming_the_line(tmp_path):
    path = tmp_path / "mixed.csv"
    gbk = "企业名称,经度,纬度\n星空网咖,113.85,34.05\n".encode("gbk")
    path.write_bytes(gbk + "吉祥烟酒店,113.86,34.06\n".encode())
    with pytest.raises(InputDataError, match="line 3 is UTF-8 but line 1 is not"):
        hazards_from_registry(path, coords="wgs84")


# ---------------------------------------------------------------------------
# column layouts


def test_english_headers_and_one_coordinate_column(tmp_path):
    path = tmp_path / "en.csv"
    pd.DataFrame(
        {
            "Name": ["Happy Net Bar 网吧", "Corner Shop"],
            "Address": ["1 Main St", "2 Main St"],
            "Coordinates": ["113.85,34.05", "113.86，34.06"],  # a full-width comma too
            "Licence No.": ["", ""],
            "Status": ["active", "active"],
        }
    ).to_csv(path, index=False)
    reg = hazards_from_registry(path, coords="wgs84")
    h = reg.hazards
    assert h["category"].tolist() == ["internet_cafe", "other"]
    assert h.geometry.x.tolist() == [113.85, 113.86]
    assert h.geometry.y.tolist() == [34.05, 34.06]


def test_xlsx_header_below_a_title_on_the_first_matching_sheet(tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx", ROWS, title="青禾区网吧名录（2023年6月）", sheets_before=1
    )
    reg = hazards_from_registry(path, coords="wgs84")
    assert reg.hazards["source"].tolist() == ["registry:r.xlsx#4", "registry:r.xlsx#5"]


def test_csv_header_below_a_title_row_keeps_spreadsheet_row_numbers(tmp_path):
    rows = [ROWS[0], ["缺坐标网吧", "", "", "x", "互联网上网服务", None, None, "存续"]]
    path = write_csv(tmp_path / "t.csv", rows, title="网吧名录", encoding="gbk")
    reg = hazards_from_registry(path, coords="wgs84")
    assert reg.hazards["source"].tolist() == ["registry:t.csv#3"]
    assert reg.rejects[["row", "column", "reason"]].values.tolist() == [
        ["4", "经度/纬度", "missing coordinates"]
    ]


def test_coordinate_system_from_the_header_and_a_contradiction(tmp_path):
    glon, glat = wgs84_to_gcj02(113.85, 34.05)
    header = [h if h not in ("经度", "纬度") else f"{h}（GCJ-02）" for h in HEADER]
    rows = [[*ROWS[0][:5], round(float(glon), 7), round(float(glat), 7), "存续"]]
    path = write_csv(tmp_path / "g.csv", rows, header=header)
    reg = hazards_from_registry(path)  # no --coords: the header says GCJ-02
    point = reg.hazards.geometry.iloc[0]
    assert float(geodesic_distance(point.x, point.y, 113.85, 34.05)) < 0.02
    with pytest.raises(InputDataError, match=r"declared bd09 .* says gcj02"):
        hazards_from_registry(path, coords="bd09")


def test_undeclared_coordinates_in_china_are_refused_with_the_fix(tmp_path):
    """Issue 16.4 (was: taken as WGS 84 with a warning): never silently 500 m off."""
    path = write_csv(tmp_path / "u.csv", ROWS)
    with pytest.raises(InputDataError, match=r"u\.csv: the coordinate system .* not declared") as e:
        hazards_from_registry(path)
    assert "coords='gcj02' (Amap, Tencent)" in str(e.value)
    assert "--coords gcj02 (Amap, Tencent)" in e.value.cli_message
    reg = hazards_from_registry(path, coords="wgs84")  # declared explicitly: taken as given
    assert reg.hazards.geometry.x.tolist() == [113.85, 113.86]


def test_undeclared_coordinates_outside_china_need_no_declaration(tmp_path):
    rows = [[*r[:-3], r[-3] - 100, r[-2], r[-1]] for r in ROWS]  # 13.85 E: no GCJ-02 offset
    reg = hazards_from_registry(write_csv(tmp_path / "eu.csv", rows))
    assert reg.hazards.geometry.x.round(6).tolist() == [13.85, 13.86]


def test_lonlat_swapped_back_warns_naming_the_file_row_and_columns(tmp_path, caplog):
    rows = [[*NETCAFE, 34.05, 113.85, "存续"]]
    path = write_csv(tmp_path / "swap.csv", rows)
    with pytest.warns(CoordinateWarning) as record:
        reg = hazards_from_registry(path, coords="wgs84")
    point = reg.hazards.geometry.iloc[0]
    assert (point.x, point.y) == (113.85, 34.05)
    assert [str(w.message) for w in record] == [
        "swap.csv row 2 (经度/纬度): longitude and latitude swapped (34.05, 113.85); swapped back"
    ]
    assert record[0].filename == __file__
    logged = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert logged == [str(record[0].message)]


def test_no_coordinate_columns_is_an_error_that_says_what_to_do(tmp_path):
    path = write_csv(
        tmp_path / "n.csv", [["星空网咖", "文昌路1号"]], header=["企业名称", "经营场所"]
    )
    with pytest.raises(InputDataError, match=r"no coordinate columns .* geocode the addresses"):
        hazards_from_registry(path)


# ---------------------------------------------------------------------------
# dirty rows: each kind with its exact reason


def test_each_dirty_row_kind_has_its_exact_reason(tmp_path):
    base = ["文昌路", "互联网上网服务", "存续"]
    rows = [
        ["好网吧", "", "", base[0] + "1号", base[1], 113.85, 34.05, base[2]],
        ["无坐标网吧", "", "", base[0] + "2号", base[1], None, None, base[2]],
        ["缺纬度网吧", "", "", base[0] + "3号", base[1], 113.85, None, base[2]],
        ["字母网吧", "", "", base[0] + "4号", base[1], "abc", 34.05, base[2]],
        ["零点网吧", "", "", base[0] + "5号", base[1], 0, 0, base[2]],
        ["越界网吧", "", "", base[0] + "6号", base[1], 200.5, 34.05, base[2]],
        ["颠倒网吧", "", "", base[0] + "7号", base[1], 34.05, 113.85, base[2]],
        ["合并网吧", "", "", base[0] + "8号", base[1], "113.86,34.06", None, base[2]],
        ["注销网吧", "", "", base[0] + "9号", base[1], 113.87, 34.07, "注销"],
        ["吊销网吧", "", "", base[0] + "10号", base[1], 113.87, 34.08, "吊销，未注销"],
        ["文具店", "", "", base[0] + "11号", "文具用品零售", 113.87, 34.09, base[2]],
    ]
    path = write_csv(tmp_path / "dirty.csv", rows)
    with pytest.warns(CoordinateWarning) as fixes:
        reg = hazards_from_registry(path, coords="wgs84")
    assert [str(w.message) for w in fixes] == [
        "dirty.csv row 8 (经度/纬度): longitude and latitude swapped (34.05, 113.85); swapped back",
        "dirty.csv row 9 (经度): longitude and latitude were both in the 经度 cell (113.86,34.06); "
        "split",
    ]
    got = {r.row: (r.column, r.reason) for r in reg.rejects.itertuples()}
    assert got == {
        "3": ("经度/纬度", "missing coordinates"),
        "4": ("纬度", "missing latitude"),
        "5": ("经度", "longitude is not a number: 'abc'"),
        "6": ("经度/纬度", "coordinates are 0, 0 (a failed geocode)"),
        "7": ("经度", "coordinates out of range (lon 200.5, lat 34.05)"),  # the cell at fault
        "10": ("登记状态", "not active: 登记状态 注销"),
        "11": ("登记状态", "not active: 登记状态 吊销，未注销"),
        "12": (
            "经营范围",
            "unclassified: no 类别, licence, business scope or name keyword matched; "
            "kept as category other",
        ),
    }
    rec = json.loads(reg.rejects.set_index("row").loc["5", "record"])
    assert rec["经度"] == "abc"
    h = reg.hazards.set_index("name")
    assert (h.loc["颠倒网吧"].geometry.x, h.loc["颠倒网吧"].geometry.y) == (113.85, 34.05)
    assert (
        h.loc["颠倒网吧", "notes"] == "longitude and latitude swapped (34.05, 113.85); swapped back"
    )
    assert (h.loc["合并网吧"].geometry.x, h.loc["合并网吧"].geometry.y) == (113.86, 34.06)
    assert h.loc["文具店", "category"] == "other"
    assert reg.fixed[["row", "column"]].values.tolist() == [["8", "经度/纬度"], ["9", "经度"]]
    assert reg.counts == {
        "read": 11,
        "used": 4,
        "merged": 0,
        "rejected": 7,
        "unclassified": 1,
        "fixed": 2,
    }


def test_duplicates_are_merged_and_reported(tmp_path):
    rows = [
        [*NETCAFE, None, None, "存续"],
        [*NETCAFE, 113.85, 34.05, "存续"],
        ["星空 网咖", "92419950MA4G252M67", "", "文昌路 1 号", "互联网上网服务", 113.85, 34.05, "存续"],
        ["金马彩票", "91419950MAK5H97E4T", "体彩代销证第419900006号", "人民路9号", "体育彩票代销", 113.9, 34.1, "注销"],
        ["金马彩票", "91419950MAK5H97E4T", "", "人民路九号", "体育彩票代销", 113.9, 34.1, "存续"],
    ]  # fmt: skip
    path = write_csv(tmp_path / "dup.csv", rows)
    reg = hazards_from_registry(path, coords="wgs84")
    assert reg.hazards.index.tolist() == [
        "registry:91419950MAW01L657K",
        "registry:91419950MAK5H97E4T",
    ]
    netcafe, lottery = "registry:91419950MAW01L657K", "registry:91419950MAK5H97E4T"
    assert reg.merged[["row", "merged_into", "reason"]].values.tolist() == [
        ["2", netcafe, "duplicate of dup.csv row 3 (same licence number 豫网文〔2019〕0898-025号)"],
        ["4", netcafe, "duplicate of dup.csv row 3 (same name and address)"],
        ["5", lottery, "duplicate of dup.csv row 6 (same credit code 91419950MAK5H97E4T and name)"],
    ]
    # the copies disagree on 登记状态: the active copy is screened, with a note
    assert reg.hazards.loc["registry:91419950MAK5H97E4T", "notes"] == (
        "登记状态 differs between copies (注销 in dup.csv row 5; 存续 in dup.csv row 6): "
        "screened, verify on site"
    )
    assert reg.counts["read"] == reg.counts["used"] + reg.counts["merged"] + reg.counts["rejected"]


def test_ids_are_stable_across_monthly_exports(tmp_path):
    rows = [
        [
            "星空网咖",
            "91419950MAW01L657K",
            "",
            "文昌路1号",
            "互联网上网服务",
            113.85,
            34.05,
            "存续",
        ],
        [
            "金马彩票",
            "",
            "体彩代销证第419900006号",
            "人民路9号",
            "体育彩票代销",
            113.9,
            34.1,
            "存续",
        ],
        ["路边摊", "", "", "南街", "食品小摊点经营", 113.8, 34.0, "存续"],
        ["坏码网吧", "91419950MAW01L657A", "", "北街", "互联网上网服务", 113.7, 34.0, "存续"],
    ]
    june = hazards_from_registry(write_csv(tmp_path / "2023-06.csv", rows), coords="wgs84")
    july = hazards_from_registry(write_csv(tmp_path / "2023-07.csv", rows[::-1]), coords="wgs84")
    assert sorted(june.hazards.index) == sorted(july.hazards.index)
    ids = june.hazards.index.tolist()
    assert ids[:2] == ["registry:91419950MAW01L657K", "registry:体彩代销证第419900006号"]
    assert ids[2].startswith("registry:")
    assert len(ids[2]) == len("registry:") + 12  # the hash of name and address
    assert ids[3] != "registry:91419950MAW01L657A"  # a code failing its check is not an id


def test_credit_code_check_character():
    assert credit_code_valid("91419950MAW01L657K")
    assert credit_code_valid("91350100M000100Y43")  # GB 32100-2015's own example
    assert not credit_code_valid("91419950MAW01L657A")
    assert not credit_code_valid("91419950MAW01L657")


# ---------------------------------------------------------------------------
# classification


@pytest.mark.parametrize(
    ("row", "category", "subcategory"),
    [
        ({"licence": "豫网文〔2019〕0898-025号"}, "internet_cafe", "licence:网络文化经营许可证"),
        ({"licence": "豫(许)娱经字〔2019〕第0101号", "scope": "歌舞娱乐活动"}, "entertainment",
         "licence:娱乐经营许可证"),
        ({"licence": "豫(许)娱经字〔2017〕第0136号", "scope": "游艺娱乐活动"}, "arcade",
         "licence:娱乐经营许可证(游艺)"),
        ({"licence_type": "烟草专卖零售许可证", "licence": "419950100486"}, "tobacco_alcohol",
         "licence:烟草专卖零售许可证"),
        ({"licence": "油零售证书第4199052号"}, "dangerous_site", "licence:成品油零售经营批准证书"),
        ({"licence": "(豫)YH经〔2020〕0012号"}, "dangerous_site", "licence:烟花爆竹经营许可证"),
        ({"licence": "教民1419950000566号"}, "care_centre", "licence:民办学校办学许可证"),
        ({"category": "网吧"}, "internet_cafe", "类别:网吧"),
        ({"category": "彩票销售点"}, "lottery", "类别:彩票销售点"),
        ({"category": "lottery"}, "lottery", "类别:lottery"),
        ({"scope": "互联网上网服务；饮料零售"}, "internet_cafe", "scope:互联网上网服务"),
        ({"scope": "棋牌室服务；茶饮服务"}, "arcade", "scope:棋牌室"),
        ({"scope": "食品小摊点经营"}, "vendor", "scope:食品小摊点"),
        ({"scope": "预包装食品销售；散装食品销售（含调味面制品）"}, "vendor", "scope:调味面制品"),
        ({"scope": "校外托管服务"}, "care_centre", "scope:校外托管"),
        ({"scope": "日用百货销售；烟草制品零售"}, "tobacco_alcohol", "scope:烟草制品零售"),
        # a negation in brackets allows nothing; a restaurant stays unclassified
        ({"scope": "餐饮服务（不含演艺娱乐活动、不含歌舞娱乐）"}, "other", ""),
        ({"name": "阳光棋牌室"}, "arcade", "name:棋牌"),
        ({"name": "海川啤酒屋", "scope": "酒类经营；餐饮服务"}, "entertainment", "name:啤酒屋"),
        ({"name": "佳佳商行", "scope": "酒类经营；预包装食品销售"}, "tobacco_alcohol", "scope:酒类经营"),
        ({"name": "新华书店", "scope": "图书零售"}, "other", ""),
    ],
)  # fmt: skip
def test_classification_rule_and_its_record(row, category, subcategory):
    frame = pd.DataFrame(
        [{"name": "", "scope": "", "licence": "", "licence_type": "", "category": "", **row}]
    )
    cat, sub = classify_registry(frame)
    assert (cat.iloc[0], sub.iloc[0]) == (category, subcategory)


# ---------------------------------------------------------------------------
# the demo district


@pytest.fixture(scope="module")
def generator_venues():
    """The venues as the demo generator placed them (WGS 84), by name."""
    venues = demo_district._registry_venues(demo_district._build(demo.DEMO_SEED))
    names = [v.name for v in venues]
    assert len(names) == len(set(names))
    return {v.name: v for v in venues}


@pytest.fixture(scope="module")
def demo_registry():
    # the demo registries' swapped and combined coordinates (data/demo/README.md)
    with pytest.warns(CoordinateWarning) as fixes:
        reg = hazards_from_registry(
            [demo.DEMO_DIR / "registry.xlsx", demo.DEMO_DIR / "registry_gbk.csv"], coords="gcj02"
        )
    assert len(fixes) == reg.counts["fixed"] == 5
    return reg


@pytest.fixture(scope="module")
def district():
    return layers_from_osm(demo.DEMO_DIR / "district.osm")


def test_demo_registry_counts_and_dirty_rows(demo_registry):
    reg = demo_registry
    assert reg.counts == {
        "read": 238,
        "used": 171,
        "merged": 57,
        "rejected": 10,
        "unclassified": 28,
        "fixed": 5,
    }
    rejected = reg.rejects[~reg.rejects["reason"].str.startswith("unclassified")]
    names = {(json.loads(r.record).get("企业名称"), r.reason) for r in rejected.itertuples()}
    # data/demo/README.md: missing coordinates in registry.xlsx (the CSV copies of its own
    # missing rows have coordinates in the other file and are merged instead)
    assert ("永盛液化气站", "missing coordinates") in names
    assert ("中国体育彩票蓝鲸店", "missing coordinates") in names
    for closed in ("盛世酒行", "万家网吧", "青春游艺厅", "小李游艺厅", "中国福利彩票红星投注站"):
        assert any(n == closed and r.startswith("not active") for n, r in names)
    notes = reg.hazards.set_index("name")["notes"]
    for swapped in ("小李超市", "悦享网络会所", "大众文具店"):
        assert "longitude and latitude swapped" in notes[swapped]
    for combined in ("老街烟酒店", "鼎盛量贩KTV"):
        assert "were both in the 经度 cell" in notes[combined]
    assert "登记状态 differs between copies" in notes["老街烟酒店"]


#: README, "GCJ-02/BD-09 accuracy": "The demo's registries (GCJ-02, 6 decimals) land within
#: 0.07 m of where the generator put the venues" (benchmarks/coords_roundtrip.py prints it)
README_DEMO_REGISTRY_M = 0.07


def test_demo_registry_categories_and_true_positions(demo_registry, generator_venues):
    h = demo_registry.hazards
    off = []
    for name, category, point in zip(h["name"], h["category"], h.geometry, strict=True):
        venue = generator_venues[name]
        assert category == (venue.category or "other"), name
        # GCJ-02 with 6 decimals, converted back: where the generator put it
        off.append(float(geodesic_distance(point.x, point.y, venue.lon, venue.lat)))
    assert max(off) <= README_DEMO_REGISTRY_M


def test_demo_registry_merges_into_osm_without_double_findings(
    demo_registry, district, generator_venues
):
    hazards, reg = merge_with_osm(district.hazards, demo_registry)
    into_osm = reg.merged[reg.merged["merged_into"].str.match(r"^(node|way)/")]
    assert len(into_osm) == 118
    # every registry venue the generator also mapped in OSM is merged; the rest stay
    for name in reg.hazards["name"]:
        venue = generator_venues[name]
        assert not (venue.in_osm and venue.category), f"{name} is in OSM but was not merged"
    assert reg.counts["read"] == reg.counts["used"] + reg.counts["merged"] + reg.counts["rejected"]
    fuel = hazards.loc["way/2000485"]  # the planted fuel station keeps its OSM outline
    assert fuel.geometry.geom_type == "Polygon"
    assert fuel["licence"].startswith("油零售证书")
    assert "registry:registry" in fuel["source"]
    closed = hazards.set_index("name").loc["万家网吧", "notes"]
    assert closed == "registry says 吊销 (registry:registry.xlsx#36): verify on site"
    findings = screen(district.schools, hazards, entrances=district.entrances)
    venues = findings[~findings["category"].isin(["water", "traffic", "camera"])]
    assert not venues.duplicated(["school_id", "hazard_name", "category"]).any()
    assert findings["hazard_id"].str.startswith("registry:").sum() > 0
    planted = findings[
        (findings["hazard_id"] == "node/1004240") & (findings["school_id"] == "way/2000362")
    ]
    assert planted["distance_m"].iloc[0] == pytest.approx(199.4, abs=0.01)


# ---------------------------------------------------------------------------
# the command


def test_cli_screen_with_registry_and_per_input_coords(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "-q", "screen", "--osm", str(demo.DEMO_DIR / "district.osm"),
            "--registry", str(demo.DEMO_DIR / "registry_gbk.csv"), "--coords", "gcj02",
            "--no-evidence", "--out", str(out),
        ],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        "Registry registry_gbk.csv: 88 rows read, 17 used (9 unclassified, kept as other), "
        "64 merged, 7 rejected; 3 used after a fix." in result.output
    )
    assert "merged: 3 registry duplicates, 61 into the OSM venues they duplicate" in result.output
    rejects = pd.read_csv(out / "rejects.csv", encoding="utf-8-sig", dtype=str)
    mine = rejects[rejects["file"].str.endswith("registry_gbk.csv")]
    assert len(mine) == 7 + 9  # rejected + unclassified
    merged = pd.read_csv(out / "merged.csv", encoding="utf-8-sig", dtype=str)
    assert list(merged.columns) == ["file", "row", "merged_into", "reason"]
    assert len(merged) == 64


def test_cli_registry_coords_mistakes_exit_2(tmp_path):
    csv = write_csv(tmp_path / "r.csv", ROWS)
    for args, message in [
        (["--registry", str(csv), "--coords", "cgcs2000"], "unknown coordinate system 'cgcs2000'"),
        (["--registry", str(csv), "--coords", "gcj02", "--coords", "bd09"], "--coords given twice"),
        (
            ["--osm", str(demo.DEMO_DIR / "district.osm"), "--coords", "gcj02"],
            "WGS 84 by definition",
        ),
    ]:
        result = CliRunner().invoke(cli, ["screen", *args, "--out", str(tmp_path / "o")])
        assert result.exit_code == 2, result.output
        assert message in result.output


def test_cli_project_file_declares_each_inputs_system(tmp_path):
    project = tmp_path / "project.toml"
    data = demo.DEMO_DIR
    project.write_text(
        f"""
[[osm]]
path = "{data / "district.osm"}"

[[registry]]
path = "{data / "registry.xlsx"}"
coords = "gcj02"

[[registry]]
path = "{data / "registry_gbk.csv"}"
coords = "GCJ-02"

[roster]
path = "{data / "schools_roster.xlsx"}"
coords = "gcj02"
""",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        ["-q", "screen", "--project", str(project), "--no-evidence", "--out", str(out)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "Screened 77 schools against 336 venues: " in result.output
    assert "Registry registry.xlsx, registry_gbk.csv: 238 rows read, 53 used" in result.output


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[[registry]]\npath = "r.csv"\n',
            "[registry] r.csv has no coords; declare wgs84, gcj02 or bd09",
        ),
        ('[[registry]]\npath = "r.csv"\ncoords = "mars2"\n', "unknown coordinate system 'mars2'"),
        (
            '[[osm]]\npath = "a.osm"\ncoords = "gcj02"\n',
            "OpenStreetMap data is WGS 84 by definition",
        ),
        ('[[shops]]\npath = "s.csv"\n', "unknown section(s) shops"),
    ],
)
def test_cli_project_file_mistakes_exit_2(tmp_path, toml, message):
    project = tmp_path / "p.toml"
    project.write_text(toml, encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["screen", "--project", str(project), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_the_demo_path_puts_registry_venues_at_their_true_positions(
    tmp_path, district, generator_venues
):
    """What `campus-geo demo` screens: OSM + both registries (GCJ-02) + the roster."""
    from campus_geo.cli.sources import add_registry_and_roster

    with pytest.warns(CoordinateWarning, match=r"^registry(\.xlsx|_gbk\.csv) row \d+ \(经度"):
        layers, lines = add_registry_and_roster(
            district,
            registry_files=[demo.DEMO_DIR / "registry.xlsx", demo.DEMO_DIR / "registry_gbk.csv"],
            registry_systems=["gcj02", "gcj02"],
            roster_file=demo.DEMO_DIR / "schools_roster.xlsx",
            roster_system="gcj02",
            out=tmp_path,
        )
    hazards = layers.hazards
    from_registry = hazards[hazards["source"].str.contains("registry:", regex=False)]
    assert len(from_registry) == 53 + 118  # registry-only venues + OSM venues with a licence
    points = from_registry[from_registry.geometry.geom_type == "Point"]
    assert from_registry.drop(index=points.index).index.tolist() == ["way/2000485"]  # an outline
    for name, point in zip(points["name"], points.geometry, strict=True):
        venue = generator_venues[name]
        assert float(geodesic_distance(point.x, point.y, venue.lon, venue.lat)) < 0.5, name
    assert len(layers.schools) == 77
    assert lines[0].startswith("Roster: 77 rows read, 76 matched")
    merged = pd.read_csv(tmp_path / "merged.csv", encoding="utf-8-sig", dtype=str)
    assert len(merged) == 175
