"""The ledger's SQLite file: schema, migrations, connections, statuses and changes.

One file (``ledger.sqlite`` by default) in WAL mode, written only inside
``BEGIN IMMEDIATE`` transactions: a writer takes the write lock before it
reads what it is about to change, so two processes never both change the
same state (no lost update), and a process killed in the middle of a
transaction leaves the file as it was before (SQLite discards the
uncommitted frames of the write-ahead log on the next open).

The schema is versioned with ``PRAGMA user_version`` and marked as a
campus_geo ledger with ``PRAGMA application_id``; :data:`MIGRATIONS` holds one
script per version. A file from a newer campus_geo, a damaged file and an
SQLite database of another program are refused with a message that says so.

The status vocabulary and the rules of who may move a case where live in
:mod:`campus_geo.ledger.schema` with the SQL of each version (re-exported here);
the command line, the Excel import and the screening sync all change cases
through :func:`apply_change` (a person's change, and the 抄告/督办/联合整改
actions, through :func:`change_case`).

Schema versions: 1, the cases, their history and the runs; 2, the units of a
case (执法单位 ``enforcing_unit``, 配合单位 ``participating_units``), the actions
抄告 ``copied_to``, 督办 ``supervisor`` and ``supervised_on``, 联合整改
``joint_units``, the date a case being handled was last not found by a
screening (``absent_since``), the screening settings of each run
(``runs.settings``) and the units' and townships' monthly reports (table
``reports``). A ledger of version 1 is migrated when it is opened (after a
copy to ``<name>.v1.bak``); its cases get their units at the next sync.
3, the files attached to cases (table ``attachments``: photos and scans kept
content-addressed beside the ledger, see :mod:`campus_geo.ledger.attachments`).
"""

from __future__ import annotations

import datetime as dt
import getpass
import logging
import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import pandas as pd

from campus_geo._errors import ConflictError, LedgerError
from campus_geo.ledger.schema import (
    APPLICATION_ID,
    CASES_QUERY,
    CLOSED_STATUSES,
    DATE_FIELDS,
    EDITABLE_FIELDS,
    FIELD_LABELS,
    FLAG_LABELS,
    MIGRATIONS,
    OPEN_STATUSES,
    OVERDUE_LABEL,
    SCHEMA_VERSION,
    STATUS_LABELS,
    STATUSES,
    TRANSITIONS,
)
from campus_geo.settings import local_zone

__all__ = [
    "APPLICATION_ID",
    "BUSY_TIMEOUT_S",
    "CASES_QUERY",
    "CLOSED_STATUSES",
    "EDITABLE_FIELDS",
    "FIELD_LABELS",
    "FLAG_LABELS",
    "MIGRATIONS",
    "OPEN_STATUSES",
    "OVERDUE_LABEL",
    "SCHEMA_VERSION",
    "STATUSES",
    "STATUS_LABELS",
    "TRANSITIONS",
    "apply_change",
    "as_of",
    "change_case",
    "check_change",
    "connect",
    "default_who",
    "parse_date",
    "read_transaction",
    "resolve_case_id",
    "status_code",
    "with_overdue",
    "write_transaction",
]

log = logging.getLogger(__name__)

_SQLITE_HEADER: Final = b"SQLite format 3\x00"
#: Seconds a writer waits for another process's write transaction to end.
BUSY_TIMEOUT_S: Final = 30.0


def default_who() -> str:
    """Name recorded as "who" when none is given: the login name, or ``unknown``."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers and services
        return "unknown"


def as_of(now: dt.datetime | None) -> dt.datetime:
    """The time of a change: `now` (naive: as given) or now in :func:`~campus_geo.settings.local_zone`.

    The offices read Beijing time (Asia/Shanghai unless ``$CAMPUS_GEO_TIMEZONE``
    says otherwise), whatever the clock of the machine.
    """
    stamp = dt.datetime.now(local_zone()) if now is None else now
    return stamp.replace(microsecond=0)


def _statements(script: str) -> Iterator[str]:
    """Split an SQL script into statements (triggers hold ``;`` inside BEGIN ... END).

    ``Connection.executescript`` would commit the open transaction first, so a
    migration runs its statements one by one inside its own transaction.
    """
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""
    if buffer.strip():
        yield buffer.strip()


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``; ``ROLLBACK`` on any exception.

    IMMEDIATE takes the write lock before the first read, so what is read
    inside the transaction is what the transaction changes.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def read_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """A read snapshot: every query inside sees the same committed state."""
    conn.execute("BEGIN DEFERRED")
    try:
        yield
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")


def _not_a_ledger(path: Path, found: str) -> LedgerError:
    return LedgerError(
        f"{path} is not a campus_geo ledger ({found}); give the path of a ledger.sqlite "
        "written by campus-geo, or a new file name to start a ledger"
    )


def _damaged(path: Path, exc: sqlite3.Error) -> LedgerError:
    return LedgerError(
        f"the ledger {path} is damaged ({exc}); nothing was changed. Restore it from a "
        "backup copy, or rebuild it from the last exported xlsx with `campus-geo ledger sync` "
        "and `campus-geo ledger import`"
    )


def _wrap(exc: sqlite3.Error, path: Path) -> Exception:
    """A LedgerError for SQLite errors that are about the file, not about campus_geo's SQL."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return LedgerError(
            f"the ledger {path} is busy: another process has been writing to it for more than "
            f"{BUSY_TIMEOUT_S:g} s; nothing was changed, try again when it has finished"
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return _damaged(path, exc)
    if "unable to open" in text or "readonly" in text or "disk i/o" in text:
        return LedgerError(
            f"cannot write the ledger {path} ({exc}); check that the folder exists and is "
            "writable, and keep the ledger on a local disk (SQLite's WAL mode does not work "
            "on network shares)"
        )
    return exc


def _check_header(path: Path) -> bool:
    """True when `path` holds data; refuse a file that is not an SQLite database."""
    try:
        with path.open("rb") as fh:
            head = fh.read(len(_SQLITE_HEADER))
    except FileNotFoundError:
        return False
    except OSError as exc:
        msg = f"cannot read the ledger {path}: {exc.strerror}; check the path and permissions"
        raise LedgerError(msg) from exc
    if not head:
        return False
    if head != _SQLITE_HEADER:
        raise _not_a_ledger(path, f"it is not an SQLite database: it starts with {head[:8]!r}")
    return True


def _migrate(
    conn: sqlite3.Connection,
    path: Path,
    *,
    target: int = SCHEMA_VERSION,
    steps: Mapping[int, str] = MIGRATIONS,
) -> None:
    """Bring the ledger to schema version `target`, one step per version, in one transaction.

    An existing ledger is first copied to ``<name>.v<old>.bak`` beside it.
    """
    current = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if current >= target:
        return
    if current > 0:
        backup = path.with_name(f"{path.name}.v{current}.bak")
        with sqlite3.connect(backup) as dest:
            conn.backup(dest)
        dest.close()
        log.info("backed up %s (schema %d) to %s before migrating", path, current, backup)
    with write_transaction(conn):
        # another process may have migrated while this one waited for the lock
        current = int(conn.execute("PRAGMA user_version").fetchone()[0])
        for version in range(current + 1, target + 1):
            for statement in _statements(steps[version]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version:d}")
            log.info("ledger %s: schema migrated to version %d", path, version)
        if current == 0:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID:d}")
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('ledger_id', lower(hex(randomblob(16))))"
            )
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('created', ?)", (as_of(None).isoformat(),)
            )


def _prepare(conn: sqlite3.Connection, path: Path, *, create: bool) -> None:
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if app_id == 0 and version == 0:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_schema LIMIT 5")]
        if tables:
            raise _not_a_ledger(path, f"an SQLite database with tables {', '.join(tables)}")
        if not create:
            raise _no_ledger(path)
    elif app_id != APPLICATION_ID:
        raise _not_a_ledger(path, f"an SQLite database with application id {app_id:#x}")
    elif version > SCHEMA_VERSION:
        from campus_geo._version import __version__

        msg = (
            f"the ledger {path} has schema version {version}, written by a newer campus_geo; "
            f"this campus_geo ({__version__}) reads versions up to {SCHEMA_VERSION}. "
            "Upgrade campus_geo (pip install -U campus_geo) to use it; nothing was changed"
        )
        raise LedgerError(msg)
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            log.warning("ledger %s: WAL journal not available (mode %s)", path, mode)
    _migrate(conn, path)


def _no_ledger(path: Path) -> LedgerError:
    return LedgerError(
        f"there is no ledger at {path}; start one with "
        f"`campus-geo ledger sync --findings OUT/findings.gpkg --ledger {path}`"
    )


@contextmanager
def connect(
    filepath: str | Path, *, create: bool = False, check: bool = False
) -> Iterator[sqlite3.Connection]:
    """Open a ledger (creating or migrating it when needed) and close it afterwards.

    Parameters
    ----------
    filepath
        The ledger file.
    create
        Create the ledger when the file does not exist (or is empty).
    check
        Run ``PRAGMA quick_check`` first (before writing).

    Raises
    ------
    LedgerError
        No ledger there (and not `create`), not a ledger, damaged, from a newer
        campus_geo, or busy for longer than :data:`BUSY_TIMEOUT_S`.
    """
    path = Path(filepath)
    if not _check_header(path):
        if not create:
            raise _no_ledger(path)
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as exc:
        raise _wrap(exc, path) from exc
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = FULL")
        _prepare(conn, path, create=create)
        if check:
            result = [r[0] for r in conn.execute("PRAGMA quick_check")]
            if result != ["ok"]:
                raise _damaged(path, sqlite3.DatabaseError("; ".join(result[:3])))
        yield conn
    except sqlite3.Error as exc:
        wrapped = _wrap(exc, path)
        if wrapped is exc:
            raise
        raise wrapped from exc
    finally:
        conn.close()


def status_code(value: Any) -> str:
    """The status code of a code or a label in either language.

    Examples
    --------
    >>> status_code("整改中"), status_code("in progress"), status_code("rectified")
    ('in_progress', 'in_progress', 'rectified')
    """
    text = str(value).strip() if value is not None else ""
    for code, (zh, en) in STATUS_LABELS.items():
        if text in (code, zh, en) or text.lower() in (code, en):
            return code
    choices = "、".join(zh for zh, _ in STATUS_LABELS.values())
    if text in OVERDUE_LABEL or text.lower() == OVERDUE_LABEL[1]:
        msg = (
            f"逾期 (overdue) is not a status: it follows from the deadline; "
            f"choose one of {choices} and set the deadline (整改时限)"
        )
        raise LedgerError(msg)
    msg = f"unknown status {text!r}; expected one of {choices} (or {', '.join(STATUSES)})"
    raise LedgerError(msg)


_DATE_RE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


def parse_date(value: Any) -> dt.date | None:
    """A date from a date, a datetime or text (2023-07-01, 2023/7/1, 2023.7.1, 2023年7月1日).

    Empty values give None; anything else raises ``ValueError`` with the text.

    Examples
    --------
    >>> parse_date("2023年7月1日"), parse_date(" 2023/7/1 "), parse_date("")
    (datetime.date(2023, 7, 1), datetime.date(2023, 7, 1), None)
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if not text:
        return None
    match = _DATE_RE.match(text)
    if match is None:
        msg = f"{text!r} is not a date; write it as 2023-07-01"
        raise ValueError(msg)
    try:
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError as exc:
        msg = f"{text!r} is not a date ({exc}); write it as 2023-07-01"
        raise ValueError(msg) from exc


def resolve_case_id(conn: sqlite3.Connection, text: str) -> str:
    """The case id that `text` names: the full id or a unique prefix of at least 6 characters."""
    key = text.strip().lower()
    if conn.execute("SELECT 1 FROM cases WHERE finding_id = ?", (key,)).fetchone():
        return key
    matches: list[str] = []
    if len(key) >= 6 and re.fullmatch(r"[0-9a-f]+", key):
        matches = [
            r[0]
            for r in conn.execute(
                "SELECT finding_id FROM cases WHERE substr(finding_id, 1, ?) = ? LIMIT 6",
                (len(key), key),
            )
        ]
    if len(matches) == 1:
        return matches[0]
    if matches:
        msg = f"case id {text!r} is ambiguous: it starts {', '.join(matches)}; give more characters"
        raise LedgerError(msg)
    msg = (
        f"there is no case {text!r} in the ledger; "
        "`campus-geo ledger list` shows the case ids (问题编号)"
    )
    raise LedgerError(msg)


def _label(status: str) -> str:
    zh, en = STATUS_LABELS.get(status, (status, status))
    return f"{zh} {en}"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def check_change(
    case: Mapping[str, Any], changes: Mapping[str, Any], *, today: dt.date
) -> list[str]:
    """Problems with a person's change of one case (empty list: the change is allowed).

    Parameters
    ----------
    case
        The case as stored (a row of ``cases``).
    changes
        New values of :data:`EDITABLE_FIELDS`, dates as ISO text or None.
    today
        The date of the change (a rectification cannot be dated later).

    Examples
    --------
    >>> case = {"finding_id": "abc", "status": "pending", "reason": "", "rectification": "",
    ...         "rectified_on": None, "opened_on": "2023-06-05"}
    >>> check_change(case, {"status": "rectified"}, today=dt.date(2023, 6, 9))
    ['cannot go from 待核查 pending to 已整改 rectified: from 待核查 the next status is 已确认 or 误报']
    >>> check_change(case, {"status": "dismissed"}, today=dt.date(2023, 6, 9))
    ['a dismissal (误报) needs a reason (误报/重开原因)']
    """
    problems = []
    new = {**case, **changes}
    old_status, status = case["status"], new["status"]
    if status != old_status:
        allowed = TRANSITIONS[old_status]
        if status not in allowed:
            nexts = " or ".join(STATUS_LABELS[s][0] for s in allowed)
            problems.append(
                f"cannot go from {_label(old_status)} to {_label(status)}: "
                f"from {STATUS_LABELS[old_status][0]} the next status is {nexts}"
            )
        elif status == "dismissed" or old_status in CLOSED_STATUSES:
            given = _text(changes.get("reason")).strip()
            if not given or given == _text(case["reason"]).strip():
                what = "a dismissal (误报)" if status == "dismissed" else "reopening a closed case"
                problems.append(f"{what} needs a reason (误报/重开原因)")
        elif status == "rectified" and not (
            _text(new["rectification"]).strip() and new["rectified_on"]
        ):
            problems.append(
                "a rectified case (已整改) needs how it was rectified (整改措施) "
                "and the date (整改完成日期)"
            )
    rectified_on = new.get("rectified_on")
    if rectified_on and changes.get("rectified_on") and rectified_on > today.isoformat():
        problems.append(f"the rectification date {rectified_on} is later than today ({today})")
    deadline = changes.get("deadline")
    if deadline and deadline < case["opened_on"]:
        problems.append(
            f"the deadline {deadline} is before the case was opened ({case['opened_on']})"
        )
    return problems


def apply_change(
    conn: sqlite3.Connection,
    case: Mapping[str, Any],
    changes: Mapping[str, Any],
    *,
    at: dt.datetime,
    who: str,
    why: str,
    source: str,
    run_id: int | None = None,
) -> list[str]:
    """Write the changed fields of one case and one history row per changed field.

    No check is made here (see :func:`check_change`). A change of an editable
    field increments the case's version; a change of status sets or clears
    ``closed_on``; reopening a rectified case clears its rectification date
    (the history keeps it), so that rectifying it again needs a new one.
    Returns the names of the fields that changed.
    """
    normal = {
        key: None if key in DATE_FIELDS and not value else value for key, value in changes.items()
    }
    if case["status"] == "rectified" and normal.get("status", "rectified") != "rectified":
        normal.setdefault("rectified_on", None)
    changed = {key: value for key, value in normal.items() if value != case[key]}
    if not changed:
        return []
    values = dict(changed)
    if "status" in changed:
        closing = changed["status"] in CLOSED_STATUSES
        values["closed_on"] = at.date().isoformat() if closing else None
    if any(key in EDITABLE_FIELDS for key in changed):
        values["version"] = int(case["version"]) + 1
    assignments = ", ".join(f"{key} = ?" for key in values)
    conn.execute(
        f"UPDATE cases SET {assignments} WHERE finding_id = ?",  # keys: EDITABLE_FIELDS and ours
        (*values.values(), case["finding_id"]),
    )
    conn.executemany(
        "INSERT INTO history (finding_id, at, who, field, old, new, why, source, run_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                case["finding_id"],
                at.isoformat(),
                who,
                key,
                None if case[key] is None else str(case[key]),
                None if value is None else str(value),
                why,
                source,
                run_id,
            )
            for key, value in changed.items()
        ],
    )
    return list(changed)


def change_case(
    conn: sqlite3.Connection,
    finding_id: str,
    changes: Mapping[str, Any] | Callable[[Mapping[str, Any]], Mapping[str, Any]],
    *,
    at: dt.datetime,
    who: str,
    why: str,
    source: str,
    also_check: Callable[[Mapping[str, Any]], list[str]] | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """A person's change of one case, inside the caller's write transaction: check, then apply.

    The one path of :func:`campus_geo.ledger.set_case` and of the actions
    (抄告, 督办, 联合整改): the case is named by its id or a unique prefix, the
    change is checked against the workflow (:func:`check_change`) and by
    `also_check` (given the case as stored), a status change clears the
    sync's flag, and :func:`apply_change` writes it with its history.
    `changes` may be a function of the case as stored (read inside the
    transaction, so that a change built on the current value loses no update).
    With `expected_version` (the ``version`` the person saw), a case changed
    since by anyone is refused with :class:`~campus_geo._errors.ConflictError`.

    Returns
    -------
    dict
        The case after the change.

    Raises
    ------
    ConflictError
        The case's version is no longer `expected_version`.
    LedgerError
        Unknown case, or the problems found (the message ends "nothing was changed").
    """
    fid = resolve_case_id(conn, finding_id)
    case = dict(conn.execute("SELECT * FROM cases WHERE finding_id = ?", (fid,)).fetchone())
    if expected_version is not None and int(case["version"]) != int(expected_version):
        raise _conflict(conn, case, int(expected_version))
    if callable(changes):
        changes = changes(case)
    problems = check_change(case, changes, today=at.date())
    if also_check is not None:
        problems += also_check(case)
    if problems:
        msg = f"case {fid}: " + "; ".join(problems) + "; nothing was changed"
        raise LedgerError(msg)
    normal = dict(changes)
    if normal.get("status", case["status"]) != case["status"]:
        normal["flag"] = ""
    apply_change(conn, case, normal, at=at, who=who, why=why, source=source)
    return dict(conn.execute("SELECT * FROM cases WHERE finding_id = ?", (fid,)).fetchone())


def _conflict(conn: sqlite3.Connection, case: Mapping[str, Any], expected: int) -> ConflictError:
    last = conn.execute(
        "SELECT at, who, source FROM history WHERE finding_id = ? AND field IN "
        f"({', '.join('?' * len(EDITABLE_FIELDS))}) ORDER BY history_id DESC LIMIT 1",
        (case["finding_id"], *EDITABLE_FIELDS),
    ).fetchone()
    by = f" (last change: {last['who']}, {last['at']}, {last['source']})" if last else ""
    msg = (
        f"case {case['finding_id']} was changed by someone else after you opened it: you edited "
        f"version {expected}, it is now version {case['version']}{by}; nothing was changed. "
        "Reload the case, check the other change and make yours again"
    )
    return ConflictError(msg)


def with_overdue(cases: pd.DataFrame, today: dt.date) -> pd.DataFrame:
    """Copy of `cases` with ``overdue`` (open and `today` after the deadline) and ``days_overdue``.

    Examples
    --------
    >>> cases = pd.DataFrame({"status": ["pending", "rectified", "in_progress"],
    ...                       "deadline": ["2023-07-05", "2023-07-05", None]})
    >>> with_overdue(cases, dt.date(2023, 7, 8))[["overdue", "days_overdue"]].values.tolist()
    [[True, 3], [False, 0], [False, 0]]
    """
    deadline = pd.to_datetime(cases["deadline"], format="%Y-%m-%d")
    days = (pd.Timestamp(today) - deadline).dt.days.fillna(0).astype("int64")
    overdue = cases["status"].isin(OPEN_STATUSES) & (days > 0)
    out = cases.copy()
    out["overdue"] = overdue.astype(bool)
    out["days_overdue"] = days.where(overdue, 0)
    return out
