"""The public path ``campus_geo.water``: the module is :mod:`campus_geo.analyses.water`.

Kept so that notebooks and scripts written against the flat layout keep working.
"""

from campus_geo.analyses import water as _module
from campus_geo.analyses.water import *  # noqa: F403

__all__ = _module.__all__
