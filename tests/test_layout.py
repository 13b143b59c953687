"""The package layout holds: imports go down (bot → index.alerts → index core), the alerts
room uses only the core's public API, and no module imports another's private names.

Parsed from the source with ``ast`` (nothing is imported), so a violation fails here with
the file and line, before it can grow into a tangle."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Core modules the alerts room must not reach into: it goes through ``index.api.Index``.
CORE_INTERNALS = ("index.store", "index.generation", "index.vectors", "index.lifecycle",
                  "index.rebuild", "index.keywords", "index.chunkdays", "index.search",
                  "index.hubness", "index.ingest")


@dataclass(frozen=True)
class Import:
    file: str
    line: int
    module: str  # the imported module, absolute
    names: tuple[str, ...]  # names taken from it ("from m import a, b"); () for "import m"

    def __str__(self) -> str:
        taken = f" ({', '.join(self.names)})" if self.names else ""
        return f"{self.file}:{self.line} imports {self.module}{taken}"


def _module_of(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_in(package: str) -> list[Import]:
    found = []
    for path in sorted((REPO / package).rglob("*.py")):
        module = _module_of(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [Import(str(path.relative_to(REPO)), node.lineno, a.name, ())
                          for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                target = node.module or ""
                if node.level:  # relative: resolve against this module's package
                    base = module.split(".")
                    if not path.name == "__init__.py":
                        base = base[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join([*base, target] if target else base)
                found.append(Import(str(path.relative_to(REPO)), node.lineno, target,
                                    tuple(a.name for a in node.names)))
    return found


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


ALL = imports_in("index") + imports_in("bot")


def test_the_library_never_imports_the_telegram_layer() -> None:
    bad = [str(i) for i in ALL if i.file.startswith("index/") and _under(i.module, "bot")]
    assert not bad, bad


# Above both rooms: the benchmark, and backups (which copy the alert state beside the index).
ABOVE_BOTH = ("index/alerts/", "index/bench/", "index/backup.py")


def test_the_retrieval_core_does_not_import_the_alerts_room() -> None:
    bad = [str(i) for i in ALL
           if i.file.startswith("index/") and not i.file.startswith(ABOVE_BOTH)
           and _under(i.module, "index.alerts")]
    assert not bad, bad


def test_the_alerts_room_uses_only_the_cores_public_api() -> None:
    bad = [str(i) for i in ALL if i.file.startswith("index/alerts/")
           and any(_under(i.module, internal) for internal in CORE_INTERNALS)]
    assert not bad, bad


def test_no_module_imports_another_modules_private_names() -> None:
    bad = [str(i) for i in ALL
           if any(n.startswith("_") and not n.startswith("__") for n in i.names)]
    assert not bad, bad


@pytest.mark.parametrize("source, expected", [
    ("from index.store import Store\n", "index.store"),
    ("from .store import _rows\n", "index.store"),
    ("import index.alerts.matcher\n", "index.alerts.matcher"),
])
def test_the_checker_sees_each_kind_of_import(tmp_path: Path, source: str, expected: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The rules above are only as good as the parser: absolute, relative and plain
    imports are all resolved to the module they name."""
    package = tmp_path / "index"
    package.mkdir()
    (package / "probe.py").write_text(source, encoding="utf-8")
    monkeypatch.setattr(f"{__name__}.REPO", tmp_path)
    [found] = imports_in("index")
    assert found.module == expected
