"""Reading the tables that offices hand over: CSV in any Chinese encoding, xlsx with title rows.

Private to :mod:`campus_geo.registry` and :mod:`campus_geo.roster`. Three things
go wrong with such files and are handled here, never silently:

- **Encoding.** Chinese offices export CSV as UTF-8 (with or without BOM),
  GBK or GB18030, sometimes UTF-16 ("Unicode text"). A byte-order mark decides
  first; then a strict UTF-8 decode (UTF-8 is self-validating: Chinese text in
  GBK essentially never decodes as UTF-8); then GB18030, but only when
  charset-normalizer (a maintained detector that measures how plausible each
  decoding is) agrees that the bytes are GB text. A file that is none of them
  (Big5, Latin-1, EUC-KR, binary) is refused with the detector's guess and the
  fix, and a GB file with UTF-8 lines pasted in is refused naming the line: a
  wrong guess would silently turn every name into mojibake.
- **Header row.** The header is the first row (within the first 30) that
  names at least two known columns including a required one; title rows
  above it (a merged 青禾区市场主体名录 banner) are skipped. In a workbook the
  first sheet that has such a header is read.
- **Row numbers.** Every row keeps the number a spreadsheet shows for it (the
  header of a plain CSV is row 1), so rejects can name it.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from campus_geo._errors import InputDataError

__all__ = [
    "RawTable",
    "cell_text",
    "decode_text",
    "match_columns",
    "normalise_header",
    "parse_lonlat",
    "read_table",
    "system_from_header",
    "text_column",
]

log = logging.getLogger(__name__)

#: Rows searched for the header row.
_HEADER_SCAN: Final = 30
_DELIMITERS: Final = (",", "\t", ";", "|")
_GB_FAMILY: Final = frozenset({"gb18030", "gbk", "gb2312", "cp936"})
#: Bytes of a file that charset-normalizer judges.
_SAMPLE_BYTES: Final = 256 * 1024
#: Chaos (charset-normalizer's mess ratio) within which two readings count as tied.
_CHAOS_TIE: Final = 0.005
_BOMS: Final = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_BRACKETED: Final = re.compile(r"[(\[（【].*?[)\]）】]")


@dataclass(frozen=True)
class RawTable:
    """The cells of one table as read, with their spreadsheet row numbers.

    Attributes
    ----------
    path
        The file read.
    sheet
        The worksheet read (xlsx), else None.
    encoding
        The encoding the CSV was decoded with, else None.
    header_row
        Spreadsheet row number of the header.
    columns
        Header texts, as written (stripped).
    frame
        One row per data row (blank rows skipped), cells as read (str for
        CSV; str, int, float or None for xlsx), index = spreadsheet row number.
    """

    path: Path
    sheet: str | None
    encoding: str | None
    header_row: int
    columns: list[str]
    frame: pd.DataFrame


def _detector_verdict(data: bytes) -> tuple[bool, str | None, float]:
    """Whether charset-normalizer finds GB text as plausible as any reading of `data`.

    Returns (GB is among the best readings, the best reading's encoding, its
    chaos). Very short Chinese samples are ambiguous (UTF-16, CP949 and GB18030
    tie at chaos 0): a tie goes to GB18030, the encoding of Chinese offices.
    """
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    if not matches:
        return False, None, 1.0
    best = min(matches, key=lambda m: m.chaos)
    gb = [m.chaos for m in matches if _canonical(m.encoding) in _GB_FAMILY]
    return bool(gb) and min(gb) <= best.chaos + _CHAOS_TIE, _canonical(best.encoding), best.chaos


def _canonical(encoding: str) -> str:
    return encoding.lower().replace("-", "").replace("_", "")


def _mixed_lines(data: bytes) -> tuple[int, int] | None:
    """First UTF-8 and first non-UTF-8 line (1-based) of bytes that mix both, else None."""
    utf8 = other = 0
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            other = other or number
        else:
            utf8 = utf8 or number
        if utf8 and other:
            return utf8, other
    return None


def _mixed_utf8_line(text: str) -> int | None:
    """1-based number of the first line of a GB-decoded text that was really UTF-8."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.isascii():
            continue
        raw = line.encode("gb18030")
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        return number
    return None


def decode_text(data: bytes, *, path: str | Path = "<bytes>") -> tuple[str, str]:
    """Decode the bytes of a text table; return the text and the encoding used.

    Raises
    ------
    InputDataError
        When the bytes are neither UTF-8/UTF-16 (with BOM) nor GB text by
        charset-normalizer's judgement, or mix GB and UTF-8 lines.

    Examples
    --------
    >>> decode_text("名称,经度\\n张记网吧,113.85\\n".encode("gbk"))[1]
    'gb18030'
    >>> decode_text("名称,经度\\n张记网吧,113.85\\n".encode("utf-8-sig"))[1]
    'utf-8-sig'
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                msg = (
                    f"{path}: starts with a {encoding} byte-order mark but is not valid "
                    f"{encoding} (byte {exc.start}); save it again as CSV UTF-8"
                )
                raise InputDataError(msg) from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # the detector judges a sample (the first 256 KiB, whole lines); the strict decode below
    # and the mixed-line checks cover the whole file
    sample = data[:_SAMPLE_BYTES]
    if len(data) > _SAMPLE_BYTES and b"\n" in sample:
        sample = sample[: sample.rindex(b"\n") + 1]
    is_gb, guess, chaos = _detector_verdict(sample)
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = ""
    mixed = _mixed_lines(data)
    if mixed is not None:
        msg = (
            f"{path}: line {mixed[0]} is UTF-8 but line {mixed[1]} is not (GBK?): the file mixes "
            "encodings (two exports pasted together?); save the whole file in one encoding, "
            "e.g. CSV UTF-8"
        )
        raise InputDataError(msg)
    if not text or not is_gb:
        seen = f"it looks like {guess} (charset-normalizer)" if guess else "its encoding is unknown"
        msg = (
            f"{path}: the file is not UTF-8, GBK or GB18030 text ({seen}); campus_geo does not "
            "guess further because a wrong guess garbles every name. Open it in Excel or WPS "
            "and save it as 'CSV UTF-8', or convert it with iconv -f <its encoding> -t utf-8"
        )
        raise InputDataError(msg)
    line = _mixed_utf8_line(text)
    if line is not None:
        msg = (
            f"{path}: line {line} is UTF-8 while the rest of the file is GBK/GB18030 (two "
            "exports pasted together?); save the whole file in one encoding, e.g. CSV UTF-8"
        )
        raise InputDataError(msg)
    log.info("%s: decoded as GB18030 (GBK superset; detector chaos %.3f)", path, chaos)
    return text, "gb18030"


def normalise_header(text: object) -> str:
    """Header text for matching: NFKC, lower case, no spaces, no bracketed notes.

    Examples
    --------
    >>> normalise_header(" 经度（GCJ-02） "), normalise_header("Licence No.")
    ('经度', 'licenceno.')
    """
    norm = unicodedata.normalize("NFKC", str(text or "")).strip().lower()
    norm = _BRACKETED.sub("", norm)
    return re.sub(r"\s+", "", norm)


def match_columns(columns: Sequence[str], schema: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """Map each schema field to the first column whose normalised header is one of its names."""
    normalised = [normalise_header(c) for c in columns]
    out: dict[str, str] = {}
    taken: set[int] = set()
    for field, names in schema.items():
        wanted = [normalise_header(n) for n in names]
        for name in wanted:
            hits = [i for i, c in enumerate(normalised) if c == name and i not in taken]
            if hits:
                out[field] = columns[hits[0]]
                taken.add(hits[0])
                break
    return out


def _header_index(
    rows: Sequence[Sequence[Any]], schema: Mapping[str, tuple[str, ...]], required: str
) -> int | None:
    best, best_score = None, 1
    for i, row in enumerate(rows[:_HEADER_SCAN]):
        cells = [str(c).strip() for c in row if c is not None and str(c).strip()]
        found = match_columns(cells, schema)
        if required in found and len(found) > best_score:
            best, best_score = i, len(found)
    return best


def _sniff_rows(text: str, schema: Mapping[str, tuple[str, ...]]) -> list[list[str]]:
    """Rows of a CSV text, with the delimiter that names the most known header columns."""
    head = "\n".join(text.splitlines()[:_HEADER_SCAN])
    best, best_score = ",", -1
    for delimiter in _DELIMITERS:
        rows = csv.reader(io.StringIO(head, newline=""), delimiter=delimiter)
        score = max((len(match_columns([c.strip() for c in r], schema)) for r in rows), default=0)
        if score > best_score:
            best, best_score = delimiter, score
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=best))


def _build(
    path: Path,
    rows: Sequence[Sequence[Any]],
    numbers: Sequence[int],
    header_at: int,
    sheet: str | None,
    encoding: str | None,
) -> RawTable:
    header = [str(c).strip() if c is not None else "" for c in rows[header_at]]
    # unnamed or repeated headers get a unique name so that no cell is lost
    seen: dict[str, int] = {}
    columns = []
    for i, name in enumerate(header):
        label = name or f"(column {i + 1})"
        seen[label] = seen.get(label, 0) + 1
        columns.append(label if seen[label] == 1 else f"{label}.{seen[label]}")
    width = len(columns)
    body, index = [], []
    for row, number in zip(rows[header_at + 1 :], numbers[header_at + 1 :], strict=True):
        cells = list(row[:width]) + [None] * (width - len(row))
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue
        extra = [c for c in row[width:] if c is not None and str(c).strip()]
        if extra:
            log.warning(
                "%s row %d: %d cell(s) right of the last header ignored", path, number, len(extra)
            )
        body.append(cells)
        index.append(number)
    frame = pd.DataFrame(body, columns=columns, index=pd.Index(index, name="row"), dtype=object)
    return RawTable(
        path=path,
        sheet=sheet,
        encoding=encoding,
        header_row=numbers[header_at],
        columns=columns,
        frame=frame,
    )


def _no_header(
    path: Path, schema: Mapping[str, tuple[str, ...]], required: str, where: str
) -> InputDataError:
    names = "/".join(schema[required][:4])
    return InputDataError(
        f"{path}{where}: no header row found in the first {_HEADER_SCAN} rows; the header must "
        f"name a {required} column ({names} ...) and at least one more known column "
        f"({', '.join(n[0] for n in schema.values())})"
    )


def read_table(
    filepath: str | Path, schema: Mapping[str, tuple[str, ...]], *, required: str
) -> RawTable:
    """Read a CSV/TXT or XLSX table, finding its encoding, sheet and header row.

    Parameters
    ----------
    filepath
        ``.csv``/``.txt`` (any of UTF-8, UTF-8 with BOM, UTF-16 with BOM, GBK,
        GB18030; comma, tab, semicolon or bar separated) or ``.xlsx``/``.xlsm``.
    schema
        Field name -> accepted header names (Chinese and English).
    required
        The field the header row must contain.

    Raises
    ------
    InputDataError
        Missing file, unreadable bytes, no header row.
    """
    path = Path(filepath)
    if not path.exists():
        msg = f"file {path} does not exist; check the path"
        raise InputDataError(msg)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, schema, required)
    if path.suffix.lower() == ".xls":
        msg = f"{path}: old .xls workbooks are not read; save it as .xlsx (or CSV UTF-8)"
        raise InputDataError(msg)
    text, encoding = decode_text(path.read_bytes(), path=path)
    rows = _sniff_rows(text, schema)
    at = _header_index(rows, schema, required)
    if at is None:
        raise _no_header(path, schema, required, "")
    return _build(path, rows, list(range(1, len(rows) + 1)), at, None, encoding)


def _read_xlsx(path: Path, schema: Mapping[str, tuple[str, ...]], required: str) -> RawTable:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile/openpyxl raise many kinds for a damaged file
        msg = f"cannot read {path}: {type(exc).__name__}: {exc}; give an .xlsx workbook"
        raise InputDataError(msg) from exc
    try:
        for ws in wb.worksheets:
            # read-only sheets yield every row from min_row on, gaps as rows of None
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
            numbers = list(range(ws.min_row, ws.min_row + len(rows)))
            at = _header_index(rows, schema, required)
            if at is not None:
                log.info("%s: sheet %s, header in row %d", path, ws.title, numbers[at])
                return _build(path, rows, numbers, at, ws.title, None)
        sheets = ", ".join(wb.sheetnames)
    finally:
        wb.close()
    raise _no_header(path, schema, required, f" (sheets {sheets})")


# ---------------------------------------------------------------------------
# coordinates in cells

_NUMBER: Final = r"[-+]?\d+(?:\.\d+)?"
_PAIR: Final = re.compile(rf"^\s*({_NUMBER})\s*[,，;；/|\s]\s*({_NUMBER})\s*$")
_DMS: Final = re.compile(
    r"^\s*([-+]?\d+(?:\.\d+)?)\s*[°度]\s*(?:(\d+(?:\.\d+)?)\s*['′’分]\s*)?"
    r"(?:(\d+(?:\.\d+)?)\s*[\"″”秒]\s*)?([NSEW东西南北]?)\s*$",
    re.IGNORECASE,
)
#: The box in which GCJ-02 applies (see campus_geo.coords.out_of_china): a swap test.
_CHINA: Final = (72.004, 137.8347, 0.8293, 55.8271)


def cell_text(value: object) -> str:
    """A cell as text: None -> "", 12.0 -> "12", strings stripped (NFKC digits).

    Examples
    --------
    >>> cell_text(419950100486.0), cell_text(None), cell_text(" 存续 ")
    ('419950100486', '', '存续')
    """
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def text_column(cells: pd.Series) -> pd.Series:
    """:func:`cell_text` of every cell (vectorised when the cells are all strings, as in CSV)."""
    values = cells.to_numpy(dtype=object)
    if all(isinstance(v, str) for v in values):
        return pd.Series(values, index=cells.index, dtype=object).str.strip()
    return cells.map(cell_text)


def _degrees(text: str) -> float | None:
    primes = text.replace("″", '"').replace("′", "'")  # NFKC would turn ″ into two primes
    norm = unicodedata.normalize("NFKC", primes).strip()
    try:
        return float(norm)
    except ValueError:
        pass
    match = _DMS.match(norm)
    if not match:
        return None
    deg, minutes, seconds, hemi = match.groups()
    value = abs(float(deg)) + float(minutes or 0) / 60 + float(seconds or 0) / 3600
    negative = deg.startswith("-") or hemi.upper() in ("S", "W", "南", "西")
    return -value if negative else value


def _in_china(lon: Any, lat: Any) -> Any:
    return (lon >= _CHINA[0]) & (lon <= _CHINA[1]) & (lat >= _CHINA[2]) & (lat <= _CHINA[3])


@dataclass(frozen=True)
class _Cells:
    lon: str | None
    lat: str | None
    pair: str | None


def _split_pair(text: str) -> tuple[float, float] | None:
    m = _PAIR.match(unicodedata.normalize("NFKC", text))
    return (float(m.group(1)), float(m.group(2))) if m else None


def _parse_row(lon: object, lat: object, pair: object, cols: _Cells) -> tuple[Any, ...]:
    """(lon, lat, column, problem, fix) of one row whose cells are not two plain numbers."""
    lon_t, lat_t, pair_t = cell_text(lon), cell_text(lat), cell_text(pair)
    where = "/".join(c for c in (cols.lon, cols.lat) if c) or (cols.pair or "")
    if pair_t:
        both = _split_pair(pair_t)
        if both is None:
            return None, None, cols.pair, f"coordinates not two numbers 'lon,lat': {pair_t!r}", ""
        return *both, cols.pair, "", ""
    both = _split_pair(lon_t) if lon_t and not lat_t else None
    if both is not None:
        fix = f"longitude and latitude were both in the {cols.lon} cell ({lon_t}); split"
        return *both, cols.lon, "", fix
    problem, column = _cell_problem(lon_t, lat_t, cols, where)
    if problem:
        return None, None, column, problem, ""
    return _degrees(lon_t), _degrees(lat_t), where, "", ""


def _cell_problem(lon_t: str, lat_t: str, cols: _Cells, where: str) -> tuple[str, str]:
    if not lon_t and not lat_t:
        return "missing coordinates", where
    for text, col, label in ((lon_t, cols.lon, "longitude"), (lat_t, cols.lat, "latitude")):
        if not text:
            return f"missing {label}", col or where
        if _degrees(text) is None:
            return f"{label} is not a number: {text!r}", col or where
    return "", where


def parse_lonlat(
    frame: pd.DataFrame, *, lon: str | None, lat: str | None, pair: str | None
) -> pd.DataFrame:
    """Longitude and latitude of every row, with the problem that makes a row unusable.

    Plain numbers take a vectorised path; other cells are parsed one by one:
    both numbers in one cell ("113.85,34.05", in a 坐标 column or in the
    经度 cell), degrees-minutes-seconds (113°51′0″E), full-width digits. A
    pair given as lat, lon (latitude beyond 90, or a point that only falls in
    China once swapped) is swapped back and the fix is noted. (0, 0) and
    values beyond ±180/±90 are problems.

    Returns
    -------
    pandas.DataFrame
        Index of `frame`; ``lon``, ``lat`` (float, NaN when unusable),
        ``column`` (where the problem is), ``problem`` ("" when usable),
        ``fix`` ("" when used as written).
    """
    cols = _Cells(lon, lat, pair)
    n = len(frame)
    empty = pd.Series([None] * n, index=frame.index, dtype=object)
    lon_c = frame[lon] if lon else empty
    lat_c = frame[lat] if lat else empty
    pair_c = frame[pair] if pair else empty
    x = pd.to_numeric(lon_c, errors="coerce")
    y = pd.to_numeric(lat_c, errors="coerce")
    plain = x.notna() & y.notna() & (pair_c.isna() | (pair_c.map(cell_text) == ""))
    out = pd.DataFrame(
        {
            "lon": x.where(plain).astype(float),
            "lat": y.where(plain).astype(float),
            "column": "/".join(c for c in (lon, lat) if c) or (pair or ""),
            "problem": "",
            "fix": "",
        },
        index=frame.index,
    )
    odd = np.flatnonzero(~plain.to_numpy())
    if len(odd):
        lon_v, lat_v, pair_v = lon_c.to_numpy(), lat_c.to_numpy(), pair_c.to_numpy()
        parsed = [_parse_row(lon_v[i], lat_v[i], pair_v[i], cols) for i in odd]
        for j, name in enumerate(("lon", "lat", "column", "problem", "fix")):
            values = [p[j] for p in parsed]
            if name in ("lon", "lat"):
                values = [np.nan if v is None else v for v in values]
            elif name == "column":
                values = [v or "" for v in values]
            column = out[name].to_numpy(copy=True)
            column[odd] = values
            out[name] = column
    return _check_ranges(out, cols)


def _check_ranges(out: pd.DataFrame, cols: _Cells) -> pd.DataFrame:
    x = out["lon"].to_numpy(dtype=float, copy=True)
    y = out["lat"].to_numpy(dtype=float, copy=True)
    ok = np.isfinite(x) & np.isfinite(y)
    in_range = ok & (np.abs(x) <= 180) & (np.abs(y) <= 90)
    # latitude beyond 90 but a valid latitude in the longitude cell, or a point that
    # falls in China only when swapped: the two were swapped
    swapped = ok & (
        ((np.abs(y) > 90) & (np.abs(x) <= 90) & (np.abs(y) <= 180))
        | (~_in_china(x, y) & _in_china(y, x))
    )
    out = out.copy()
    sx, sy = x[swapped].copy(), y[swapped].copy()
    x[swapped], y[swapped] = sy, sx
    fixes = out["fix"].to_numpy(dtype=object, copy=True)
    for i in np.flatnonzero(swapped):
        text = f"longitude and latitude swapped ({y[i]}, {x[i]}); swapped back"
        fixes[i] = f"{fixes[i]}; {text}" if fixes[i] else text
    out["fix"] = fixes
    zero = ok & (x == 0) & (y == 0)
    bad = ok & ~swapped & ~in_range
    problems = out["problem"].to_numpy(dtype=object, copy=True)
    problems[zero] = "coordinates are 0, 0 (a failed geocode)"
    columns = out["column"].to_numpy(dtype=object, copy=True)
    for i in np.flatnonzero(bad):
        problems[i] = f"coordinates out of range (lon {x[i]}, lat {y[i]})"
        # name the cell that is out of range when the two are in columns of their own
        own = cols.lon if abs(x[i]) > 180 else cols.lat
        if cols.lon and cols.lat and columns[i] == f"{cols.lon}/{cols.lat}":
            columns[i] = own
    # a cell such as "inf", "1e999" or "nan": a number, but not one that locates anything
    for i in np.flatnonzero(~ok & (problems == "")):
        which = cols.lon if not np.isfinite(x[i]) else cols.lat
        label = "longitude" if which == cols.lon else "latitude"
        problems[i] = f"{label} is not a finite number ({x[i] if which == cols.lon else y[i]})"
        if which and cols.lon and cols.lat:
            columns[i] = which
    out["problem"], out["column"] = problems, columns
    unusable = (problems != "") | ~ok
    x[unusable], y[unusable] = np.nan, np.nan
    out["lon"], out["lat"] = x, y
    return out


def system_from_header(*headers: str | None) -> str | None:
    """The coordinate system a column header declares ("经度(GCJ-02)", "bd_lon"), or None.

    Examples
    --------
    >>> system_from_header("经度（GCJ-02）", "纬度"), system_from_header("lng"), system_from_header("百度经度")
    ('gcj02', None, 'bd09')
    """
    tokens = (
        ("gcj", "gcj02"),
        ("高德", "gcj02"),
        ("火星", "gcj02"),
        ("腾讯", "gcj02"),
        ("bd09", "bd09"),
        ("bd_", "bd09"),
        ("百度", "bd09"),
        ("baidu", "bd09"),
        ("wgs", "wgs84"),
        ("gps", "wgs84"),
    )
    found = {
        system
        for header in headers
        if header
        for token, system in tokens
        if token in unicodedata.normalize("NFKC", header).lower()
    }
    return found.pop() if len(found) == 1 else None
