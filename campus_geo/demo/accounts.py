"""Demo accounts of the review desk: the office and three units, on the demo ledger.

Their passwords are published (written to ``desk_accounts.txt`` in the demo
output and in the README), so the accounts are marked as demo accounts and
``campus-geo serve`` refuses to listen on any address but 127.0.0.1 while
one of them is active.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from campus_geo.desk.users import add_user, list_users, users_path

__all__ = ["DEMO_ACCOUNTS", "save_demo_accounts"]

#: user name -> (role, unit, password): published, for the demo only.
DEMO_ACCOUNTS: Final[dict[str, tuple[str, str, str]]] = {
    "office": ("office", "", "demo-office-2023"),
    "police": ("unit", "区公安局", "demo-police-2023"),
    "market": ("unit", "区市场监督管理局", "demo-market-2023"),
    "culture": ("unit", "区文化广电和旅游局", "demo-culture-2023"),
}


def save_demo_accounts(ledger_path: str | Path, filepath: str | Path) -> Path:
    """Create the demo accounts beside `ledger_path` (afresh) and list them in `filepath`."""
    users_path(ledger_path).unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(f"{users_path(ledger_path)}{suffix}").unlink(missing_ok=True)
    for name, (role, unit, password) in DEMO_ACCOUNTS.items():
        add_user(ledger_path, name, password, role=role, unit=unit, demo=True)
    lines = [
        "Demo accounts of the review desk (published passwords: 127.0.0.1 only)",
        f"campus-geo serve --ledger {ledger_path}",
        "",
    ]
    lines += [
        f"{u.username}\t{DEMO_ACCOUNTS[u.username][2]}\t{u.role}\t{u.unit}"
        for u in list_users(ledger_path)
    ]
    path = Path(filepath)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
