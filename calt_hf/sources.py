"""The user's modules a generator runs: those its module imports, directly or through one another.

A run's fingerprint hashes the generator's own module (``engine._code``); an edit to a helper module it imports
would change the samples just as much, so a resume must see that too. The modules are found from the ``import``
statements of the sources themselves (at module level or inside functions, run yet or not), followed from module
to module; only the user's own count: a module whose file is under none of the interpreter's prefixes and site
folders (the standard library, installed packages) and is not calt_hf's, whose version is the environment's.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.machinery
import importlib.util
import site
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

_OWN_PACKAGE = __name__.partition(".")[0]


@functools.cache
def _installed_roots() -> tuple[Path, ...]:
    """Where the standard library and installed packages live."""
    folders = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *site.getsitepackages(), site.getusersitepackages()}
    return tuple(Path(folder).resolve() for folder in folders)


def _users_file(name: str, file: str | None) -> Path | None:
    """The source file of module ``name`` if it is the user's own, else None."""
    if not file or not file.endswith(".py") or name.partition(".")[0] == _OWN_PACKAGE:
        return None
    path = Path(file).resolve()
    return None if any(path.is_relative_to(root) for root in _installed_roots()) else path


def _module_file(name: str, found: dict[str, Path]) -> str | None:
    """Where module ``name`` is, without importing it: a submodule of a package not imported yet is looked for
    in the folder of its package's ``__init__.py`` (``found``: the files found so far)."""
    module = sys.modules.get(name)
    if module is not None:
        return getattr(module, "__file__", None)
    package, _, _ = name.rpartition(".")
    try:
        if not package or package in sys.modules:
            spec = importlib.util.find_spec(name)
        elif package in found and found[package].name == "__init__.py":
            spec = importlib.machinery.PathFinder.find_spec(name, [str(found[package].parent)])
        else:
            return None
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None and spec.has_location else None


def _prefixes(name: str) -> Iterator[str]:
    """``a``, ``a.b``, ``a.b.c`` for ``a.b.c``: importing a module imports its packages."""
    parts = name.split(".")
    return (".".join(parts[:end]) for end in range(1, len(parts) + 1))


def _imported_names(tree: ast.AST, package: str) -> Iterator[str]:
    """Every module name an ``import`` statement of ``tree`` may load (``from a import b``: ``a`` and ``a.b``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield from _prefixes(alias.name)
        elif isinstance(node, ast.ImportFrom):
            try:
                base = importlib.util.resolve_name("." * node.level + (node.module or ""), package) if node.level else node.module
            except (ImportError, ValueError):  # a relative import outside a package: it fails when run, too
                continue
            yield from _prefixes(base)
            yield from (f"{base}.{alias.name}" for alias in node.names if alias.name != "*")


def imported_sources(module: ModuleType) -> dict[str, str]:
    """``{module name: hash of its file}`` for the user's modules that ``module`` (a user's module) imports,
    directly or through one another, itself left out; empty when there are none."""
    root = _users_file(module.__name__, getattr(module, "__file__", None))
    if root is None:
        return {}
    found: dict[str, Path] = {}
    seen = {module.__name__}
    pending = [(root, module.__package__ or "")]
    while pending:
        path, package = pending.pop()
        try:
            tree = ast.parse(path.read_bytes())
        except (OSError, SyntaxError, ValueError):
            continue
        for name in _imported_names(tree, package):  # a package before its submodules
            if name in seen:
                continue
            seen.add(name)
            file = _users_file(name, _module_file(name, found))
            if file is not None:
                found[name] = file
                pending.append((file, name if file.name == "__init__.py" else name.rpartition(".")[0]))
    return {name: hashlib.sha256(found[name].read_bytes()).hexdigest()[:16] for name in sorted(found)}
