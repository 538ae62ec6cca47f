"""Reads of the region tree."""

from __future__ import annotations

from .codes import Level, ancestors_of, code_range
from .models import Region


def region_path(code: str) -> list[Region]:
    """The region and its ancestors, from the province down."""
    codes = [*ancestors_of(code), code]
    found = {r.code: r for r in Region.objects.filter(code__in=codes)}
    return [found[c] for c in codes if c in found]


def region_full_name(code: str) -> str:
    """Names from the county down, e.g. 某县 东风镇 东风村."""
    return " ".join(r.name for r in region_path(code) if r.level >= Level.COUNTY)


def region_name(code: str) -> str:
    """The region's name, or its code when the tree does not hold it."""
    return Region.objects.filter(code=code).values_list("name", flat=True).first() or code


def subtree(code: str):
    lo, hi = code_range(code)
    return Region.objects.filter(code__gte=lo, code__lt=hi)


def villages_for_user(user):
    """Villages inside the user's jurisdiction, for filters and dropdowns."""
    return Region.objects.for_user(user, "region.view").filter(level=5).order_by("code")
