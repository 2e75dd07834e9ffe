"""The public path ``campus_geo.roster``: the module is :mod:`campus_geo.sources.roster`.

Kept so that notebooks and scripts written against the flat layout keep working.
"""

from campus_geo.sources import roster as _module
from campus_geo.sources.roster import *  # noqa: F403

__all__ = _module.__all__
