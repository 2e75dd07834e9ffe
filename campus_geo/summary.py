"""The public path ``campus_geo.summary``: the module is :mod:`campus_geo.reports.summary`.

Kept so that notebooks and scripts written against the flat layout keep working.
"""

from campus_geo.reports import summary as _module
from campus_geo.reports.summary import *  # noqa: F403

__all__ = _module.__all__
