"""The public path ``campus_geo.traffic``: the module is :mod:`campus_geo.analyses.traffic`.

Kept so that notebooks and scripts written against the flat layout keep working.
"""

from campus_geo.analyses import traffic as _module
from campus_geo.analyses.traffic import *  # noqa: F403

__all__ = _module.__all__
