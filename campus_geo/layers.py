"""The public path ``campus_geo.layers``: the module is :mod:`campus_geo.sources.layers`.

Kept so that notebooks and scripts written against the flat layout keep working.
"""

from campus_geo.sources import layers as _module
from campus_geo.sources.layers import *  # noqa: F403

__all__ = _module.__all__
