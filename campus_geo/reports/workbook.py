"""Byte-reproducible xlsx output.

openpyxl stamps the workbook's created/modified time into docProps/core.xml and
the current time into every zip entry, so two saves of the same workbook differ.
Forms and demo data must be reproducible (same inputs, same bytes), so the
workbook is saved to memory and re-zipped with fixed metadata.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path
from typing import Any

__all__ = ["save_workbook_reproducibly"]

_EPOCH = dt.datetime(2000, 1, 1, 0, 0, 0)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def save_workbook_reproducibly(
    wb: Any, filepath: str | Path, *, timestamp: dt.datetime | None = None
) -> Path:
    """Save an openpyxl workbook so that the same content always gives the same bytes.

    Parameters
    ----------
    wb
        An ``openpyxl.Workbook``.
    filepath
        Where to write the .xlsx file.
    timestamp
        Creation/modification time written into the document properties;
        a fixed date when None.
    """
    stamp = timestamp or _EPOCH
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.creator = "campus_geo"
    wb.properties.lastModifiedBy = "campus_geo"
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(buf) as zin,
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zout,
    ):
        for item in zin.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            data = zin.read(item.filename)
            if item.filename == "docProps/core.xml":
                # openpyxl sets "modified" to the save time whatever we asked for
                data = _MODIFIED.sub(
                    rb"\g<1>" + stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>", data
                )
            zout.writestr(info, data)
    path = Path(filepath)
    path.write_bytes(out.getvalue())
    return path
