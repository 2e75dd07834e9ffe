"""The public path ``campus_geo.provenance``: the module is :mod:`campus_geo.reports.provenance`.

Kept so that notebooks and scripts written against the flat layout keep working.
"""

from campus_geo.reports import provenance as _module
from campus_geo.reports.provenance import *  # noqa: F403

__all__ = _module.__all__
