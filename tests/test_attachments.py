"""Attachments: content-addressed files beside the ledger, one row and one history row each."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import sqlite3

import pandas as pd
import pytest
from PIL import Image

from campus_geo import ledger
from campus_geo._errors import LedgerError
from campus_geo.ledger.attachments import (
    add_attachment,
    attachment_path,
    attachments_dir,
    read_attachments,
)
from campus_geo.screen import finding_ids


def _findings() -> pd.DataFrame:
    frame = pd.DataFrame(
        [
            {
                "school_id": "s1",
                "school_name": "赤道小学",
                "township": "甲镇",
                "village": "乙村",
                "hazard_id": "h1",
                "hazard_name": "网吧甲",
                "category": "internet_cafe",
                "rule_id": "internet_cafe_200m",
                "severity": "prohibited",
                "profile": "boundary",
                "threshold_m": 200.0,
                "distance_m": 150.0,
                "basis": "",
                "lead_units": "区委政法委",
                "responsible_units": "区公安局",
                "suggestion": "",
                "notes": "",
            }
        ]
    )
    frame.index = pd.Index(
        finding_ids(frame["school_id"], frame["hazard_id"], frame["rule_id"]), name="finding_id"
    )
    return frame


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buf, format="JPEG")
    return buf.getvalue()


@pytest.fixture
def one(tmp_path):
    path = tmp_path / "ledger.sqlite"
    ledger.sync_findings(path, _findings(), who="专项办", now=dt.datetime(2023, 6, 5, 9))
    return path


def test_a_photo_is_stored_by_its_sha256_with_a_history_row(one):
    case_id = str(_findings().index[0])
    data = _jpeg()
    sha = hashlib.sha256(data).hexdigest()
    row = add_attachment(
        one, case_id, data, filename="../../etc/现场.jpg", kind="after", who="交警 孙立平"
    )
    assert (row["sha256"], row["media_type"], row["size"]) == (sha, "image/jpeg", len(data))
    assert row["filename"] == "现场.jpg"
    stored = attachments_dir(one) / sha[:2] / f"{sha}.jpg"
    assert stored == attachment_path(one, sha, "image/jpeg")
    assert stored.read_bytes() == data
    history = ledger.read_history(one, case_id)
    last = history.iloc[-1]
    assert (last["field"], last["new"], last["who"]) == ("attachment", sha, "交警 孙立平")
    assert last["why"] == "整改后照片 现场.jpg"
    assert [a["sha256"] for a in read_attachments(one, case_id)] == [sha]
    with sqlite3.connect(one) as conn, pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE attachments SET who = 'x'")


def test_content_not_name_decides_and_nothing_is_stored_when_refused(one):
    case_id = str(_findings().index[0])
    with pytest.raises(LedgerError, match=r"not a JPEG, PNG or WebP photo or a PDF"):
        add_attachment(one, case_id, b"<script>alert(1)</script>", filename="photo.jpg")
    with pytest.raises(LedgerError, match=r"at most 10 MB"):
        add_attachment(one, case_id, b"%PDF-" + b"0" * (10 * 1024 * 1024), filename="a.pdf")
    with pytest.raises(LedgerError, match=r"not an attachment"):
        attachment_path(one, "../" * 20 + "passwd", "image/jpeg")
    assert read_attachments(one) == []
    assert not attachments_dir(one).exists()


def test_the_exported_ledger_lists_attachments_with_links_to_their_files(one, tmp_path):
    import openpyxl

    case_id = str(_findings().index[0])
    data = _jpeg()
    sha = hashlib.sha256(data).hexdigest()
    add_attachment(one, case_id, data, filename="整改后.jpg", kind="after", who="交警 孙立平")
    path = ledger.export_ledger(one, tmp_path / "台帐.xlsx", today=dt.date(2023, 6, 9))
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["整改台帐", "变更记录", "附件", "_campus_geo"]
    ws = wb["附件"]
    assert [c.value for c in ws[2]] == [
        case_id,
        "赤道小学",
        "网吧甲",
        "整改后照片",
        "整改后.jpg",
        sha,
        "交警 孙立平",
        ws.cell(2, 8).value,
        "打开",
    ]
    assert ws.cell(2, 9).hyperlink.target == f"ledger_files/{sha[:2]}/{sha}.jpg"
    history = [[c.value for c in row] for row in wb["变更记录"].iter_rows(min_row=2)]
    assert history[-1][4:8] == ["附件（SHA-256）", None, sha, "交警 孙立平"]
    # the file still imports back (the attachments sheet is not read)
    result = ledger.import_ledger(one, path, who="专项办")
    assert result.conflicts == ()
