"""Kept for the tests that import it by this name: the household factories live in ``tests/factories/registry.py``."""

from factories.registry import make_household, make_id, make_member

__all__ = ["make_household", "make_id", "make_member"]
