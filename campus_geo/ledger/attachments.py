"""Files attached to cases: rectification photos and scans, content-addressed beside the ledger.

A unit records what it did with photos (before, after) and documents (the
整改通知书 it served, scanned). Each file is stored once under its SHA-256 in
the folder ``<ledger stem>_files`` beside the ledger
(``ledger_files/ab/ab12...ef.jpg``), so the same photo attached twice is one
file, a file's name says what it holds, and no name given by a user ever
becomes a path. The ledger keeps one row per attachment (table
``attachments``, append-only) and one history row (field ``attachment``, the
SHA-256 as its new value, the file name as why) written in the same
transaction, so the history says who attached what, when.

The type is judged by the content (the first bytes), never by the name or
the type the browser claims: JPEG, PNG, WebP and PDF are accepted, up to
:data:`MAX_ATTACHMENT_BYTES`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Final

from campus_geo._errors import LedgerError
from campus_geo.ledger.db import (
    as_of,
    connect,
    default_who,
    resolve_case_id,
    write_transaction,
)

__all__ = [
    "ATTACHMENT_KINDS",
    "ATTACHMENT_TYPES",
    "MAX_ATTACHMENT_BYTES",
    "add_attachment",
    "attachment_path",
    "attachments_dir",
    "check_attachment",
    "read_attachments",
    "sniff_media_type",
]

log = logging.getLogger(__name__)

#: Largest file accepted (bytes): a phone photo or a multi-page scan.
MAX_ATTACHMENT_BYTES: Final = 10 * 1024 * 1024
#: Accepted media types and the extension of their stored file.
ATTACHMENT_TYPES: Final[dict[str, str]] = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
}
#: What an attachment shows (Chinese, English).
ATTACHMENT_KINDS: Final[dict[str, tuple[str, str]]] = {
    "before": ("整改前照片", "photo before"),
    "after": ("整改后照片", "photo after"),
    "notice": ("整改通知书", "rectification notice"),
    "other": ("其他材料", "other document"),
}
_SHA_RE: Final = re.compile(r"^[0-9a-f]{64}$")


def sniff_media_type(data: bytes) -> str | None:
    """The media type of `data` judged by its first bytes (None: not an accepted type).

    Examples
    --------
    >>> sniff_media_type(b"%PDF-1.7 ..."), sniff_media_type(b"\\x89PNG\\r\\n\\x1a\\n...")
    ('application/pdf', 'image/png')
    >>> sniff_media_type(b"<html><script>") is None
    True
    """
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def attachments_dir(ledger_path: str | Path) -> Path:
    """The folder of a ledger's attachments: ``<ledger stem>_files`` beside it."""
    path = Path(ledger_path)
    return path.with_name(f"{path.stem}_files")


def attachment_path(ledger_path: str | Path, sha256: str, media_type: str) -> Path:
    """Where the file with this SHA-256 and media type is stored (inside :func:`attachments_dir`).

    Raises
    ------
    LedgerError
        `sha256` is not 64 lower-case hex digits or the type is not accepted
        (so no value from a request can point outside the folder).
    """
    if not _SHA_RE.match(sha256) or media_type not in ATTACHMENT_TYPES:
        msg = f"not an attachment: {sha256!r} ({media_type!r})"
        raise LedgerError(msg)
    return attachments_dir(ledger_path) / sha256[:2] / f"{sha256}{ATTACHMENT_TYPES[media_type]}"


def _store(target: Path, data: bytes) -> None:
    """Write `data` to `target` atomically (a temporary file renamed), unless it is there."""
    if target.is_file() and target.stat().st_size == len(data):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).replace(target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_attachment(data: bytes, *, filename: str, kind: str = "other") -> str:
    """The media type of an acceptable attachment; LedgerError with every problem otherwise.

    Checked before anything is changed: not empty, at most
    :data:`MAX_ATTACHMENT_BYTES`, a JPEG, PNG, WebP or PDF by its content, a known kind.
    """
    media_type = sniff_media_type(data)
    problems = []
    if not data:
        problems.append("the file is empty")
    elif len(data) > MAX_ATTACHMENT_BYTES:
        problems.append(
            f"the file is {len(data) / 1048576:.1f} MB; at most "
            f"{MAX_ATTACHMENT_BYTES // 1048576} MB is accepted"
        )
    elif media_type is None:
        problems.append("its content is not a JPEG, PNG or WebP photo or a PDF document")
    if kind not in ATTACHMENT_KINDS:
        problems.append(f"unknown kind {kind!r}; expected one of {', '.join(ATTACHMENT_KINDS)}")
    if problems or media_type is None:
        msg = f"attachment {filename!r}: " + "; ".join(problems) + "; nothing was stored"
        raise LedgerError(msg)
    return media_type


def add_attachment(
    ledger_path: str | Path,
    finding_id: str,
    data: bytes,
    *,
    filename: str,
    kind: str = "other",
    who: str | None = None,
    source: str = "attach",
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Attach a file to a case: store it by its SHA-256, record it and its history row.

    Parameters
    ----------
    ledger_path
        The ledger file.
    finding_id
        The case id, or a unique prefix of at least 6 characters.
    data
        The file's bytes (its type is judged from them).
    filename
        The name it had (kept for people; never used as a path).
    kind
        One of :data:`ATTACHMENT_KINDS`.
    who
        Recorded with it and in the history (default: the login name).
    source
        The history's source.
    now
        Time (default: now).

    Returns
    -------
    dict
        The attachment's row (``sha256``, ``media_type``, ``size``, ...).

    Raises
    ------
    LedgerError
        Unknown case, empty or too large a file, a type that is not accepted,
        an unknown kind; nothing is stored then.
    """
    media_type = check_attachment(data, filename=filename, kind=kind)
    sha = hashlib.sha256(data).hexdigest()
    name = Path(filename.replace("\\", "/")).name.strip()[:200] or f"{sha[:12]}"
    at, who = as_of(now), who or default_who()
    with connect(ledger_path, check=True) as conn:
        fid = resolve_case_id(conn, finding_id)
        _store(attachment_path(ledger_path, sha, media_type), data)
        with write_transaction(conn):
            cursor = conn.execute(
                "INSERT INTO attachments (finding_id, sha256, filename, media_type, size, kind, "
                "at, who) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (fid, sha, name, media_type, len(data), kind, at.isoformat(), who),
            )
            conn.execute(
                "INSERT INTO history (finding_id, at, who, field, old, new, why, source) "
                "VALUES (?, ?, ?, 'attachment', NULL, ?, ?, ?)",
                (fid, at.isoformat(), who, sha, f"{ATTACHMENT_KINDS[kind][0]} {name}", source),
            )
            row = conn.execute(
                "SELECT * FROM attachments WHERE attachment_id = ?", (cursor.lastrowid,)
            ).fetchone()
    log.info("case %s: %s attached %s (%s)", fid, who, name, sha)
    return dict(row)


def read_attachments(
    ledger_path: str | Path, finding_id: str | None = None
) -> list[dict[str, Any]]:
    """The attachments of every case, or of one (id or unique prefix), oldest first."""
    with connect(ledger_path) as conn:
        if finding_id is None:
            rows = conn.execute("SELECT * FROM attachments ORDER BY attachment_id").fetchall()
        else:
            fid = resolve_case_id(conn, finding_id)
            rows = conn.execute(
                "SELECT * FROM attachments WHERE finding_id = ? ORDER BY attachment_id", (fid,)
            ).fetchall()
    return [dict(r) for r in rows]
