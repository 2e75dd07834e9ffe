"""The public path ``campus_geo.fonts``: the module is :mod:`campus_geo.reports.fonts`.

Kept so that notebooks and scripts written against the flat layout keep working.
"""

from campus_geo.reports import fonts as _module
from campus_geo.reports.fonts import *  # noqa: F403

__all__ = _module.__all__
