"""Strip outputs and execution counts from notebooks (pre-commit hook).

Notebooks are committed without outputs; the test suite executes them.
Written here (a dozen lines on top of nbformat) rather than adding nbstripout
as a dependency of the package.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["strip_notebook"]


def strip_notebook(path: Path) -> bool:
    """Remove outputs from `path`; return True when the file changed."""
    import nbformat

    nb = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    changed = False
    for cell in nb.cells:
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
            cell.outputs = []
            cell.execution_count = None
            changed = True
    if changed:
        nbformat.write(nb, path)  # type: ignore[no-untyped-call]
    return changed


if __name__ == "__main__":
    sys.exit(int(any(strip_notebook(Path(p)) for p in sys.argv[1:])))
