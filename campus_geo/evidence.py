"""The public path ``campus_geo.evidence``: the module is :mod:`campus_geo.reports.evidence`.

Kept so that notebooks and scripts written against the flat layout keep working.
"""

from campus_geo.reports import evidence as _module
from campus_geo.reports.evidence import *  # noqa: F403

__all__ = _module.__all__
