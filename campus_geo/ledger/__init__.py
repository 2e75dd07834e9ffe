"""The rectification ledger (整改工作台帐): every finding followed until it is closed.

- :mod:`~campus_geo.ledger.cases`: the public API: sync a screening, set a case, read
  cases, history and runs;
- :mod:`~campus_geo.ledger.db`: the SQLite file, its schema and migrations, statuses and
  the transition rules every change goes through;
- :mod:`~campus_geo.ledger.xlsx`: the ledger as an xlsx for the offices, and the import
  of their edits;
- :mod:`~campus_geo.ledger.monthly`: the monthly progress report (due by the 5th).
"""

from __future__ import annotations

from campus_geo.ledger.cases import (
    CLOSED_STATUSES,
    DEFAULT_DEADLINE_DAYS,
    DEFAULT_LEDGER,
    OPEN_STATUSES,
    STATUS_LABELS,
    STATUSES,
    TRANSITIONS,
    Conflict,
    ImportResult,
    MonthlyReport,
    SyncResult,
    export_ledger,
    import_ledger,
    monthly_report,
    read_cases,
    read_findings,
    read_history,
    read_runs,
    save_monthly_report,
    set_case,
    status_by_finding,
    sync_findings,
)

__all__ = [
    "CLOSED_STATUSES",
    "DEFAULT_DEADLINE_DAYS",
    "DEFAULT_LEDGER",
    "OPEN_STATUSES",
    "STATUSES",
    "STATUS_LABELS",
    "TRANSITIONS",
    "Conflict",
    "ImportResult",
    "MonthlyReport",
    "SyncResult",
    "export_ledger",
    "import_ledger",
    "monthly_report",
    "read_cases",
    "read_findings",
    "read_history",
    "read_runs",
    "save_monthly_report",
    "set_case",
    "status_by_finding",
    "sync_findings",
]
