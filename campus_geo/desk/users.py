"""Accounts, sessions and the login audit of the review desk, in a file beside the ledger.

Where they live: ``<ledger stem>_desk.sqlite`` beside the ledger (for
``ledger.sqlite``, ``ledger_desk.sqlite``), not in the ledger itself. The
ledger is the campaign's record: it is copied, backed up, mailed to the
office and opened by every ``campus-geo ledger`` command; password hashes
and session tokens must not travel with it, and logins (one write each)
should not wait for the ledger's write lock while an import runs. What the
desk changes in cases still goes into the ledger's own history with the
user's name; this file keeps who may log in, their open sessions and every
login attempt (the audit of logins).

Passwords are hashed with Argon2id (argon2-cffi's :class:`PasswordHasher`);
session tokens are random (``secrets.token_urlsafe``) and stored only as
their SHA-256, with an absolute expiry and their own CSRF token. Failed
logins are counted per user name and per address: after
:data:`MAX_FAILURES` in :data:`FAILURE_WINDOW` the next attempts are refused
until the window has passed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from campus_geo._errors import CampusGeoError

__all__ = [
    "FAILURE_WINDOW",
    "MAX_FAILURES",
    "MIN_PASSWORD_LENGTH",
    "ROLES",
    "SESSION_LIFETIME",
    "DeskError",
    "User",
    "add_user",
    "authenticate",
    "disable_user",
    "end_session",
    "list_users",
    "read_logins",
    "reset_password",
    "session_user",
    "start_session",
    "users_path",
]

#: Roles (Chinese, English) and what they may do (enforced in :mod:`campus_geo.desk.access`).
ROLES: Final[dict[str, tuple[str, str]]] = {
    "office": ("专项办", "office"),
    "unit": ("责任单位", "unit"),
    "township": ("乡镇（街道）", "township"),
    "viewer": ("只读", "viewer"),
}
#: How long a session lasts after login (absolute, not renewed).
SESSION_LIFETIME: Final = dt.timedelta(hours=8)
#: Failed logins (per user name, and per address) that lock further attempts ...
MAX_FAILURES: Final = 5
#: ... for this long after the last of them.
FAILURE_WINDOW: Final = dt.timedelta(minutes=15)
#: Shortest password accepted.
MIN_PASSWORD_LENGTH: Final = 8

_HASHER: Final = PasswordHasher()
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY CHECK (username <> ''),
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('office', 'unit', 'township', 'viewer')),
    unit TEXT NOT NULL DEFAULT '',
    township TEXT NOT NULL DEFAULT '',
    active INTEGER NOT NULL DEFAULT 1,
    demo INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS sessions (
    token_sha256 TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES users (username),
    csrf TEXT NOT NULL,
    created TEXT NOT NULL,
    expires TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS logins (
    login_id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    username TEXT NOT NULL,
    address TEXT NOT NULL,
    event TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS logins_user ON logins (username, at);
CREATE INDEX IF NOT EXISTS logins_address ON logins (address, at);
"""


class DeskError(CampusGeoError):
    """An account operation is refused (unknown user, bad role, short password, locked login)."""


@dataclass(frozen=True)
class User:
    """A desk account: its role and, for unit and township users, which unit or township."""

    username: str
    role: str
    unit: str = ""
    township: str = ""
    active: bool = True
    demo: bool = False

    @property
    def can_write(self) -> bool:
        """Whether the role changes cases at all (the viewer does not)."""
        return self.role != "viewer"


def users_path(ledger_path: str | Path) -> Path:
    """The accounts file of a ledger: ``<ledger stem>_desk.sqlite`` beside it."""
    path = Path(ledger_path)
    return path.with_name(f"{path.stem}_desk.sqlite")


@contextmanager
def _open(ledger_path: str | Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(users_path(ledger_path), timeout=30.0, isolation_level=None)
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        if int(conn.execute("PRAGMA user_version").fetchone()[0]) < 1:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("PRAGMA user_version = 1")
            conn.execute("COMMIT")
        yield conn
    finally:
        conn.close()


def _now(now: dt.datetime | None) -> dt.datetime:
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)


def _check_account(role: str, unit: str, township: str, password: str) -> None:
    problems = []
    if role not in ROLES:
        problems.append(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if role == "unit" and not unit.strip():
        problems.append("a unit user needs --unit (e.g. 区公安局)")
    if role == "township" and not township.strip():
        problems.append("a township user needs --township (e.g. 杏花乡)")
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if problems:
        raise DeskError("; ".join(problems))


def add_user(
    ledger_path: str | Path,
    username: str,
    password: str,
    *,
    role: str,
    unit: str = "",
    township: str = "",
    demo: bool = False,
    now: dt.datetime | None = None,
) -> User:
    """Create an account (the password is stored as an Argon2id hash only).

    A `demo` account's password is published (``campus-geo demo`` writes it
    out): ``campus-geo serve`` refuses to listen on any address but
    127.0.0.1 while an active demo account exists.

    Raises
    ------
    DeskError
        The name is taken, the role unknown, a unit/township missing, the password short.
    """
    name = username.strip()
    _check_account(role, unit, township, password)
    with _open(ledger_path) as conn:
        if conn.execute("SELECT 1 FROM users WHERE username = ?", (name,)).fetchone():
            msg = f"the user {name!r} exists; use `campus-geo serve users reset` for a new password"
            raise DeskError(msg)
        conn.execute(
            "INSERT INTO users (username, password_hash, role, unit, township, demo, created) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                name,
                _HASHER.hash(password),
                role,
                unit.strip(),
                township.strip(),
                int(demo),
                _now(now).isoformat(),
            ),
        )
        conn.execute(
            "INSERT INTO logins (at, username, address, event) VALUES (?, ?, 'cli', 'created')",
            (_now(now).isoformat(), name),
        )
    return User(name, role, unit.strip(), township.strip(), demo=demo)


def _set(
    ledger_path: str | Path, username: str, sql: str, params: tuple[object, ...], event: str
) -> None:
    with _open(ledger_path) as conn:
        conn.execute("BEGIN IMMEDIATE")
        cursor = conn.execute(sql, (*params, username))
        if cursor.rowcount != 1:
            conn.execute("ROLLBACK")
            msg = f"there is no user {username!r}; `campus-geo serve users list` shows them"
            raise DeskError(msg)
        conn.execute("DELETE FROM sessions WHERE username = ?", (username,))
        conn.execute(
            "INSERT INTO logins (at, username, address, event) VALUES (?, ?, 'cli', ?)",
            (_now(None).isoformat(), username, event),
        )
        conn.execute("COMMIT")


def disable_user(ledger_path: str | Path, username: str) -> None:
    """Disable an account and end its sessions (the account and its audit are kept)."""
    _set(ledger_path, username, "UPDATE users SET active = 0 WHERE username = ?", (), "disabled")


def reset_password(ledger_path: str | Path, username: str, password: str) -> None:
    """Give an account a new password, enable it, and end its sessions."""
    if len(password) < MIN_PASSWORD_LENGTH:
        msg = f"the password needs at least {MIN_PASSWORD_LENGTH} characters"
        raise DeskError(msg)
    _set(
        ledger_path,
        username,
        "UPDATE users SET password_hash = ?, active = 1, demo = 0 WHERE username = ?",
        (_HASHER.hash(password),),
        "password reset",
    )


def list_users(ledger_path: str | Path) -> list[User]:
    """Every account, by name."""
    with _open(ledger_path) as conn:
        rows = conn.execute("SELECT * FROM users ORDER BY username").fetchall()
    return [_user(r) for r in rows]


def _user(row: sqlite3.Row) -> User:
    return User(
        row["username"],
        row["role"],
        row["unit"],
        row["township"],
        bool(row["active"]),
        bool(row["demo"]),
    )


def authenticate(
    ledger_path: str | Path,
    username: str,
    password: str,
    *,
    address: str,
    now: dt.datetime | None = None,
) -> User | None:
    """The user when the password is right; None otherwise. Every attempt is audited.

    Raises
    ------
    DeskError
        Too many failed attempts for this name or from this address in
        :data:`FAILURE_WINDOW` (the attempt is refused without checking).
    """
    at = _now(now)
    since = (at - FAILURE_WINDOW).isoformat()
    name = username.strip()
    with _open(ledger_path) as conn:
        failures = conn.execute(
            "SELECT (SELECT count(*) FROM logins WHERE username = ? AND event = 'failed' "
            "AND at > ?), (SELECT count(*) FROM logins WHERE address = ? AND event = 'failed' "
            "AND at > ?)",
            (name, since, address, since),
        ).fetchone()
        if max(failures) >= MAX_FAILURES:
            conn.execute(
                "INSERT INTO logins (at, username, address, event) VALUES (?, ?, ?, 'locked')",
                (at.isoformat(), name, address),
            )
            msg = f"too many failed logins; try again in {FAILURE_WINDOW.seconds // 60} minutes"
            raise DeskError(msg)
        row = conn.execute("SELECT * FROM users WHERE username = ?", (name,)).fetchone()
        ok = False
        if row is not None and row["active"]:
            try:
                ok = _HASHER.verify(row["password_hash"], password)
            except (VerificationError, InvalidHashError):
                ok = False
        conn.execute(
            "INSERT INTO logins (at, username, address, event) VALUES (?, ?, ?, ?)",
            (at.isoformat(), name, address, "login" if ok else "failed"),
        )
    return _user(row) if ok and row is not None else None


def start_session(
    ledger_path: str | Path, user: User, *, now: dt.datetime | None = None
) -> tuple[str, str]:
    """A new session for `user`: (token for the cookie, CSRF token for its forms)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    at = _now(now)
    with _open(ledger_path) as conn:
        conn.execute("DELETE FROM sessions WHERE expires < ?", (at.isoformat(),))
        conn.execute(
            "INSERT INTO sessions (token_sha256, username, csrf, created, expires) VALUES (?, ?, ?, ?, ?)",
            (
                hashlib.sha256(token.encode()).hexdigest(),
                user.username,
                csrf,
                at.isoformat(),
                (at + SESSION_LIFETIME).isoformat(),
            ),
        )
    return token, csrf


def session_user(
    ledger_path: str | Path, token: str, *, now: dt.datetime | None = None
) -> tuple[User, str] | None:
    """The (user, CSRF token) of a live session of an active account; None otherwise."""
    if not token:
        return None
    with _open(ledger_path) as conn:
        row = conn.execute(
            "SELECT u.*, s.csrf FROM sessions s JOIN users u USING (username) "
            "WHERE s.token_sha256 = ? AND s.expires > ? AND u.active = 1",
            (hashlib.sha256(token.encode()).hexdigest(), _now(now).isoformat()),
        ).fetchone()
    return None if row is None else (_user(row), str(row["csrf"]))


def end_session(ledger_path: str | Path, token: str, *, address: str = "") -> None:
    """Log out: the session is deleted and the logout audited."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    with _open(ledger_path) as conn:
        row = conn.execute(
            "SELECT username FROM sessions WHERE token_sha256 = ?", (digest,)
        ).fetchone()
        conn.execute("DELETE FROM sessions WHERE token_sha256 = ?", (digest,))
        if row is not None:
            conn.execute(
                "INSERT INTO logins (at, username, address, event) VALUES (?, ?, ?, 'logout')",
                (_now(None).isoformat(), row["username"], address),
            )


def read_logins(ledger_path: str | Path) -> list[dict[str, str]]:
    """The login audit, oldest first: at, username, address, event."""
    with _open(ledger_path) as conn:
        rows = conn.execute("SELECT at, username, address, event FROM logins ORDER BY login_id")
        return [dict(r) for r in rows]
