"""The ledger's vocabulary and schema: statuses, transitions, fields, and the SQL of each version.

Kept apart from :mod:`campus_geo.ledger.db` (connections, transactions and the
checked changes), which imports it: the statuses and the rules of who may move a
case where (:data:`TRANSITIONS`), the fields people edit and their labels, and
:data:`MIGRATIONS`, one SQL script per schema version (see
:mod:`campus_geo.ledger.db` for what each version adds).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "APPLICATION_ID",
    "CASES_QUERY",
    "CLOSED_STATUSES",
    "DATE_FIELDS",
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
]

#: Case statuses with their (Chinese, English) labels, in workflow order.
STATUS_LABELS: Final[dict[str, tuple[str, str]]] = {
    "pending": ("待核查", "pending"),
    "confirmed": ("已确认", "confirmed"),
    "dismissed": ("误报", "dismissed"),
    "in_progress": ("整改中", "in progress"),
    "rectified": ("已整改", "rectified"),
    "resolved": ("复查已消除", "resolved in data"),
}
STATUSES: Final = tuple(STATUS_LABELS)
#: Statuses of cases still to be worked on (they can become overdue).
OPEN_STATUSES: Final = ("pending", "confirmed", "in_progress")
#: Statuses of closed cases.
CLOSED_STATUSES: Final = ("dismissed", "rectified", "resolved")
#: Label of the derived state "open and past its deadline" (never stored).
OVERDUE_LABEL: Final = ("逾期", "overdue")
#: Flags that a screening sync sets on a case it reopens.
FLAG_LABELS: Final[dict[str, tuple[str, str]]] = {
    "": ("", ""),
    "reopened": ("整改后复查仍存在", "still found after rectification"),
    "reappeared": ("复查消除后重新出现", "found again after it was resolved"),
}

#: Status changes a person may make (command line, Excel import, API).
#: A screening sync also closes open cases as ``resolved`` and reopens
#: ``rectified`` (to ``in_progress``) and ``resolved`` (to ``pending``) cases.
TRANSITIONS: Final[dict[str, tuple[str, ...]]] = {
    "pending": ("confirmed", "dismissed"),
    "confirmed": ("in_progress", "rectified", "dismissed"),
    "in_progress": ("rectified",),
    "rectified": ("in_progress",),
    "dismissed": ("pending",),
    "resolved": ("pending",),
}

#: Fields of a case that people edit; a change to any of them increments the
#: case's ``version`` (which the Excel import uses to detect conflicts).
EDITABLE_FIELDS: Final = (
    "status",
    "responsible_unit",
    "responsible_person",
    "deadline",
    "reason",
    "rectification",
    "rectified_on",
    "notes",
)
DATE_FIELDS: Final = ("deadline", "rectified_on", "supervised_on", "absent_since")

#: (Chinese, English) names of the fields recorded in the history table.
FIELD_LABELS: Final[dict[str, tuple[str, str]]] = {
    "status": ("状态", "status"),
    "flag": ("标记", "flag"),
    "responsible_unit": ("责任单位", "responsible unit"),
    "responsible_person": ("责任人", "responsible person"),
    "deadline": ("整改时限", "deadline"),
    "reason": ("误报/重开原因", "reason"),
    "rectification": ("整改措施", "rectification"),
    "rectified_on": ("整改完成日期", "rectified on"),
    "notes": ("备注", "notes"),
    "school_name": ("学校名称", "school"),
    "township": ("乡镇（街道）", "township"),
    "village": ("村（社区）", "village"),
    "hazard_name": ("场所名称", "hazard"),
    "category": ("问题类别", "category"),
    "severity": ("严重程度", "severity"),
    "distance_m": ("量算距离（米）", "distance (m)"),
    "threshold_m": ("规定距离（米）", "limit (m)"),
    "lead_unit": ("牵头单位", "lead unit"),
    "lead_units": ("牵头单位（全部）", "lead units (all)"),
    "enforcing_unit": ("执法单位", "enforcing unit"),
    "participating_units": ("配合单位", "participating units"),
    "copied_to": ("抄告单位", "copied to"),
    "supervisor": ("督办单位", "supervised by"),
    "supervised_on": ("督办日期", "supervised on"),
    "joint_units": ("联合整改单位", "joint rectification with"),
    "absent_since": ("筛查未再发现", "not found by screening since"),
    "attachment": ("附件（SHA-256）", "attachment (SHA-256)"),
}

#: Schema version written by this campus_geo.
SCHEMA_VERSION: Final = 3
#: ``PRAGMA application_id`` of a campus_geo ledger ("CGLG").
APPLICATION_ID: Final = 0x43474C47

_STATUS_CHECK = ", ".join(f"'{s}'" for s in STATUSES)
_FLAG_CHECK = ", ".join(f"'{f}'" for f in FLAG_LABELS)

#: Schema scripts: version -> the SQL that brings version - 1 to it.
MIGRATIONS: Final[dict[int, str]] = {
    1: f"""
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
CREATE TABLE runs (
    run_id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    source TEXT NOT NULL,
    findings_digest TEXT NOT NULL,
    inputs TEXT NOT NULL,
    n_findings INTEGER NOT NULL,
    partial INTEGER NOT NULL,
    opened INTEGER NOT NULL DEFAULT 0,
    closed INTEGER NOT NULL DEFAULT 0,
    reopened INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE TABLE cases (
    finding_id TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ({_STATUS_CHECK})),
    flag TEXT NOT NULL DEFAULT '' CHECK (flag IN ({_FLAG_CHECK})),
    school_id TEXT NOT NULL,
    school_name TEXT NOT NULL,
    township TEXT NOT NULL,
    village TEXT NOT NULL,
    hazard_id TEXT NOT NULL,
    hazard_name TEXT NOT NULL,
    category TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    severity TEXT NOT NULL,
    distance_m REAL NOT NULL,
    threshold_m REAL NOT NULL,
    lead_units TEXT NOT NULL,
    lead_unit TEXT NOT NULL,
    responsible_unit TEXT NOT NULL,
    responsible_person TEXT NOT NULL DEFAULT '',
    deadline TEXT CHECK (deadline IS NULL OR deadline = date(deadline)),
    reason TEXT NOT NULL DEFAULT '',
    rectification TEXT NOT NULL DEFAULT '',
    rectified_on TEXT CHECK (rectified_on IS NULL OR rectified_on = date(rectified_on)),
    notes TEXT NOT NULL DEFAULT '',
    opened_on TEXT NOT NULL CHECK (opened_on = date(opened_on)),
    opened_run INTEGER REFERENCES runs (run_id),
    closed_on TEXT CHECK (closed_on IS NULL OR closed_on = date(closed_on)),
    version INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX cases_status ON cases (status);
CREATE TABLE history (
    history_id INTEGER PRIMARY KEY AUTOINCREMENT,
    finding_id TEXT NOT NULL REFERENCES cases (finding_id),
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    field TEXT NOT NULL,
    old TEXT,
    new TEXT,
    why TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL,
    run_id INTEGER REFERENCES runs (run_id)
) STRICT;
CREATE INDEX history_case ON history (finding_id, history_id);
CREATE TRIGGER history_no_update BEFORE UPDATE ON history
BEGIN
    SELECT RAISE(ABORT, 'the ledger history is append-only');
END;
CREATE TRIGGER history_no_delete BEFORE DELETE ON history
BEGIN
    SELECT RAISE(ABORT, 'the ledger history is append-only');
END;
CREATE TRIGGER cases_no_delete BEFORE DELETE ON cases
BEGIN
    SELECT RAISE(ABORT, 'ledger cases are closed, never deleted');
END;
""",
    2: """
ALTER TABLE cases ADD COLUMN enforcing_unit TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN participating_units TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN copied_to TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN supervisor TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN supervised_on TEXT
    CHECK (supervised_on IS NULL OR supervised_on IS date(supervised_on));
ALTER TABLE cases ADD COLUMN joint_units TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN absent_since TEXT
    CHECK (absent_since IS NULL OR absent_since IS date(absent_since));
ALTER TABLE runs ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
CREATE TABLE reports (
    report_id INTEGER PRIMARY KEY,
    month TEXT NOT NULL CHECK (month GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]'),
    kind TEXT NOT NULL CHECK (kind IN ('unit', 'township')),
    name TEXT NOT NULL CHECK (name <> ''),
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    source TEXT NOT NULL
) STRICT;
CREATE INDEX reports_month ON reports (month, kind, name);
CREATE TRIGGER reports_no_update BEFORE UPDATE ON reports
BEGIN
    SELECT RAISE(ABORT, 'the record of reports is append-only');
END;
CREATE TRIGGER reports_no_delete BEFORE DELETE ON reports
BEGIN
    SELECT RAISE(ABORT, 'the record of reports is append-only');
END;
""",
    3: """
CREATE TABLE attachments (
    attachment_id INTEGER PRIMARY KEY,
    finding_id TEXT NOT NULL REFERENCES cases (finding_id),
    sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
    filename TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL CHECK (size > 0),
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    who TEXT NOT NULL
) STRICT;
CREATE INDEX attachments_case ON attachments (finding_id, attachment_id);
CREATE INDEX cases_township ON cases (township, school_name);
CREATE INDEX cases_deadline ON cases (deadline);
CREATE TRIGGER attachments_no_update BEFORE UPDATE ON attachments
BEGIN
    SELECT RAISE(ABORT, 'the record of attachments is append-only');
END;
""",
}

#: Every case, in the order of lists and exports: township, school, rule, distance.
CASES_QUERY: Final = (
    "SELECT * FROM cases ORDER BY township, school_name, school_id, rule_id, distance_m, finding_id"
)
