"""The rectification ledger (整改工作台帐): every finding followed until it is closed.

- :mod:`~campus_geo.ledger.cases`: the public API: sync a screening, set a case, act on
  it (抄告, 督办, 联合整改), read cases, history, runs and reports;
- :mod:`~campus_geo.ledger.db`: the SQLite file, its schema and migrations, statuses and
  the transition rules every change goes through;
- :mod:`~campus_geo.ledger.sync`: a screening's findings into cases, with a dry run and
  the guards against changed settings and mass closing;
- :mod:`~campus_geo.ledger.units`: the units of a case, a unit's own cases, the record
  of the monthly reports;
- :mod:`~campus_geo.ledger.actions`: 抄告, 督办 and 联合整改, and their map layer;
- :mod:`~campus_geo.ledger.xlsx`: the ledger as an xlsx for the offices;
- :mod:`~campus_geo.ledger.xlsx_import`: the import of their edits (also their monthly
  report);
- :mod:`~campus_geo.ledger.monthly`: the monthly progress report (due by the 5th);
- :mod:`~campus_geo.ledger.attachments`: photos and scans attached to cases, stored by
  their SHA-256 beside the ledger.
"""

from __future__ import annotations

from campus_geo.ledger.cases import (
    ACTION_LABELS,
    CLOSED_STATUSES,
    DEFAULT_DEADLINE_DAYS,
    DEFAULT_LEDGER,
    MAX_CLOSING_SHARE,
    OPEN_STATUSES,
    STATUS_LABELS,
    STATUSES,
    TRANSITIONS,
    Conflict,
    ImportResult,
    MonthlyReport,
    SyncResult,
    actions_layer,
    copy_case,
    describe_actions,
    escalate_case,
    export_ledger,
    import_ledger,
    joint_case,
    monthly_report,
    read_cases,
    read_findings,
    read_history,
    read_reports,
    read_runs,
    record_report,
    save_monthly_report,
    set_case,
    status_by_finding,
    sync_findings,
)

__all__ = [
    "ACTION_LABELS",
    "CLOSED_STATUSES",
    "DEFAULT_DEADLINE_DAYS",
    "DEFAULT_LEDGER",
    "MAX_CLOSING_SHARE",
    "OPEN_STATUSES",
    "STATUSES",
    "STATUS_LABELS",
    "TRANSITIONS",
    "Conflict",
    "ImportResult",
    "MonthlyReport",
    "SyncResult",
    "actions_layer",
    "copy_case",
    "describe_actions",
    "escalate_case",
    "export_ledger",
    "import_ledger",
    "joint_case",
    "monthly_report",
    "read_cases",
    "read_findings",
    "read_history",
    "read_reports",
    "read_runs",
    "record_report",
    "save_monthly_report",
    "set_case",
    "status_by_finding",
    "sync_findings",
]
