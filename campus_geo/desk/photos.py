"""Uploaded photos checked by decoding them, and their thumbnails (Pillow).

The ledger judges an upload's type by its first bytes
(:func:`campus_geo.ledger.attachments.sniff_media_type`); a photo must also
decode as the image it claims to be (a JPEG header on a script is refused).
Thumbnails are JPEGs of at most :data:`THUMB_SIZE` pixels, stored by the
photo's SHA-256 in ``thumbs/`` inside the attachments folder.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Final

from PIL import Image, UnidentifiedImageError

from campus_geo._errors import LedgerError
from campus_geo.ledger.attachments import attachments_dir, check_attachment, sniff_media_type

__all__ = ["THUMB_SIZE", "check_upload", "save_thumbnail", "thumbnail_path"]

#: Largest side of a thumbnail (pixels).
THUMB_SIZE: Final = 240
_PIL_FORMATS: Final = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
#: Refuse images that decode to more pixels than this (decompression bombs).
_MAX_PIXELS: Final = 60_000_000


def check_upload(data: bytes, filename: str, kind: str = "other") -> str:
    """The media type of an upload after the ledger's checks and, for a photo, decoding it.

    Raises
    ------
    LedgerError
        Empty, too large, not an accepted type, an unknown kind, or a photo that does not decode.
    """
    media_type = check_attachment(data, filename=filename, kind=kind)
    if media_type not in _PIL_FORMATS:
        return media_type
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if img.format != _PIL_FORMATS[media_type] or img.width * img.height > _MAX_PIXELS:
                    raise LedgerError(f"{filename!r}: not a usable {media_type} photo")
                img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombWarning) as exc:
        msg = f"{filename!r} is not a readable photo ({exc}); nothing was stored"
        raise LedgerError(msg) from exc
    return media_type


def thumbnail_path(ledger_path: str | Path, sha256: str) -> Path:
    """Where the thumbnail of the photo with this SHA-256 is kept (`sha256` already checked)."""
    return attachments_dir(ledger_path) / "thumbs" / f"{sha256}.jpg"


def save_thumbnail(ledger_path: str | Path, sha256: str, data: bytes) -> Path | None:
    """Write the thumbnail of a photo (None for documents)."""
    if sniff_media_type(data) not in _PIL_FORMATS:
        return None
    target = thumbnail_path(ledger_path, sha256)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(io.BytesIO(data)) as img:
        thumb = img.convert("RGB")
        thumb.thumbnail((THUMB_SIZE, THUMB_SIZE))
        tmp = target.with_name(f".{target.name}.tmp")
        thumb.save(tmp, format="JPEG", quality=80)
        tmp.replace(target)
    return target
