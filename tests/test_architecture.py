"""The package layout is the map of the system: parts, import direction, private seams.

Walks the AST of every module of campus_geo (every import, also the ones inside
functions) and asserts that

- no module imports a ``_private`` name of another module, and a private module
  (``_errors``, ``_validate``) only from inside the package that holds it;
- the import graph has no cycle (importing ``campus_geo.a.b`` also runs
  ``campus_geo.a``'s ``__init__``, so that edge counts too);
- every import goes down the order of the parts (README, "How the code is
  organised"): nothing imports a part that comes after it;
- nothing inside the package imports the flat compatibility modules.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import campus_geo

PACKAGE = Path(campus_geo.__file__).parent

#: The parts in the order data flows through them; a module may import its own part
#: and the parts before it, never one after it.
PARTS = (
    "core",
    "adapters",
    "network",
    "engine",
    "screen",
    "sources",
    "maps",
    "analyses",
    "scale",
    "reports",
    "ledger",
    "desk",
    "demo",
    "cli",
)
CORE = {
    "_errors",
    "_validate",
    "_version",
    "categories",
    "category_registry",
    "coords",
    "geodesy",
    "rules",
    "settings",
}
#: The flat paths of the earlier layout, kept for users (each re-exports its module).
COMPAT = {
    "cameras": "analyses.cameras",
    "charts": "reports.charts",
    "evidence": "reports.evidence",
    "fonts": "reports.fonts",
    "layers": "sources.layers",
    "provenance": "reports.provenance",
    "registry": "sources.registry",
    "report": "reports.form",
    "roster": "sources.roster",
    "stream": "scale.stream",
    "summary": "reports.summary",
    "traffic": "analyses.traffic",
    "water": "analyses.water",
}


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # the module imported (campus_geo.x.y)
    name: str | None  # the name taken from it, for `from target import name`
    line: int
    type_only: bool  # under `if TYPE_CHECKING:`


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "static" not in p.parts}


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.If)
            and isinstance(node.test, ast.Name)
            and node.test.id == "TYPE_CHECKING"
        ):
            for sub in node.body:
                lines.update(range(sub.lineno, (sub.end_lineno or sub.lineno) + 1))
    return lines


def _imports(module: str, path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    typed = _type_checking_lines(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [
                Import(module, a.name, None, node.lineno, node.lineno in typed)
                for a in node.names
                if a.name.split(".")[0] == "campus_geo"
            ]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.split(".")[0] != "campus_geo":
                continue
            for a in node.names:
                sub = f"{target}.{a.name}"
                if sub in MODULES:  # `from package import module`
                    found.append(Import(module, sub, None, node.lineno, node.lineno in typed))
                else:
                    found.append(Import(module, target, a.name, node.lineno, node.lineno in typed))
    return found


IMPORTS = [imp for module, path in MODULES.items() for imp in _imports(module, path)]


def _part(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "root"
    head = parts[1]
    if head in CORE:
        return "core"
    if head in COMPAT:
        return "compat"
    return head


def test_every_module_belongs_to_a_part() -> None:
    parts = {_part(m) for m in MODULES}
    assert parts == {"root", "compat", *PARTS}
    top = {p.stem for p in PACKAGE.glob("*.py")}
    assert top == {"__init__", "screen"} | CORE | set(COMPAT)


def test_no_private_names_across_modules() -> None:
    bad = []
    for imp in IMPORTS:
        dunder = imp.name is not None and imp.name.startswith("__") and imp.name.endswith("__")
        if imp.name is not None and imp.name.startswith("_") and not dunder:
            bad.append(f"{imp.importer}:{imp.line} takes {imp.name} from {imp.target}")
        # a private module is imported only from inside the package that holds it
        for i, piece in enumerate(imp.target.split(".")):
            if piece.startswith("_"):
                owner = ".".join(imp.target.split(".")[:i])
                if not (imp.importer == owner or imp.importer.startswith(owner + ".")):
                    bad.append(f"{imp.importer}:{imp.line} imports private {imp.target}")
    assert bad == []


def test_benchmarks_and_scripts_take_no_private_names() -> None:
    # what lies beside the package uses what it offers, as a user would
    bad = []
    root = PACKAGE.parent
    for path in sorted([*root.glob("benchmarks/*.py"), *root.glob("scripts/*.py")]):
        for imp in _imports(f"{path.parent.name}.{path.stem}", path):
            pieces = [*imp.target.split("."), *([imp.name] if imp.name else [])]
            if any(p.startswith("_") and not p.endswith("__") for p in pieces):
                bad.append(f"{path.relative_to(root)}:{imp.line} takes {'.'.join(pieces)}")
    assert bad == []


def _runtime_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for imp in IMPORTS:
        if imp.type_only:
            continue
        graph[imp.importer].add(imp.target)
        # importing campus_geo.a.b runs campus_geo.a's __init__ first (the root is lazy)
        pieces = imp.target.split(".")
        for n in range(2, len(pieces)):
            package = ".".join(pieces[:n])
            if not imp.importer.startswith(package + ".") and imp.importer != package:
                graph[imp.importer].add(package)
    graph["campus_geo"] = {
        t for t in graph["campus_geo"] if t in {"campus_geo._errors", "campus_geo._version"}
    }
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    counter = 0
    for root, children_of_root in graph.items():
        if root in index:
            continue
        work = [(root, iter(sorted(children_of_root)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    found.append(sorted(component))
    return found


def test_no_import_cycles() -> None:
    assert _cycles(_runtime_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_imports_go_down_the_parts() -> None:
    rank = {part: i for i, part in enumerate(PARTS)}
    bad = []
    for imp in IMPORTS:
        src, dst = _part(imp.importer), _part(imp.target)
        if src in ("root", "compat"):
            continue
        if dst == "compat":
            bad.append(f"{imp.importer}:{imp.line} imports the compatibility path {imp.target}")
        elif dst == "root" or rank[dst] > rank[src]:
            bad.append(f"{imp.importer}:{imp.line} ({src}) imports {imp.target} ({dst})")
    assert bad == []


@pytest.mark.parametrize(("old", "new"), sorted(COMPAT.items()))
def test_compatibility_paths_re_export_their_module(old: str, new: str) -> None:
    import importlib

    shim = importlib.import_module(f"campus_geo.{old}")
    module = importlib.import_module(f"campus_geo.{new}")
    assert shim.__all__ == module.__all__
    assert all(getattr(shim, name) is getattr(module, name) for name in module.__all__)


def _python(code: str) -> str:
    """What `code` prints, run in a fresh interpreter (nothing imported yet)."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout


def test_import_and_help_load_no_heavy_library() -> None:
    code = (
        "import sys, campus_geo, campus_geo.cli\n"
        "from click.testing import CliRunner\n"
        "from campus_geo.cli import cli\n"
        "for args in (['--help'], ['screen', '--help'], ['ledger', 'list', '--help']):\n"
        "    assert CliRunner().invoke(cli, args).exit_code == 0, args\n"
        "heavy = ('numpy', 'pandas', 'geopandas', 'shapely', 'pyproj', 'matplotlib', 'folium',"
        " 'openpyxl', 'jinja2', 'osmnx')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
    )
    out = _python(code)
    assert out.strip() == "[]"


def test_submodules_load_on_first_use() -> None:
    code = (
        "import sys, campus_geo\n"
        "assert 'campus_geo.maps' not in sys.modules\n"
        "m = campus_geo.maps\n"
        "print(m.__name__, 'folium' in sys.modules)\n"
    )
    out = _python(code)
    assert out.split() == ["campus_geo.maps", "True"]


def test_the_stream_imports_without_dask() -> None:
    # campus_geo.scale loads its dask engine on first use of one of its names: the
    # stream (the CLI's province route) does not wait for dask to import
    code = (
        "import sys\n"
        "from campus_geo.stream import screen_to_parquet\n"
        "import campus_geo.scale as scale\n"
        "before = sorted(m for m in ('dask', 'dask_geopandas', 'distributed') if m in sys.modules)\n"
        "f = scale.screen_dask\n"
        "print(before, f.__module__, 'dask_geopandas' in sys.modules)\n"
    )
    out = _python(code)
    assert out.split() == ["[]", "campus_geo.scale.dask_engine", "True"]
