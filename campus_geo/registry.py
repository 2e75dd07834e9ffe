"""The public path ``campus_geo.registry``: the module is :mod:`campus_geo.sources.registry`.

Kept so that notebooks and scripts written against the flat layout keep working.
"""

from campus_geo.sources import registry as _module
from campus_geo.sources.registry import *  # noqa: F403

__all__ = _module.__all__
