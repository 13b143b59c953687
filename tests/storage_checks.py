"""Checks that a storage backend class matches a ``typing.Protocol`` of ``index.storage``."""

from __future__ import annotations

import inspect


def protocol_members(protocol: type) -> list[str]:
    """The methods a Protocol declares (its own, not ``object``'s or ``Protocol``'s)."""
    return sorted(name for name, value in vars(protocol).items()
                  if callable(value) and not name.startswith("_"))


def protocol_mismatches(cls: type, protocol: type) -> list[str]:
    """Every way ``cls`` differs from ``protocol``: a missing method, or a method whose
    parameters (names, kinds, defaults, annotations) or return annotation differ."""
    problems = []
    for name in protocol_members(protocol):
        if not callable(getattr(cls, name, None)):
            problems.append(f"{cls.__name__}.{name} is missing")
            continue
        want = inspect.signature(getattr(protocol, name))
        have = inspect.signature(getattr(cls, name))
        if _shape(want) != _shape(have):
            problems.append(f"{cls.__name__}.{name}{have} != {protocol.__name__}.{name}{want}")
    return problems


def _shape(sig: inspect.Signature) -> tuple:
    params = tuple((p.name, p.kind, p.default, str(p.annotation))
                   for p in sig.parameters.values())
    return params, str(sig.return_annotation)
