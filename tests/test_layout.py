"""The package's layout (STYLE.md, "Layout"): Flask appears only in
``calfeed/__init__.py`` and ``calfeed/web/``; loading, validation, compiling
and the build know nothing of HTTP."""

from __future__ import annotations

import ast
from pathlib import Path

import calfeed

PACKAGE = Path(calfeed.__file__).parent
WEB_ONLY = {"flask", "werkzeug"}


def imported_modules(source: str) -> set[str]:
    """Every module a file imports, at any depth (inside functions and
    ``if TYPE_CHECKING:`` too).

    >>> sorted(imported_modules("import a.b\\nfrom c import d\\ndef f():\\n    from e.f import g"))
    ['a.b', 'c', 'e.f']
    """
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_flask_is_imported_only_by_the_app_factory_and_the_web_layer():
    outside = [path for path in sorted(PACKAGE.rglob("*.py"))
               if path != PACKAGE / "__init__.py" and "web" not in path.relative_to(PACKAGE).parts]
    assert PACKAGE / "build.py" in outside and PACKAGE / "cli.py" in outside
    offenders = {
        path.relative_to(PACKAGE).as_posix(): sorted(name for name in imported_modules(path.read_text(encoding="utf-8"))
                                                     if name.split(".")[0] in WEB_ONLY)
        for path in outside
    }
    assert {name: modules for name, modules in offenders.items() if modules} == {}
