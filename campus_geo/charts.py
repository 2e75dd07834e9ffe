"""The public path ``campus_geo.charts``: the module is :mod:`campus_geo.reports.charts`.

Kept so that notebooks and scripts written against the flat layout keep working.
"""

from campus_geo.reports import charts as _module
from campus_geo.reports.charts import *  # noqa: F403

__all__ = _module.__all__
