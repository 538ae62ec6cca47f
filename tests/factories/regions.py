"""Regions for tests. Most tests use the demo tree (the ``regions`` fixture of tests/conftest.py, 341523 舒城县 down
to its villages); ``region`` returns one of it, or adds a place under an existing parent."""

from __future__ import annotations

from fangfan.regions.codes import level_of, parent_of
from fangfan.regions.models import Region


def region(code: str, name: str | None = None) -> Region:
    """The region ``code``, created (named ``name`` or after its code) under its parent when it is not there yet."""
    found = Region.objects.filter(code=code).first()
    if found is not None:
        return found
    parent = parent_of(code)
    return Region.objects.create(
        code=code,
        name=name or f"测试区划{code[-3:]}",
        level=level_of(code),
        parent=region(parent) if parent else None,
    )
