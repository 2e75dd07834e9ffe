"""Offline map pages: every script, style sheet and image inlined into the HTML.

folium writes ``<script src=...>`` and ``<link rel="stylesheet" href=...>`` tags
that point at CDNs (jsdelivr, cdnjs, code.jquery.com, bootstrapcdn), some of
which are blocked in China and none of which a government network without
internet reaches. :func:`inline_assets` replaces each of those tags with the
file's content from the copies vendored in ``campus_geo/static/`` (taken from
the packages' official npm tarballs; names, versions, licences and SHA-256 in
``campus_geo/static/README.md``). Images referenced by the style sheets become
``data:`` URIs. Assets that folium adds by default but that the page does not
use (jQuery, Bootstrap, Font Awesome, Leaflet.awesome-markers) are left out;
any other external asset raises :class:`~campus_geo._errors.InputDataError`
naming it, so an offline page is never silently broken.
"""

from __future__ import annotations

import base64
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import PurePosixPath
from typing import Final

from campus_geo._errors import InputDataError

__all__ = [
    "ASSETS",
    "Asset",
    "asset_text",
    "external_references",
    "image_data_uri",
    "inline_assets",
    "runtime_css",
    "runtime_js",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Asset:
    """A front-end file vendored from an npm package.

    Attributes
    ----------
    package, version, licence
        The npm package it comes from, its version and its licence (SPDX).
    path
        Path under ``campus_geo/static/``: the package's name, then the file's
        path inside the package tarball.
    """

    package: str
    version: str
    licence: str
    path: str

    @property
    def name(self) -> str:
        """File name (what a CDN URL ends with)."""
        return PurePosixPath(self.path).name

    @property
    def cdn(self) -> str:
        """URL of the same file of the same package version on jsdelivr's npm mirror."""
        inner = PurePosixPath(self.path).relative_to(self.package)
        return f"https://cdn.jsdelivr.net/npm/{self.package}@{self.version}/{inner}"


_LEAFLET = ("leaflet", "1.9.4", "BSD-2-Clause")
_CLUSTER = ("leaflet.markercluster", "1.5.3", "MIT")
_SEARCH = ("leaflet-search", "4.0.0", "MIT")

#: Every vendored script and style sheet, by the name folium gives its link.
ASSETS: Final[dict[str, Asset]] = {
    "leaflet": Asset(*_LEAFLET, "leaflet/dist/leaflet.js"),
    "leaflet_css": Asset(*_LEAFLET, "leaflet/dist/leaflet.css"),
    "markerclusterjs": Asset(*_CLUSTER, "leaflet.markercluster/dist/leaflet.markercluster.js"),
    "markerclustercss": Asset(*_CLUSTER, "leaflet.markercluster/dist/MarkerCluster.css"),
    "markerclusterdefaultcss": Asset(
        *_CLUSTER, "leaflet.markercluster/dist/MarkerCluster.Default.css"
    ),
    "Leaflet.Search.js": Asset(*_SEARCH, "leaflet-search/dist/leaflet-search.min.js"),
    "Leaflet.Search.css": Asset(*_SEARCH, "leaflet-search/dist/leaflet-search.min.css"),
}

# folium's default page assets that campus_geo does not vendor, with what in a page
# shows that they are used; a page that does not use them gets along without them
_UNUSED_UNLESS: Final[dict[str, str]] = {
    "jquery": r"\$\(|jQuery",
    "bootstrap": r"bootstrap\.|data-bs-",
    "glyphicons": r"glyphicon",
    "fontawesome": r"AwesomeMarkers|fa-[a-z]",
    "all.min.css": r"AwesomeMarkers|fa-[a-z]",
    "awesome-markers": r"AwesomeMarkers",
    "awesome.rotate": r"AwesomeMarkers",
}
_SCRIPT_TAG: Final = re.compile(r'<script src="(?P<url>[^"]+)"></script>')
_LINK_TAG: Final = re.compile(r'<link rel="stylesheet" href="(?P<url>[^"]+)"\s*/?>')
_CSS_URL: Final = re.compile(r"url\(\s*(['\"]?)(?P<url>[^'\")]+)\1\s*\)")
_SOURCE_MAP: Final = re.compile(r"^\s*(//|/\*)# sourceMappingURL=.*$", re.MULTILINE)
_EXTERNAL_TAG: Final = re.compile(
    r"<(?:script|img|iframe|embed|object|source)\b[^>]*\b(?:src|data)=[\"']?(?:https?:)?//[^\"'\s>]+"
    r"|<link\b[^>]*\bhref=[\"']?(?:https?:)?//[^\"'\s>]+",
    re.IGNORECASE,
)
# style sheets: the <style> elements and style attributes of the page (not its data)
_STYLE: Final = re.compile(r"<style\b[^>]*>(.*?)</style>|\bstyle=\"([^\"]*)\"", re.I | re.S)
_EXTERNAL_CSS: Final = re.compile(
    r"@import\b[^;]*;|url\(\s*['\"]?(?:https?:)?//[^)]+\)", re.IGNORECASE
)
_MIME: Final = {
    ".png": "image/png",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
}


def _static() -> resources.abc.Traversable:
    return resources.files("campus_geo") / "static"


@lru_cache(maxsize=64)
def _read_bytes(path: str) -> bytes:
    target = _static().joinpath(*PurePosixPath(path).parts)
    if not target.is_file():
        msg = f"vendored asset campus_geo/static/{path} is missing; reinstall campus_geo"
        raise InputDataError(msg)
    return target.read_bytes()


def image_data_uri(path: str) -> str:
    """A vendored image (path under ``campus_geo/static/``) as a ``data:`` URI."""
    mime = _MIME.get(PurePosixPath(path).suffix.lower(), "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(_read_bytes(path)).decode('ascii')}"


def _data_uri(css_path: str, url: str) -> str:
    resolved = PurePosixPath(css_path).parent / url
    parts: list[str] = []
    for part in resolved.parts:  # resolve ".." without touching the file system
        if part == "..":
            parts.pop()
        elif part != ".":
            parts.append(part)
    return image_data_uri("/".join(parts))


@lru_cache(maxsize=32)
def asset_text(path: str) -> str:
    """Text of a vendored file, ready to sit inside a ``<script>`` or ``<style>`` element.

    Source-map comments are dropped (the maps are not shipped); a style sheet's
    relative ``url(...)`` images become ``data:`` URIs.

    Parameters
    ----------
    path
        Path under ``campus_geo/static/``.
    """
    text = _SOURCE_MAP.sub("", _read_bytes(path).decode("utf-8"))
    if path.endswith(".css"):

        def inline(match: re.Match[str]) -> str:
            url = match.group("url")
            if url.startswith(("data:", "#")) or "//" in url:
                return match.group(0)
            return f'url("{_data_uri(path, url)}")'

        text = _CSS_URL.sub(inline, text)
        closing = "</style"
    else:
        closing = "</script"
    # inside <script>/<style> only the closing tag (and <!-- in scripts) can end the element
    if closing in text.lower() or "<!--" in text:
        msg = f"campus_geo/static/{path} contains {closing!r} or '<!--' and cannot be inlined"
        raise InputDataError(msg)
    return text


def runtime_js() -> str:
    """campus_geo's own map runtime (``static/campus_geo/campus_geo.js``)."""
    return asset_text("campus_geo/campus_geo.js")


def runtime_css() -> str:
    """campus_geo's own map styles (``static/campus_geo/campus_geo.css``)."""
    return asset_text("campus_geo/campus_geo.css")


def _asset_for(url: str, kind: str) -> Asset | None:
    name = url.split("?", 1)[0].rsplit("/", 1)[-1]
    for asset in ASSETS.values():
        if asset.name == name and asset.package in url and asset.path.endswith(kind):
            return asset
    return None


def _unused(url: str, page: str) -> bool:
    for marker, used_if in _UNUSED_UNLESS.items():
        if marker in url.lower():
            return re.search(used_if, page) is None
    return False


def inline_assets(html: str) -> str:
    """Replace a folium page's CDN script and style-sheet links by the vendored files.

    Parameters
    ----------
    html
        A page as rendered by folium (``m.get_root().render()``).

    Returns
    -------
    str
        The page with every script and style sheet inline and no external
        reference left except the tile URLs in its scripts.

    Raises
    ------
    InputDataError
        When the page needs an asset that campus_geo does not vendor.
    """
    links = list(_SCRIPT_TAG.finditer(html)) + list(_LINK_TAG.finditer(html))
    # what the page uses is judged on everything but the links themselves
    page = _LINK_TAG.sub("", _SCRIPT_TAG.sub("", html))
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        url = match.group("url")
        is_js = match.re is _SCRIPT_TAG
        asset = _asset_for(url, ".js" if is_js else ".css")
        if asset is not None:
            body = asset_text(asset.path)
            return f"<script>{body}</script>" if is_js else f"<style>{body}</style>"
        if _unused(url, page):
            log.debug("left out %s: the page does not use it", url)
            return ""
        missing.append(url)
        return match.group(0)

    out = _LINK_TAG.sub(replace, _SCRIPT_TAG.sub(replace, html))
    if missing:
        msg = (
            f"the map needs {', '.join(missing)}, which campus_geo does not vendor for offline "
            "pages (vendored: Leaflet, Leaflet.markercluster, Leaflet Control Search); "
            "draw it with those, or save it with offline=False"
        )
        raise InputDataError(msg)
    left = external_references(out)
    if left:
        msg = f"the offline page still refers to {left[:3]}; save it with offline=False"
        raise InputDataError(msg)
    log.debug("inlined %d assets", len(links) - len(missing))
    return out


def external_references(html: str) -> list[str]:
    """Every reference in a page that a browser would load from another host on opening it.

    Tile URL templates inside scripts are not references of this kind: Leaflet
    requests tiles only when a tile layer is on the map.

    Examples
    --------
    >>> external_references('<script src="https://cdn.example.org/x.js"></script><p>x</p>')
    ['<script src="https://cdn.example.org/x.js']
    >>> external_references("<style>a{background:url(data:image/png;base64,AA==)}</style>")
    []
    >>> external_references("<style>@import url(//fonts.example.org/a.css);</style>")
    ['@import url(//fonts.example.org/a.css);']
    """
    found = [m.group(0) for m in _EXTERNAL_TAG.finditer(html)]
    for style in _STYLE.finditer(html):
        css = style.group(1) or style.group(2) or ""
        found += [m.group(0) for m in _EXTERNAL_CSS.finditer(css)]
    return found
