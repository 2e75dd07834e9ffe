"""The parent, the children and the id of a branca element (folium's element tree).

branca keeps an element's parent in ``_parent``, its children in ``_children`` and
the random part of its JavaScript name in ``_id``, with no public accessor or
setter. campus_geo reads the first two to attach its own scripts to the right map
and sets the third so that a page drawn twice from the same data is byte-identical.
Pinned by ``branca>=0.7,<0.9`` and ``tests/test_adapters.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["children_of", "parent_of", "set_id", "walk"]


def parent_of(element: Any) -> Any | None:
    """The element `element` was added to, or None."""
    return element._parent


def children_of(element: Any) -> list[Any]:
    """The elements added to `element`, in the order they were added."""
    return list(element._children.values())


def walk(element: Any) -> Iterator[Any]:
    """`element` and every element below it, depth first, in the order they were added."""
    yield element
    for child in children_of(element):
        yield from walk(child)


def set_id(element: Any, ident: str) -> None:
    """Make ``element.get_name()`` end in `ident` (branca: ``<name>_<id>``)."""
    element._id = ident
