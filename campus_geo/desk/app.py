"""The review desk's web application (Starlette, served by uvicorn).

Why Starlette: a small, established ASGI toolkit (the core of FastAPI) with
sessions-free routing, form parsing (python-multipart), static files and a
test client (httpx); the desk renders server-side HTML with Jinja2
(autoescape on), so FastAPI's JSON schema layer and pydantic would add
weight and nothing else. Every page is Chinese first with an English switch,
every script, style and map asset is served from the package (no internet).

Security: a session cookie (HttpOnly, SameSite=Strict, Secure under TLS)
names a server-side session (:mod:`campus_geo.desk.users`); every POST
carries the session's CSRF token (the login form a double-submit token);
every request is authorised here (:mod:`campus_geo.desk.access`); every
change goes through the ledger's checked transaction with the case version
the user saw, so a stale edit is a 409 conflict, never an overwrite.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
import re
import secrets
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from campus_geo._errors import ConflictError, LedgerError

if TYPE_CHECKING:
    from campus_geo.desk.fullmap import FullMap
from campus_geo.desk import access, queries
from campus_geo.desk.photos import check_upload, save_thumbnail, thumbnail_path
from campus_geo.desk.text import LANGS, labels, word
from campus_geo.desk.users import (
    DeskError,
    User,
    authenticate,
    end_session,
    session_user,
    start_session,
)
from campus_geo.ledger.actions import copy_case, describe_actions, escalate_case, joint_case
from campus_geo.ledger.attachments import (
    ATTACHMENT_KINDS,
    MAX_ATTACHMENT_BYTES,
    add_attachment,
    attachment_path,
)
from campus_geo.ledger.cases import set_case
from campus_geo.ledger.db import STATUS_LABELS, as_of, connect
from campus_geo.ledger.units import case_units

__all__ = ["SESSION_COOKIE", "create_app"]

log = logging.getLogger(__name__)

#: Name of the session cookie.
SESSION_COOKIE: Final = "cg_desk"
_LOGIN_COOKIE: Final = "cg_login"
_LANG_COOKIE: Final = "cg_lang"
_FID_RE: Final = re.compile(r"^[0-9a-f]{6,64}$")
_STATIC: Final = Path(__file__).parent / "static"
_VENDOR: Final = Path(__file__).parent.parent / "static"
_CSP: Final = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
_CHOICES_TTL_S: Final = 60.0
_FORM_FIELDS: Final = (
    "status",
    "responsible_unit",
    "responsible_person",
    "deadline",
    "reason",
    "rectification",
    "rectified_on",
    "notes",
)
_Handler = Callable[[Request], Awaitable[Response]]


class _SecurityHeaders:
    """Pure ASGI middleware: security headers on every response."""

    def __init__(self, app: ASGIApp, *, tls: bool) -> None:
        self.app, self.tls = app, tls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = {
                    b"x-content-type-options": b"nosniff",
                    b"x-frame-options": b"DENY",
                    b"referrer-policy": b"no-referrer",
                    b"cross-origin-opener-policy": b"same-origin",
                    b"content-security-policy": _CSP.encode(),
                    b"cache-control": b"public, max-age=3600" if static else b"no-store",
                }
                if self.tls:
                    extra[b"strict-transport-security"] = b"max-age=31536000"
                headers += [(k, v) for k, v in extra.items() if k not in names]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _Desk:
    """The handlers, bound to one ledger."""

    def __init__(
        self,
        ledger_path: Path,
        *,
        findings: dict[str, dict[str, Any]],
        evidence_dir: Path | None,
        tls: bool,
        today: dt.date | None,
    ) -> None:
        self.ledger = ledger_path
        self.findings = findings
        self.evidence_dir = evidence_dir
        self.tls = tls
        self.fixed_today = today
        self.full_map: FullMap | None = None  # map.html's layers (serve --osm)
        # the filter lists of each scope, kept for a minute (they change only with new cases)
        self.choices: dict[tuple[str, str, str], tuple[float, dict[str, list[str]]]] = {}
        self.env = Environment(
            loader=PackageLoader("campus_geo.desk", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    # --- plumbing -------------------------------------------------------------------------

    def today(self) -> dt.date:
        return self.fixed_today or as_of(None).date()  # Beijing time, as the ledger

    @contextmanager
    def conn(self) -> Iterator[sqlite3.Connection]:
        with connect(self.ledger) as conn:
            yield conn

    def lang(self, request: Request) -> str:
        lang = request.cookies.get(_LANG_COOKIE, "zh")
        return lang if lang in LANGS else "zh"

    def render(
        self,
        request: Request,
        name: str,
        context: dict[str, Any],
        *,
        status: int = 200,
        session: tuple[User, str] | None = None,
    ) -> Response:
        lang = self.lang(request)
        user, csrf = session if session else (None, "")
        html = self.env.get_template(name).render(
            **labels(lang),
            **context,
            lang=lang,
            langs=LANGS,
            user=user,
            csrf=csrf,
            path=request.url.path,
            query=request.url.query,
        )
        return Response(html, status_code=status, media_type="text/html; charset=utf-8")

    async def session(self, request: Request) -> tuple[User, str] | None:
        token = request.cookies.get(SESSION_COOKIE, "")
        return await run_in_threadpool(session_user, self.ledger, token)

    def error(self, request: Request, status: int, message: str, session: Any = None) -> Response:
        return self.render(
            request,
            "error.html.j2",
            {"code": status, "message": message},
            status=status,
            session=session,
        )

    async def form(self, request: Request, session: tuple[User, str]) -> Any:
        """The posted form, after its CSRF token matched the session's (else None)."""
        form = await request.form(max_part_size=MAX_ATTACHMENT_BYTES + 1024)
        given = str(form.get("csrf", ""))
        if not given or not hmac.compare_digest(given, session[1]):
            await form.close()
            return None
        return form

    def case_row(self, finding_id: str) -> dict[str, Any] | None:
        with self.conn() as conn:
            row = conn.execute("SELECT * FROM cases WHERE finding_id = ?", (finding_id,)).fetchone()
        return None if row is None else dict(row)

    async def visible_case(
        self, request: Request, session: tuple[User, str]
    ) -> tuple[dict[str, Any] | None, Response | None]:
        """The case of the URL when the user may see it; else the 404/403 response."""
        fid = str(request.path_params["fid"])
        case = await run_in_threadpool(self.case_row, fid) if _FID_RE.match(fid) else None
        if case is None:
            return None, self.error(request, 404, word(self.lang(request), "not_found"), session)
        if not access.can_see(session[0], case):
            return None, self.error(request, 403, word(self.lang(request), "forbidden"), session)
        return case, None

    # --- login ----------------------------------------------------------------------------

    async def login_page(self, request: Request, message: str = "", status: int = 200) -> Response:
        token = secrets.token_urlsafe(24)
        response = self.render(
            request, "login.html.j2", {"login_csrf": token, "message": message}, status=status
        )
        response.set_cookie(
            _LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=self.tls, path="/login"
        )
        return response

    async def login(self, request: Request) -> Response:
        form = await request.form()
        given, cookie = str(form.get("csrf", "")), request.cookies.get(_LOGIN_COOKIE, "")
        if not given or not cookie or not hmac.compare_digest(given, cookie):
            return self.error(request, 403, "CSRF")
        address = request.client.host if request.client else ""
        try:
            user = await run_in_threadpool(
                authenticate,
                self.ledger,
                str(form.get("username", "")),
                str(form.get("password", "")),
                address=address,
            )
        except DeskError as exc:
            return await self.login_page(request, str(exc), status=429)
        if user is None:
            bad = word(self.lang(request), "bad_login")
            return await self.login_page(request, bad, status=401)
        token, _ = await run_in_threadpool(start_session, self.ledger, user)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            SESSION_COOKIE, token, httponly=True, samesite="strict", secure=self.tls
        )
        response.delete_cookie(_LOGIN_COOKIE, path="/login")
        return response

    async def logout(self, request: Request) -> Response:
        session = await self.session(request)
        if session is None:
            return RedirectResponse("/login", status_code=303)
        if await self.form(request, session) is None:
            return self.error(request, 403, "CSRF", session)
        address = request.client.host if request.client else ""
        await run_in_threadpool(
            end_session, self.ledger, request.cookies.get(SESSION_COOKIE, ""), address=address
        )
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    async def set_lang(self, request: Request) -> Response:
        lang = request.query_params.get("to", "zh")
        back = request.query_params.get("next", "/")
        if not back.startswith("/") or back.startswith("//") or "\\" in back:
            back = "/"
        response = RedirectResponse(back, status_code=303)
        response.set_cookie(_LANG_COOKIE, lang if lang in LANGS else "zh", samesite="strict")
        return response

    # --- pages ----------------------------------------------------------------------------

    def guarded(
        self, handler: Callable[[Request, tuple[User, str]], Awaitable[Response]]
    ) -> _Handler:
        async def endpoint(request: Request) -> Response:
            session = await self.session(request)
            if session is None:
                if request.method == "GET" and not request.url.path.startswith("/api/"):
                    return RedirectResponse("/login", status_code=303)
                return JSONResponse({"error": "log in first"}, status_code=401)
            return await handler(request, session)

        return endpoint

    async def dashboard(self, request: Request, session: tuple[User, str]) -> Response:
        def read() -> dict[str, Any]:
            with self.conn() as conn:
                return queries.dashboard(conn, session[0], today=self.today())

        data = await run_in_threadpool(read)
        return self.render(request, "dashboard.html.j2", {"d": data}, session=session)

    def filter_choices(self, conn: sqlite3.Connection, user: User) -> dict[str, list[str]]:
        key = (user.role, user.unit, user.township)
        kept = self.choices.get(key)
        if kept is None or time.monotonic() - kept[0] > _CHOICES_TTL_S:
            kept = (time.monotonic(), queries.filter_choices(conn, user))
            self.choices[key] = kept
        return kept[1]

    def case_filter(self, request: Request) -> queries.CaseFilter:
        q = request.query_params
        try:
            page = max(1, int(q.get("page", "1")))
        except ValueError:
            page = 1
        return queries.CaseFilter(
            status=q.get("status", ""),
            unit=q.get("unit", ""),
            township=q.get("township", ""),
            school=q.get("school", "").strip(),
            category=q.get("category", ""),
            overdue=q.get("overdue", "") == "1",
            sort=q.get("sort", "deadline"),
            page=page,
        )

    async def cases(self, request: Request, session: tuple[User, str]) -> Response:
        flt = self.case_filter(request)

        def read() -> tuple[list[dict[str, Any]], int, dict[str, list[str]]]:
            with self.conn() as conn:
                rows, total = queries.list_cases(conn, session[0], flt, today=self.today())
                return rows, total, self.filter_choices(conn, session[0])

        rows, total, choices = await run_in_threadpool(read)
        pages = max(1, -(-total // queries.PAGE_SIZE))
        params = {k: v for k, v in request.query_params.items() if k != "page"}
        return self.render(
            request,
            "cases.html.j2",
            {
                "rows": rows,
                "total": total,
                "flt": flt,
                "pages": pages,
                "choices": choices,
                "sorts": list(queries.SORTS),
                "statuses": list(STATUS_LABELS),
                "params": params,
            },
            session=session,
        )

    def case_context(self, case: dict[str, Any], user: User) -> dict[str, Any]:
        fid = case["finding_id"]
        with self.conn() as conn:
            history = [
                dict(r)
                for r in conn.execute(
                    "SELECT * FROM history WHERE finding_id = ? ORDER BY history_id", (fid,)
                )
            ]
            files = [
                dict(r)
                for r in conn.execute(
                    "SELECT * FROM attachments WHERE finding_id = ? ORDER BY attachment_id", (fid,)
                )
            ]
        evidence = bool(self.evidence_dir and (self.evidence_dir / f"{fid}.html").is_file())
        return {
            "case": case,
            "history": history,
            "files": files,
            "fields": access.allowed_fields(user, case),
            "next_statuses": access.allowed_statuses(user, case),
            "actions": access.ACTIONS_BY_ROLE.get(user.role, ()),
            "kinds": list(ATTACHMENT_KINDS),
            "units": case_units(case),
            "actions_text": describe_actions(case),
            "finding": self.findings.get(fid),
            "evidence": evidence,
            "overdue": case["status"] in ("pending", "confirmed", "in_progress")
            and bool(case["deadline"])
            and case["deadline"] < self.today().isoformat(),
        }

    async def case_page(
        self,
        request: Request,
        session: tuple[User, str],
        *,
        message: str = "",
        status: int = 200,
    ) -> Response:
        case, refused = await self.visible_case(request, session)
        if case is None:
            assert refused is not None
            return refused
        context = await run_in_threadpool(self.case_context, case, session[0])
        kind = "ok" if status < 400 else ("conflict" if status == 409 else "error")
        return self.render(
            request,
            "case.html.j2",
            {**context, "message": message, "message_kind": kind},
            status=status,
            session=session,
        )

    async def case_change(self, request: Request, session: tuple[User, str]) -> Response:
        """POST a change (and optionally a photo) of one case."""
        case, refused = await self.visible_case(request, session)
        if case is None:
            assert refused is not None
            return refused
        form = await self.form(request, session)
        if form is None:
            return self.error(request, 403, "CSRF", session)
        try:
            return await self.change_form(request, session, case, form)
        finally:
            await form.close()

    async def change_form(
        self, request: Request, session: tuple[User, str], case: dict[str, Any], form: Any
    ) -> Response:
        """The change of :meth:`case_change`, from its checked form."""
        user = session[0]
        changes = _form_changes(user, case, form)
        if isinstance(changes, str):
            forbidden = word(self.lang(request), "forbidden")
            return self.error(request, 403, f"{forbidden}: {changes}", session)
        upload = form.get("photo")
        data = b""
        if isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read(MAX_ATTACHMENT_BYTES + 1)  # enough to know it is too large
        kind = str(form.get("kind", "after"))

        def work() -> None:
            if data:
                check_upload(data, str(getattr(upload, "filename", "")), kind)
            self.write_change(case, changes, user, _version(form), data, upload, kind)

        return await self.outcome(request, session, case["finding_id"], work)

    async def outcome(
        self, request: Request, session: tuple[User, str], fid: str, work: Callable[[], None]
    ) -> Response:
        """Run a change: 303 back to the case, 409 on a conflict, 400 on a refusal."""
        try:
            await run_in_threadpool(work)
        except ConflictError as exc:
            return await self.case_page(request, session, message=str(exc), status=409)
        except LedgerError as exc:
            return await self.case_page(request, session, message=str(exc), status=400)
        return RedirectResponse(f"/cases/{fid}?saved=1", status_code=303)

    def write_change(
        self,
        case: dict[str, Any],
        changes: dict[str, str],
        user: User,
        expected: int,
        data: bytes,
        upload: Any,
        kind: str,
    ) -> None:
        fid = case["finding_id"]
        if changes:
            set_case(
                self.ledger,
                fid,
                **{
                    k: (v or None) if k in ("deadline", "rectified_on") else v
                    for k, v in changes.items()
                },  # type: ignore[arg-type]
                who=user.username,
                expected_version=expected,
                source="desk",
            )
        elif data:  # a photo alone: the case must still be the one the user saw
            current = self.case_row(fid)
            if current is None or int(current["version"]) != expected:
                raise ConflictError(
                    f"case {fid} was changed by someone else after you opened it (version "
                    f"{expected} -> {current['version'] if current else '?'}); nothing was stored. "
                    "Reload the case and attach the file again"
                )
        if data:
            row = add_attachment(
                self.ledger,
                fid,
                data,
                filename=upload.filename,
                kind=kind,
                who=user.username,
                source="desk",
            )
            save_thumbnail(self.ledger, row["sha256"], data)

    async def case_action(self, request: Request, session: tuple[User, str]) -> Response:
        """POST 抄告, 督办 or 联合整改 (the office only)."""
        case, refused = await self.visible_case(request, session)
        if case is None:
            assert refused is not None
            return refused
        form = await self.form(request, session)
        if form is None:
            return self.error(request, 403, "CSRF", session)
        action = str(form.get("action", ""))
        if action not in access.ACTIONS_BY_ROLE.get(session[0].role, ()):
            return self.error(request, 403, f"{action}: forbidden", session)
        who, fid, why = session[0].username, case["finding_id"], str(form.get("why", ""))

        def act() -> None:
            common: dict[str, Any] = {"why": why, "who": who, "expected_version": _version(form)}
            if action == "copy":
                copy_case(self.ledger, fid, str(form.get("units", "")), **common)
            elif action == "escalate":
                escalate_case(
                    self.ledger,
                    fid,
                    supervisor=str(form.get("supervisor", "")),
                    deadline=str(form.get("deadline", "")),
                    **common,
                )
            else:
                joint_case(
                    self.ledger,
                    fid,
                    lead=str(form.get("lead", "")),
                    participants=str(form.get("units", "")),
                    **common,
                )

        return await self.outcome(request, session, fid, act)

    async def attachment(self, request: Request, session: tuple[User, str]) -> Response:
        """GET a case's attachment (or its thumbnail) after the case check."""
        case, refused = await self.visible_case(request, session)
        if case is None:
            assert refused is not None
            return refused
        try:
            number = int(request.path_params["number"])
        except ValueError:
            return self.error(request, 404, "no such file", session)
        with self.conn() as conn:
            row = conn.execute(
                "SELECT * FROM attachments WHERE attachment_id = ? AND finding_id = ?",
                (number, case["finding_id"]),
            ).fetchone()
        if row is None:
            return self.error(request, 404, "no such file", session)
        if request.url.path.endswith("/thumb"):
            thumb = thumbnail_path(self.ledger, row["sha256"])
            if thumb.is_file():
                return FileResponse(thumb, media_type="image/jpeg")
            return self.error(request, 404, "no thumbnail", session)
        path = attachment_path(self.ledger, row["sha256"], row["media_type"])
        return FileResponse(
            path,
            media_type=row["media_type"],
            filename=row["filename"],
            content_disposition_type="inline"
            if row["media_type"].startswith("image/")
            else "attachment",
        )

    async def evidence(self, request: Request, session: tuple[User, str]) -> Response:
        """The case's evidence sheet (written by ``campus-geo screen``), sandboxed."""
        case, refused = await self.visible_case(request, session)
        if case is None:
            assert refused is not None
            return refused
        sheet = self.evidence_dir / f"{case['finding_id']}.html" if self.evidence_dir else None
        if sheet is None or not sheet.is_file():
            return self.error(request, 404, "no evidence sheet", session)
        response = FileResponse(sheet, media_type="text/html; charset=utf-8")
        response.headers["content-security-policy"] = (
            "sandbox; default-src 'self' data:; style-src 'self' 'unsafe-inline'; img-src 'self' data:"
        )
        return response

    async def map_page(self, request: Request, session: tuple[User, str]) -> Response:
        return self.render(
            request,
            "map.html.j2",
            {
                "has_findings": bool(self.findings),
                "statuses": list(STATUS_LABELS),
                "full_map": self.full_map is not None,
            },
            session=session,
        )

    async def full_map_page(self, request: Request, session: tuple[User, str]) -> Response:
        """map.html's layers for the user's cases (those the table shows), by status today."""
        full = self.full_map
        if full is None:
            return self.error(request, 404, word(self.lang(request), "no_full_map"), session)
        flt, today = self.case_filter(request), self.today()

        def build() -> str:
            where, values = flt.where(session[0], today)
            with self.conn() as conn:
                rows = conn.execute(f"SELECT finding_id FROM cases WHERE {where}", values)
                ids = [r[0] for r in rows.fetchall()]
            user = session[0]
            who = user.unit or user.township or user.username
            title = f"{word(self.lang(request), 'map')}：{who}"
            return full.html(self.ledger, ids, today=today, title=title)

        page = await run_in_threadpool(build)
        response = HTMLResponse(page)
        # the map page is ours (escaped labels, tested against injected HTML) and runs its
        # own inline scripts; nothing leaves it (no network source allowed)
        response.headers["content-security-policy"] = (
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
            "img-src data:; font-src data:; frame-ancestors 'none'"
        )
        return response

    async def geojson(self, request: Request, session: tuple[User, str]) -> Response:
        """The user's cases (filtered as the table) as GeoJSON: hazard points and measured lines."""
        flt = self.case_filter(request)
        today = self.today()

        def read() -> list[dict[str, Any]]:
            where, values = flt.where(session[0], today)
            with self.conn() as conn:
                rows = conn.execute(
                    "SELECT finding_id, status, deadline, school_name, hazard_name, category, "
                    f"distance_m, responsible_unit FROM cases WHERE {where}",
                    values,
                ).fetchall()
            features = []
            for r in rows:
                geo = self.findings.get(r["finding_id"])
                if geo is None:
                    continue
                overdue = (
                    r["status"] in ("pending", "confirmed", "in_progress")
                    and bool(r["deadline"])
                    and r["deadline"] < today.isoformat()
                )
                props = {
                    **dict(r),
                    "state": "overdue" if overdue else r["status"],
                    "school": geo.get("school"),
                }
                features.append(
                    {"type": "Feature", "properties": props, "geometry": geo["geometry"]}
                )
            return features

        features = await run_in_threadpool(read)
        body = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
        return Response(body, media_type="application/geo+json")


def _version(form: Any) -> int:
    """The case version a form was made from (LedgerError when missing or garbled)."""
    try:
        return int(str(form.get("version", "")))
    except ValueError as exc:
        msg = "the form does not say which version of the case it edits; reload the case"
        raise LedgerError(msg) from exc


def _form_changes(user: User, case: dict[str, Any], form: Any) -> dict[str, str] | str:
    """The changes a form asks for, or what the user may not change (a field or a status)."""
    allowed = access.allowed_fields(user, case)
    if not allowed:
        return "read-only"
    changes: dict[str, str] = {}
    for key in _FORM_FIELDS:
        value = str(form.get(key, "")).strip() if key in form else None
        if value is None or (key == "status" and not value):
            continue
        if key not in allowed:
            return key
        changes[key] = value
    # which status may follow which is the ledger's rule, checked after the version;
    # here only what the role may ever set (a township confirms or dismisses)
    status = changes.get("status", case["status"])
    if status != case["status"] and not access.may_set_status(user, status):
        return f"status {status}"
    return changes


def _load_findings(path: Path | None) -> dict[str, dict[str, Any]]:
    """Finding id -> its measured line (GeoJSON, WGS 84) from a findings file, if one is given."""
    if path is None or not path.is_file():
        return {}
    import pyogrio
    import shapely

    wanted = ["finding_id", "school_id", "school_name", "school_lon", "school_lat"]
    info = pyogrio.read_info(path)
    frame = pyogrio.read_dataframe(path, columns=[c for c in wanted if c in info["fields"]])
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    out = {}
    for row, geom in zip(frame.to_dict("records"), frame.geometry, strict=True):
        if geom is None:
            continue
        school = None
        if row.get("school_lon") is not None and row.get("school_lat") is not None:
            school = [row["school_id"], row["school_name"], row["school_lon"], row["school_lat"]]
        out[str(row["finding_id"])] = {
            "geometry": json.loads(shapely.to_geojson(geom)),
            "school": school,
        }
    return out


def create_app(
    ledger_path: str | Path,
    *,
    findings_path: str | Path | None = None,
    evidence_dir: str | Path | None = None,
    tls: bool = False,
    today: dt.date | None = None,
    osm_files: Sequence[str | Path] = (),
) -> ASGIApp:
    """The desk as an ASGI application for one ledger.

    Parameters
    ----------
    ledger_path
        The ledger file (it must exist).
    findings_path
        Findings (``findings.gpkg``) with the measured lines, for the map and
        the case pages (default: ``findings.gpkg`` beside the ledger, if any).
    evidence_dir
        Folder of the evidence sheets ``<finding_id>.html`` (default:
        ``evidence/`` beside the ledger, if any).
    tls
        Served over HTTPS: cookies are Secure and HSTS is sent.
    today
        The date overdue is judged on (default: each request's today).
    osm_files
        The district's OSM files: with a findings file, ``/map/full`` draws
        map.html's layers for the user's cases (:class:`campus_geo.desk.fullmap.FullMap`).
    """
    path = Path(ledger_path)
    with connect(path):  # refuses a missing or foreign file now, migrates an old one
        pass
    findings = _load_findings(
        Path(findings_path) if findings_path else path.with_name("findings.gpkg")
    )
    evidence = Path(evidence_dir) if evidence_dir else path.with_name("evidence")
    desk = _Desk(
        path,
        findings=findings,
        evidence_dir=evidence if evidence.is_dir() else None,
        tls=tls,
        today=today,
    )
    findings_file = Path(findings_path) if findings_path else path.with_name("findings.gpkg")
    if osm_files and findings_file.is_file():
        from campus_geo.desk.fullmap import FullMap

        desk.full_map = FullMap(osm_files, findings_file)
    g = desk.guarded
    routes = [
        Route("/login", desk.login_page, methods=["GET"]),
        Route("/login", desk.login, methods=["POST"]),
        Route("/logout", desk.logout, methods=["POST"]),
        Route("/lang", desk.set_lang, methods=["GET"]),
        Route("/", g(desk.dashboard), methods=["GET"]),
        Route("/cases", g(desk.cases), methods=["GET"]),
        Route("/cases/{fid}", g(desk.case_page), methods=["GET"]),
        Route("/cases/{fid}", g(desk.case_change), methods=["POST"]),
        Route("/cases/{fid}/action", g(desk.case_action), methods=["POST"]),
        Route("/cases/{fid}/files/{number}", g(desk.attachment), methods=["GET"]),
        Route("/cases/{fid}/files/{number}/thumb", g(desk.attachment), methods=["GET"]),
        Route("/cases/{fid}/evidence", g(desk.evidence), methods=["GET"]),
        Route("/map", g(desk.map_page), methods=["GET"]),
        Route("/map/full", g(desk.full_map_page), methods=["GET"]),
        Route("/api/cases.geojson", g(desk.geojson), methods=["GET"]),
        Mount("/static/desk", StaticFiles(directory=_STATIC), name="desk-static"),
        Mount("/static/vendor", StaticFiles(directory=_VENDOR), name="vendor-static"),
    ]
    return _SecurityHeaders(Starlette(routes=routes), tls=tls)
