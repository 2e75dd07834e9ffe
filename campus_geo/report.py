"""The public path ``campus_geo.report``: the module is :mod:`campus_geo.reports.form`.

Kept so that notebooks and scripts written against the flat layout keep working.
"""

from campus_geo.reports import form as _module
from campus_geo.reports.form import *  # noqa: F403

__all__ = _module.__all__
