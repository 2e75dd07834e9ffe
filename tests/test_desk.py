"""The review desk over HTTP (Starlette's TestClient): login, scope, CSRF, edits, photos, conflicts."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import sqlite3
import threading
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from PIL import Image
from starlette.testclient import TestClient

from campus_geo import ledger
from campus_geo.cli import cli
from campus_geo.desk.app import SESSION_COOKIE, create_app
from campus_geo.desk.users import add_user, read_logins, users_path
from campus_geo.ledger.attachments import attachments_dir, read_attachments
from campus_geo.screen import finding_ids

HOSTILE = "<img src=x onerror=alert(1)>"
TODAY = dt.date(2023, 8, 1)


def _findings(n_police: int = 2) -> pd.DataFrame:
    base = {
        "school_id": "s1",
        "school_name": "赤道小学",
        "township": "甲镇",
        "village": "乙村",
        "category": "internet_cafe",
        "rule_id": "internet_cafe_200m",
        "severity": "prohibited",
        "profile": "boundary",
        "threshold_m": 200.0,
        "distance_m": 150.0,
        "basis": "",
        "lead_units": "区委政法委",
        "suggestion": "",
        "notes": "",
    }
    rows = [
        {**base, "hazard_id": f"p{i}", "hazard_name": f"网吧{i}", "responsible_units": "区公安局"}
        for i in range(n_police)
    ]
    rows.append(
        {
            **base,
            "hazard_id": "m1",
            "hazard_name": HOSTILE,
            "responsible_units": "区市场监督管理局",
            "township": "丙镇",
            "school_id": "s2",
            "school_name": "丙镇小学",
        }
    )
    frame = pd.DataFrame(rows)
    frame.index = pd.Index(
        finding_ids(frame["school_id"], frame["hazard_id"], frame["rule_id"]), name="finding_id"
    )
    return frame


@pytest.fixture
def desk(tmp_path):
    path = tmp_path / "ledger.sqlite"
    findings = _findings()
    ledger.sync_findings(path, findings, who="专项办", now=dt.datetime(2023, 6, 5, 9))
    add_user(path, "police", "police-pass-1", role="unit", unit="区公安局")
    add_user(path, "market", "market-pass-1", role="unit", unit="区市场监督管理局")
    add_user(path, "office", "office-pass-1", role="office")
    add_user(path, "town", "town-pass-1", role="township", township="甲镇")
    add_user(path, "viewer", "viewer-pass-1", role="viewer")
    ids = list(findings.index)
    return path, ids


def client(path: Path) -> TestClient:
    return TestClient(create_app(path, today=TODAY))


def login(c: TestClient, name: str, password: str) -> int:
    page = c.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = c.post(
        "/login",
        data={"csrf": token, "username": name, "password": password},
        follow_redirects=False,
    )
    return r.status_code


def form_of(c: TestClient, fid: str) -> dict[str, str]:
    page = c.get(f"/cases/{fid}")
    assert page.status_code == 200
    return {
        "csrf": re.search(r'name="csrf" value="([^"]+)"', page.text).group(1),
        "version": re.search(r'name="version" value="(\d+)"', page.text).group(1),
    }


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 20)).save(buf, format="JPEG")
    return buf.getvalue()


def test_login_sets_a_strict_session_cookie_and_every_attempt_is_audited(desk):
    path, _ = desk
    c = client(path)
    assert c.get("/", follow_redirects=False).headers["location"] == "/login"
    assert login(c, "police", "wrong-password") == 401
    assert login(c, "police", "police-pass-1") == 303
    cookie = next(h for h in c.cookies.jar if h.name == SESSION_COOKIE)
    assert cookie.has_nonstandard_attr("HttpOnly")
    events = [(e["username"], e["event"]) for e in read_logins(path)]
    assert events[-2:] == [("police", "failed"), ("police", "login")]
    assert c.get("/").status_code == 200


def test_failed_logins_are_rate_limited(desk):
    path, _ = desk
    c = client(path)
    for _ in range(5):
        assert login(c, "office", "bad-password") == 401
    assert login(c, "office", "office-pass-1") == 429  # even the right password, for 15 min
    assert read_logins(path)[-1]["event"] == "locked"


def test_a_unit_sees_its_own_cases_and_gets_403_for_another_units(desk):
    path, ids = desk
    c = client(path)
    login(c, "police", "police-pass-1")
    table = c.get("/cases?overdue=1")
    assert "共 2 条" in table.text
    assert set(re.findall(r'href="/cases/([0-9a-f]{16})"', table.text)) == set(ids[:2])
    other = ids[2]
    assert c.get(f"/cases/{other}").status_code == 403
    token = form_of(c, ids[0])
    before = ledger.read_cases(path).loc[other].to_dict()
    r = c.post(f"/cases/{other}", data={**token, "status": "confirmed"})
    assert r.status_code == 403
    assert ledger.read_cases(path).loc[other].to_dict() == before
    assert c.get("/api/cases.geojson?township=丙镇").status_code == 200


def test_a_post_without_the_csrf_token_is_refused(desk):
    path, ids = desk
    c = client(path)
    login(c, "police", "police-pass-1")
    token = form_of(c, ids[0])
    r = c.post(f"/cases/{ids[0]}", data={"version": token["version"], "status": "confirmed"})
    assert r.status_code == 403
    r = c.post(f"/cases/{ids[0]}", data={**token, "csrf": "forged", "status": "confirmed"})
    assert r.status_code == 403
    assert ledger.read_cases(path).loc[ids[0], "status"] == "pending"


def test_a_unit_records_a_rectification_with_a_photo(desk):
    path, ids = desk
    c = client(path)
    login(c, "police", "police-pass-1")
    fid = ids[0]
    r = c.post(
        f"/cases/{fid}", data={**form_of(c, fid), "status": "confirmed"}, follow_redirects=False
    )
    assert r.status_code == 303
    photo = jpeg()
    r = c.post(
        f"/cases/{fid}",
        data={
            **form_of(c, fid),
            "status": "rectified",
            "rectification": "已责令停业并摘除招牌",
            "rectified_on": "2023-07-20",
            "kind": "after",
        },
        files={"photo": ("现场.jpg", photo, "image/jpeg")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    case = ledger.read_cases(path).loc[fid]
    assert (case["status"], case["rectification"], case["rectified_on"]) == (
        "rectified",
        "已责令停业并摘除招牌",
        "2023-07-20",
    )
    history = ledger.read_history(path, fid)
    desk_rows = history[history["source"] == "desk"]
    sha = hashlib.sha256(photo).hexdigest()
    assert desk_rows[["field", "who"]].values.tolist() == [
        ["status", "police"],
        ["status", "police"],
        ["rectification", "police"],
        ["rectified_on", "police"],
        ["attachment", "police"],
    ]
    assert desk_rows.iloc[-1]["new"] == sha
    (row,) = read_attachments(path, fid)
    assert (attachments_dir(path) / sha[:2] / f"{sha}.jpg").read_bytes() == photo
    page = c.get(f"/cases/{fid}")
    assert f"/cases/{fid}/files/{row['attachment_id']}/thumb" in page.text
    thumb = c.get(f"/cases/{fid}/files/{row['attachment_id']}/thumb")
    assert (thumb.status_code, thumb.headers["content-type"]) == (200, "image/jpeg")
    assert c.get(f"/cases/{fid}/files/{row['attachment_id']}").content == photo
    # another unit cannot fetch the photo of a case that is not theirs
    m = client(path)
    login(m, "market", "market-pass-1")
    assert m.get(f"/cases/{fid}/files/{row['attachment_id']}").status_code == 403


def test_an_upload_over_the_size_limit_is_refused_before_it_is_stored(desk):
    path, ids = desk
    c = client(path)
    login(c, "police", "police-pass-1")
    big = b"%PDF-" + b"0" * (10 * 1024 * 1024 + 2048)
    r = c.post(
        f"/cases/{ids[0]}",
        data={**form_of(c, ids[0]), "notes": "带附件"},
        files={"photo": ("scan.pdf", big, "application/pdf")},
    )
    assert r.status_code in (400, 413)
    assert read_attachments(path) == []
    assert ledger.read_cases(path).loc[ids[0], "notes"] == ""


def test_an_upload_is_judged_by_its_content_and_nothing_is_stored_when_refused(desk):
    path, ids = desk
    c = client(path)
    login(c, "police", "police-pass-1")
    fake = b"\xff\xd8\xff<script>alert(1)</script>"
    r = c.post(
        f"/cases/{ids[0]}",
        data={**form_of(c, ids[0]), "status": "confirmed"},
        files={"photo": ("photo.jpg", fake, "image/jpeg")},
    )
    assert r.status_code == 400
    assert "not a readable photo" in r.text
    assert ledger.read_cases(path).loc[ids[0], "status"] == "pending"
    assert read_attachments(path) == []


def test_a_stale_edit_is_a_409_conflict_and_the_first_edit_stays(desk):
    path, ids = desk
    fid = ids[0]
    police, office = client(path), client(path)
    login(police, "police", "police-pass-1")
    login(office, "office", "office-pass-1")
    seen_by_police = form_of(police, fid)
    r = office.post(f"/cases/{fid}", data={**form_of(office, fid), "notes": "专项办先改"})
    assert r.status_code == 200  # followed the redirect to the case page
    r = police.post(f"/cases/{fid}", data={**seen_by_police, "notes": "交警后改"})
    assert r.status_code == 409
    assert "was changed by someone else" in r.text
    assert "last change: office" in r.text
    assert ledger.read_cases(path).loc[fid, "notes"] == "专项办先改"


def test_roles_are_enforced_on_the_server(desk):
    path, ids = desk
    fid = ids[0]
    unit = client(path)
    login(unit, "police", "police-pass-1")
    r = unit.post(f"/cases/{fid}", data={**form_of(unit, fid), "deadline": "2023-12-31"})
    assert r.status_code == 403  # the office sets deadlines
    r = unit.post(
        f"/cases/{fid}/action",
        data={**form_of(unit, fid), "action": "escalate", "supervisor": "区委政法委"},
    )
    assert r.status_code == 403
    town = client(path)
    login(town, "town", "town-pass-1")
    assert town.get(f"/cases/{ids[2]}").status_code == 403  # 丙镇 is not 甲镇
    r = town.post(
        f"/cases/{fid}",
        data={**form_of(town, fid), "status": "confirmed", "rectification": "x"},
    )
    assert r.status_code == 403
    viewer = client(path)
    login(viewer, "viewer", "viewer-pass-1")
    page = viewer.get(f"/cases/{fid}")
    assert 'id="change"' not in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = viewer.post(f"/cases/{fid}", data={"csrf": csrf, "version": "1", "notes": "x"})
    assert r.status_code == 403
    office = client(path)
    login(office, "office", "office-pass-1")
    r = office.post(
        f"/cases/{fid}/action",
        data={
            **form_of(office, fid),
            "action": "escalate",
            "supervisor": "区委政法委",
            # a deadline after the case was opened (dates in Beijing time, as the ledger's)
            "deadline": (dt.date.today() + dt.timedelta(days=30)).isoformat(),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert ledger.read_cases(path).loc[fid, "supervisor"] == "区委政法委"
    assert ledger.read_history(path, fid)["who"].iloc[-1] == "office"


def test_a_hostile_venue_name_is_text_and_headers_are_set(desk):
    path, ids = desk
    c = client(path)
    login(c, "office", "office-pass-1")
    for url in ("/cases", f"/cases/{ids[2]}"):
        r = c.get(url)
        assert HOSTILE not in r.text
        assert "&lt;img src=x onerror=alert(1)&gt;" in r.text
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store"


def test_dashboard_counts_open_and_overdue_by_unit_and_township(desk):
    path, _ = desk
    c = client(path)
    login(c, "office", "office-pass-1")
    page = c.get("/").text
    unit_table = page.split('id="by-unit"')[1].split("</table>")[0]
    rows = re.findall(
        r"<tr><td><a[^>]*>([^<]+)</a></td><td>(\d+)</td><td[^>]*><a[^>]*>(\d+)</a>", unit_table
    )
    assert rows == [("区公安局", "2", "2"), ("区市场监督管理局", "1", "1")]
    en = c.get("/lang?to=en&next=/cases", follow_redirects=True)
    assert "Cases" in en.text
    away = c.get("/lang?to=en&next=//evil.example", follow_redirects=False)
    assert away.headers["location"] == "/"


def test_serve_refuses_other_addresses_without_tls_or_with_demo_accounts(desk, tmp_path):
    path, _ = desk
    runner = CliRunner()
    r = runner.invoke(cli, ["serve", "--ledger", str(path), "--host", "0.0.0.0"])
    assert r.exit_code == 2
    assert "--tls-cert" in r.output
    r = runner.invoke(
        cli,
        ["serve", "users", "add", "bob", "--role", "unit", "--ledger", str(path)],
        input="short\nshort\n",
    )
    assert r.exit_code == 2
    assert "at least 8 characters" in r.output
    r = runner.invoke(
        cli,
        [
            "serve",
            "users",
            "add",
            "bob",
            "--role",
            "viewer",
            "--ledger",
            str(path),
            "--password-stdin",
        ],
        input="long-enough-1\n",
    )
    assert r.exit_code == 0, r.output
    assert login(client(path), "bob", "long-enough-1") == 303
    r = runner.invoke(cli, ["serve", "users", "disable", "bob", "--ledger", str(path)])
    assert r.exit_code == 0
    assert login(client(path), "bob", "long-enough-1") == 401
    add_user(path, "demo", "demo-pass-1", role="office", demo=True)
    r = runner.invoke(cli, ["serve", "--ledger", str(path), "--host", "0.0.0.0", "--plain-http"])
    assert r.exit_code == 2
    assert "demo accounts demo have published passwords" in r.output


# --- web edits racing a CLI import: every change applied or reported, none lost ----------


def test_web_edits_and_a_cli_import_at_once_lose_nothing(tmp_path):
    path = tmp_path / "ledger.sqlite"
    findings = _findings(n_police=24)
    ledger.sync_findings(path, findings, who="专项办", now=dt.datetime(2023, 6, 5, 9))
    add_user(path, "police", "police-pass-1", role="unit", unit="区公安局")
    ids = [
        f for f in findings.index if ledger.read_cases(path).loc[f, "enforcing_unit"] == "区公安局"
    ]
    exported = ledger.export_ledger(path, tmp_path / "ledger.xlsx", today=TODAY)
    wb = openpyxl.load_workbook(exported)
    ws = wb.worksheets[0]
    col = {cell.value: cell.column for cell in ws[3]}
    for row in range(4, ws.max_row + 1):
        if ws.cell(row, col["问题编号"]).value in ids:
            ws.cell(row, col["备注"]).value = "导入的备注"
    filled = tmp_path / "filled.xlsx"
    wb.save(filled)

    c = client(path)
    login(c, "police", "police-pass-1")
    seen = {fid: form_of(c, fid) for fid in ids}  # every form opened before the import
    outcomes: dict[str, int] = {}
    start = threading.Barrier(2)

    def web() -> None:
        start.wait()
        for fid in ids:
            r = c.post(
                f"/cases/{fid}",
                data={**seen[fid], "notes": f"网页备注 {fid}"},
                follow_redirects=False,
            )
            outcomes[fid] = r.status_code

    imported: list[object] = []

    def cli_import() -> None:
        start.wait()
        r = CliRunner().invoke(
            cli, ["ledger", "import", str(filled), "--ledger", str(path), "--who", "专项办"]
        )
        imported.append(r)

    threads = [threading.Thread(target=web), threading.Thread(target=cli_import)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    (result,) = imported
    assert result.exit_code in (0, 3), result.output
    assert set(outcomes.values()) <= {303, 409}
    history = ledger.read_history(path)
    cases = ledger.read_cases(path)
    for fid in ids:
        notes = history[(history["finding_id"] == fid) & (history["field"] == "notes")]
        web_rows = notes[notes["source"] == "desk"]
        import_rows = notes[notes["source"].str.startswith("import")]
        # the web edit is applied (and in the history) exactly when it was answered 303
        assert len(web_rows) == (outcomes[fid] == 303)
        # one winner per case: the import's row is applied or reported as a conflict
        applied = len(web_rows) + len(import_rows)
        assert applied == 1
        assert cases.loc[fid, "notes"] == notes.iloc[-1]["new"]
    web_won = sum(1 for s in outcomes.values() if s == 303)
    import_won = int(
        (history["source"].str.startswith("import") & (history["field"] == "notes")).sum()
    )
    assert web_won + import_won == len(ids)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_the_sql_scope_of_a_unit_is_the_ledgers_unit_rule():
    from campus_geo.desk.access import unit_sql
    from campus_geo.ledger.units import UNIT_FIELDS, unit_mask

    cells = [
        ("区公安局", "", "", "", "", ""),
        ("区公安局交警大队", "", "", "", "", ""),
        ("乙镇", "区城市管理局", "区公安局 , 区水利局", "", "", ""),
        ("乙镇", "", "", "各乡（镇、街道）", "区公安局；甲镇", ""),
        ("乙镇", "", "", "", "", "区委政法委"),
    ]
    frame = pd.DataFrame(cells, columns=list(UNIT_FIELDS))
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE TABLE cases (id INTEGER, {', '.join(UNIT_FIELDS)})")
    conn.executemany(
        "INSERT INTO cases VALUES (?, ?, ?, ?, ?, ?, ?)", [(i, *c) for i, c in enumerate(cells)]
    )
    for unit in ("区公安局", "区公安局交警大队", "各乡（镇、街道）", "甲镇", "区委政法委", "镇"):
        where, params = unit_sql(unit)
        found = [
            r[0] for r in conn.execute(f"SELECT id FROM cases WHERE {where} ORDER BY id", params)
        ]
        assert found == list(frame.index[unit_mask(frame, unit)]), unit
    conn.close()


def test_sessions_expire_and_end_when_the_account_is_disabled(desk):
    from campus_geo.desk.users import (
        SESSION_LIFETIME,
        authenticate,
        disable_user,
        session_user,
        start_session,
    )

    path, _ = desk
    at = dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC)
    user = authenticate(path, "police", "police-pass-1", address="127.0.0.1", now=at)
    assert user is not None
    token, csrf = start_session(path, user, now=at)
    assert session_user(path, token, now=at + SESSION_LIFETIME / 2) == (user, csrf)
    assert session_user(path, token, now=at + SESSION_LIFETIME) is None
    with sqlite3.connect(users_path(path)) as conn:
        (stored,) = conn.execute("SELECT token_sha256 FROM sessions").fetchone()
        assert stored == hashlib.sha256(token.encode()).hexdigest() != token
        (hashed,) = conn.execute(
            "SELECT password_hash FROM users WHERE username = 'police'"
        ).fetchone()
        assert hashed.startswith("$argon2id$")
    conn.close()
    token, _ = start_session(path, user)
    disable_user(path, "police")
    assert session_user(path, token) is None


def test_demo_accounts_are_written_out_and_marked_as_demo(desk, tmp_path):
    from campus_geo.demo.accounts import DEMO_ACCOUNTS, save_demo_accounts
    from campus_geo.desk.users import list_users

    path, ids = desk
    listing = save_demo_accounts(path, tmp_path / "desk_accounts.txt")
    text = listing.read_text(encoding="utf-8")
    assert "police\tdemo-police-2023\tunit\t区公安局" in text
    assert [(u.username, u.demo) for u in list_users(path)] == [
        (name, True) for name in sorted(DEMO_ACCOUNTS)
    ]
    c = client(path)
    assert login(c, "police", "demo-police-2023") == 303
    assert c.get(f"/cases/{ids[0]}").status_code == 200
    r = CliRunner().invoke(
        cli, ["serve", "--ledger", str(path), "--host", "192.168.1.5", "--plain-http"]
    )
    assert r.exit_code == 2
    assert "127.0.0.1 only" in r.output


def test_a_township_verifies_and_the_office_assigns_a_unit(desk, tmp_path):
    path, ids = desk
    fid = ids[1]
    town = client(path)
    login(town, "town", "town-pass-1")
    r = town.post(f"/cases/{fid}", data={**form_of(town, fid), "status": "dismissed"})
    assert r.status_code == 400  # a dismissal needs a reason: the ledger's own rule
    assert "needs a reason" in r.text
    r = town.post(
        f"/cases/{fid}",
        data={**form_of(town, fid), "status": "confirmed", "notes": "乡镇现场核实"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    office = client(path)
    login(office, "office", "office-pass-1")
    r = office.post(
        f"/cases/{fid}",
        data={**form_of(office, fid), "responsible_unit": "区城市管理局", "deadline": "2023-09-30"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    case = ledger.read_cases(path).loc[fid]
    assert (case["status"], case["responsible_unit"], case["deadline"]) == (
        "confirmed",
        "区城市管理局",
        "2023-09-30",
    )
    rows = ledger.read_history(path, fid)
    assert rows[rows["source"] == "desk"][["field", "who"]].values.tolist() == [
        ["status", "town"],
        ["notes", "town"],
        ["responsible_unit", "office"],
        ["deadline", "office"],
    ]
    # the police still see it (they enforce it), the new responsible unit's users would too
    police = client(path)
    login(police, "police", "police-pass-1")
    assert police.get(f"/cases/{fid}").status_code == 200


def test_tls_needs_both_files(desk, tmp_path):
    path, _ = desk
    cert = tmp_path / "cert.pem"
    cert.write_text("x")
    r = CliRunner().invoke(cli, ["serve", "--ledger", str(path), "--tls-cert", str(cert)])
    assert r.exit_code == 2
    assert "give both --tls-cert and --tls-key" in r.output


def test_an_edit_racing_a_sync_is_a_conflict_not_an_overwrite(desk):
    path, ids = desk
    fid = ids[0]
    c = client(path)
    login(c, "police", "police-pass-1")
    seen = form_of(c, fid)
    # the next screening no longer finds the first venue: the pending case is resolved
    rest = _findings().drop(index=fid)
    ledger.sync_findings(
        path, rest, who="专项办", now=dt.datetime(2023, 7, 10, 9), confirm_closing=True
    )
    assert ledger.read_cases(path).loc[fid, "status"] == "resolved"
    r = c.post(f"/cases/{fid}", data={**seen, "status": "confirmed"})
    assert r.status_code == 409
    assert "sync run 2" in r.text
    assert ledger.read_cases(path).loc[fid, "status"] == "resolved"


def test_the_full_map_draws_map_htmls_layers_for_the_users_own_cases(tmp_path):
    """serve --osm: /map/full is map.html for the user's cases, by status, offline."""
    import json

    from campus_geo import demo
    from campus_geo.demo.story import run_ledger_story
    from campus_geo.layers import layers_from_osm
    from campus_geo.maps.offline import external_references
    from campus_geo.screen import save_findings

    osm = demo.DEMO_DIR / "district.osm"
    story = run_ledger_story(tmp_path)
    # findings.gpkg beside the ledger; one venue of a registry, not in the OSM file
    registry = story.july_findings.copy()
    registry.iloc[0, registry.columns.get_loc("hazard_id")] = "registry:91419950MA1KQ36F82"
    save_findings(registry, tmp_path)
    add_user(story.path, "culture", "culture-pass-1", role="unit", unit="区文化广电和旅游局")
    add_user(story.path, "office", "office-pass-1", role="office")
    today = dt.date(2023, 8, 3)
    app = create_app(story.path, today=today, osm_files=[osm])
    mine = ledger.read_cases(story.path, unit="区文化广电和旅游局", today=today)
    drawn = mine.index.intersection(story.july_findings.index)
    assert 0 < len(drawn) < len(story.july_findings)

    def page_data(c: TestClient) -> tuple[str, dict]:
        r = c.get("/map/full")
        assert r.status_code == 200
        assert "default-src 'none'" in r.headers["content-security-policy"]
        blocks = re.findall(
            r'<script type="application/json" id="[^"]+_data">(.*?)</script>', r.text, re.S
        )
        return r.text, json.loads(blocks[0])

    culture = TestClient(app)
    assert culture.get("/map/full", follow_redirects=False).status_code in (303, 401)
    assert login(culture, "culture", "culture-pass-1") == 303
    assert 'id="full-map"' in culture.get("/map").text
    text, data = page_data(culture)
    lines = sum(len(layer["lines"]) for layer in data["layers"])
    assert lines == len(drawn)  # the unit's own cases only
    assert len(data["zones"]) == 1  # the 200 m zones
    assert len(data["base"]["layers"]) == 3  # the basemap: water, buildings, streets
    district = layers_from_osm(osm)
    assert len(data["schools"]["rows"]) == len(district.schools)
    assert external_references(text) == []  # offline: nothing to fetch
    # the lines carry the status colours of the ledger (逾期 first)
    legend = dict(re.findall(r'\["line","([^"]+)","#[0-9a-f]{6}","",(\d+)\]', text))
    status = ledger.status_by_finding(story.path, today=today).reindex(drawn)
    assert int(legend["逾期"]) == int((status == "overdue").sum()) > 0
    office = TestClient(app)
    assert login(office, "office", "office-pass-1") == 303
    _, everything = page_data(office)
    assert sum(len(x["lines"]) for x in everything["layers"]) == len(story.july_findings)
    venues = [row[1] for layer in everything["layers"] for row in layer["rows"]]
    assert registry["hazard_name"].iloc[0] in venues  # the registry venue, at its end point
    # without the district's OSM files there is no full map, and the page says how to get one
    plain = TestClient(create_app(story.path, today=today))
    assert login(plain, "office", "office-pass-1") == 303
    assert plain.get("/map/full").status_code == 404
    assert "--osm" in plain.get("/map/full").text
