"""The public path ``campus_geo.cameras``: the module is :mod:`campus_geo.analyses.cameras`.

Kept so that notebooks and scripts written against the flat layout keep working.
"""

from campus_geo.analyses import cameras as _module
from campus_geo.analyses.cameras import *  # noqa: F403

__all__ = _module.__all__
