"""Where the inputs of a run come from: file hashes, OSM data dates, element metadata.

A finding is only as good as its inputs, so every output that proves
something (the evidence sheets, the summary page) names them:

- every input file with its size and SHA-256;
- for OSM XML files, the date of the data as the file states it: the
  ``<meta osm_base="...">`` of Overpass output, else the latest ``timestamp``
  of its elements (openstreetmap.org exports), else none ("not stated");
- for the OSM elements that findings cite, their version and timestamp;
- the ``source`` of each layer row parsed back into file, OSM element and row
  (:func:`parse_source`): ``osm:way/123 (district.osm)``, ``file:wangba.csv#5``;
- the one "generated at" time of a run (:func:`generation_time`: explicit,
  else ``SOURCE_DATE_EPOCH``, else now) and the software versions.
"""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import hashlib
import io
import logging
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import geopandas as gpd
import pandas as pd
import shapely

from campus_geo._errors import InputDataError
from campus_geo.settings import local_zone

__all__ = [
    "InputFile",
    "OsmElement",
    "Provenance",
    "SourceRef",
    "describe_inputs",
    "generation_time",
    "osm_element_ids",
    "parse_source",
    "parse_sources",
    "software_versions",
]

log = logging.getLogger(__name__)

_OSM_SUFFIXES: Final = (".osm", ".osm.bz2", ".osm.gz", ".xml", ".osm.xml")
_OSM_ELEMENTS: Final = ("node", "way", "relation")
_CHUNK: Final = 1 << 20
_SOURCE_OSM: Final = re.compile(
    r"^osm:(?P<element>(?:node|way|relation)/-?\d+)(?: \((?P<file>.+)\))?$"
)
_SOURCE_FILE: Final = re.compile(r"^(?P<kind>[a-z_]+):(?P<file>.+?)#(?P<row>.+)$")


@dataclass(frozen=True)
class OsmElement:
    """Metadata of one OSM element as its file gives it ("" when absent)."""

    element: str
    version: str = ""
    timestamp: str = ""


@dataclass(frozen=True)
class InputFile:
    """One input file: its name, size, SHA-256 and, for OSM files, the data date.

    Attributes
    ----------
    path
        The path as given.
    size
        Size in bytes.
    sha256
        Hex SHA-256 of the file's bytes.
    data_date
        The date of the data as the file states it (OSM ``osm_base``, or the
        latest element timestamp), "" when it states none.
    data_date_source
        Where `data_date` comes from: ``"osm_base"``, ``"latest element timestamp"`` or "".
    generator
        The ``generator`` attribute of an OSM file ("" otherwise).
    """

    path: Path
    size: int
    sha256: str
    data_date: str = ""
    data_date_source: str = ""
    generator: str = ""

    @property
    def name(self) -> str:
        """File name without its folder (sources name files this way)."""
        return self.path.name


@dataclass(frozen=True)
class Provenance:
    """The input files of a run and the metadata of the OSM elements that findings cite."""

    files: tuple[InputFile, ...] = ()
    elements: dict[tuple[str, str], OsmElement] = field(default_factory=dict)

    def file(self, name: str) -> InputFile | None:
        """The input file called `name` (file name only), if it was given."""
        return next((f for f in self.files if f.name == name), None)


@dataclass(frozen=True)
class SourceRef:
    """A parsed ``source`` value of a canonical layer.

    ``osm:way/123 (district.osm)`` gives kind "osm", element "way/123", file
    "district.osm"; ``file:wangba.csv#5`` gives kind "file", file "wangba.csv",
    row "5" (the row as a spreadsheet shows it, header = row 1).
    """

    kind: str
    file: str = ""
    element: str = ""
    row: str = ""
    raw: str = ""


def parse_source(source: str) -> SourceRef:
    """Split a layer's ``source`` text into kind, file, OSM element and row.

    Examples
    --------
    >>> parse_source("osm:way/2000422 (district.osm)")
    SourceRef(kind='osm', file='district.osm', element='way/2000422', row='', raw='osm:way/2000422 (district.osm)')
    >>> parse_source("file:wangba.csv#5").row
    '5'
    """
    text = str(source or "").strip()
    if m := _SOURCE_OSM.match(text):
        return SourceRef("osm", file=m["file"] or "", element=m["element"], raw=text)
    if m := _SOURCE_FILE.match(text):
        return SourceRef(m["kind"], file=m["file"], row=m["row"], raw=text)
    return SourceRef("", raw=text)


def parse_sources(source: str) -> list[SourceRef]:
    """Every source of a row: a venue merged from several inputs lists them with "; ".

    Examples
    --------
    >>> [r.kind for r in parse_sources("osm:node/7 (district.osm); registry:wangba.csv#13")]
    ['osm', 'registry']
    """
    parts = re.split(r"\s*[;；]\s*", str(source or "").strip())
    return [parse_source(part) for part in parts if part]


def _open(path: Path) -> io.BufferedIOBase:
    name = path.name.lower()
    if name.endswith(".bz2"):
        return bz2.open(path, "rb")
    if name.endswith(".gz"):
        return gzip.open(path, "rb")
    return path.open("rb")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _scan_osm(
    path: Path, wanted: Collection[str]
) -> tuple[dict[str, str], dict[tuple[str, str], OsmElement]]:
    """Data date, generator and the metadata of the `wanted` elements of an OSM XML file.

    Hand-written with the standard library's incremental parser because the
    OSM readers (osmnx) keep tags and geometry but drop the metadata of the
    file (``<meta osm_base>``) and of its elements (version, timestamp).
    """
    meta = {"generator": "", "osm_base": "", "latest": ""}
    elements: dict[tuple[str, str], OsmElement] = {}
    latest = ""
    try:
        with _open(path) as fh:
            for event, elem in ET.iterparse(fh, events=("start", "end")):
                tag = elem.tag
                if event == "start":
                    if tag == "osm":
                        meta["generator"] = elem.get("generator", "")
                    elif tag == "meta":
                        meta["osm_base"] = elem.get("osm_base", "")
                    elif tag in _OSM_ELEMENTS:
                        stamp = elem.get("timestamp", "")
                        latest = max(latest, stamp)
                        key = f"{tag}/{elem.get('id', '')}"
                        if key in wanted:
                            elements[(path.name, key)] = OsmElement(
                                key, elem.get("version", ""), stamp
                            )
                elif tag in _OSM_ELEMENTS:
                    elem.clear()
    except (ET.ParseError, OSError, EOFError) as exc:
        msg = f"cannot read OSM file {path} for the evidence sheets: {exc}; give the same file that was screened"
        raise InputDataError(msg) from exc
    meta["latest"] = latest
    return meta, elements


def describe_inputs(
    paths: Iterable[str | Path], *, osm_elements: Collection[str] = ()
) -> Provenance:
    """Hash every input file and read the data date of the OSM files among them.

    Parameters
    ----------
    paths
        Input files (OSM extracts, tables, GIS files, rule tables, saved findings).
        Duplicates are described once.
    osm_elements
        OSM element ids (``way/123``) whose version and timestamp to look up.

    Raises
    ------
    InputDataError
        When a file does not exist or an OSM file cannot be parsed.
    """
    files: list[InputFile] = []
    elements: dict[tuple[str, str], OsmElement] = {}
    wanted = frozenset(osm_elements)
    for given in dict.fromkeys(Path(p) for p in paths):
        if not given.is_file():
            msg = f"input file {given} does not exist; the evidence sheets hash every input file"
            raise InputDataError(msg)
        date, origin, generator = "", "", ""
        if given.name.lower().endswith(_OSM_SUFFIXES):
            meta, found = _scan_osm(given, wanted)
            elements.update(found)
            generator = meta["generator"]
            if meta["osm_base"]:
                date, origin = meta["osm_base"], "osm_base"
            elif meta["latest"]:
                date, origin = meta["latest"], "latest element timestamp"
        files.append(
            InputFile(given, given.stat().st_size, _sha256(given), date, origin, generator)
        )
    log.info("described %d input files", len(files))
    return Provenance(tuple(files), elements)


def generation_time(value: dt.datetime | str | None = None) -> dt.datetime:
    """The "generated at" time of a run: `value`, else ``SOURCE_DATE_EPOCH``, else now.

    Times are in :func:`campus_geo.settings.local_zone` (Asia/Shanghai unless
    ``$CAMPUS_GEO_TIMEZONE`` says otherwise): a naive `value` is a time there, and
    ``SOURCE_DATE_EPOCH`` (seconds since 1970, the reproducible-builds convention,
    which lets a whole run be repeated byte for byte) and now are written there.

    Examples
    --------
    >>> generation_time("2023-06-15T10:00:00+08:00").isoformat()
    '2023-06-15T10:00:00+08:00'
    """
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError as exc:
            msg = f"generated-at {value!r} is not an ISO 8601 time; give e.g. 2023-06-15T10:00:00+08:00"
            raise InputDataError(msg) from exc
    if value is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
        if epoch:
            zone = local_zone()
            try:
                return dt.datetime.fromtimestamp(int(epoch), tz=zone)
            except ValueError as exc:
                msg = f"SOURCE_DATE_EPOCH={epoch!r} is not a whole number of seconds; unset it or fix it"
                raise InputDataError(msg) from exc
        return dt.datetime.now(local_zone()).replace(microsecond=0)
    return value if value.tzinfo else value.replace(tzinfo=local_zone())


def software_versions() -> dict[str, str]:
    """Versions of campus_geo and of the libraries that read, measured and drew."""
    import matplotlib
    import pyproj

    from campus_geo._version import __version__

    return {
        "campus_geo": __version__,
        "libraries": (
            f"pyproj {pyproj.__version__} (PROJ {pyproj.proj_version_str}), "
            f"shapely {shapely.__version__} (GEOS {shapely.geos_version_string}), "
            f"geopandas {gpd.__version__}, matplotlib {matplotlib.__version__}"
        ),
    }


def osm_element_ids(*layers: pd.DataFrame | None) -> set[str]:
    """OSM element ids (``way/123``) cited by the ``source`` column of the given layers."""
    ids: set[str] = set()
    for gdf in layers:
        if gdf is not None and "source" in gdf.columns:
            ids |= {
                ref.element for s in gdf["source"].dropna().astype(str) for ref in parse_sources(s)
            } - {""}
    return ids
