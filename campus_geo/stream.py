"""The public path ``campus_geo.stream``: the module is :mod:`campus_geo.scale.stream`.

Kept so that notebooks and scripts written against the flat layout keep working.
"""

from campus_geo.scale import stream as _module
from campus_geo.scale.stream import *  # noqa: F403

__all__ = _module.__all__
