"""The labels of a ledger's categories, a user's own among them.

The default rule table's categories have their Chinese and English labels in
:data:`campus_geo.settings.CATEGORY_LABELS`. A category a user's rule table adds
(电竞酒店 in a TOML of their own) is known to the screening but not to a ledger
read later without that table, so lists, exports and the monthly report showed
its key. A screening synced into a ledger records the labels of such categories
in the ledger (table ``meta``, key ``category_labels``); readers merge them with
the defaults (:func:`read_category_labels`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

from campus_geo.ledger.db import connect, write_transaction
from campus_geo.settings import CATEGORY_LABELS

__all__ = ["read_category_labels", "record_category_labels"]

_KEY: Final = "category_labels"


def record_category_labels(
    ledger_path: str | Path, labels: Mapping[str, tuple[str, str]], keys: Iterable[str]
) -> dict[str, tuple[str, str]]:
    """Keep in the ledger the labels of the categories `keys` that the default table lacks.

    Parameters
    ----------
    ledger_path
        The ledger (it must exist: call after a sync).
    labels
        Category key -> (Chinese, English) label, e.g. ``CategoryRegistry.labels``.
    keys
        The categories of the screening's findings.

    Returns
    -------
    dict
        The labels recorded now (empty when every key is a default category).
    """
    new = {
        k: (labels[k][0], labels[k][1])
        for k in sorted(set(map(str, keys)))
        if k in labels and k not in CATEGORY_LABELS
    }
    if not new:
        return {}
    with connect(ledger_path, check=True) as conn, write_transaction(conn):
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (_KEY,)).fetchone()
        stored = json.loads(row[0]) if row else {}
        stored.update({k: list(v) for k, v in new.items()})
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
            (_KEY, json.dumps(stored, ensure_ascii=False, sort_keys=True)),
        )
    return new


def read_category_labels(ledger_path: str | Path) -> dict[str, tuple[str, str]]:
    """Category key -> (Chinese, English) label: the defaults and those the ledger recorded."""
    with connect(ledger_path) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (_KEY,)).fetchone()
    stored = json.loads(row[0]) if row else {}
    return {**{k: (v[0], v[1]) for k, v in stored.items()}, **CATEGORY_LABELS}
