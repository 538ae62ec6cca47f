"""台账 (DATA-FORMATS §5): the ledger specs (``base``, ``definitions``), their printable .xlsx (``writer``), their
background job (``jobs``) and their list pages (``reports.ledger_views``).

The names below load the definitions (and with them the registry's selectors) on first use, not when the package
is imported: the app's ``ready()`` imports ``jobs`` in every process, and ``fangfan screen`` must start without the
registry's import and pinyin modules."""

from __future__ import annotations

from typing import Any

__all__ = ["LEDGERS", "Ledger", "LedgerScope", "ledger_get", "ledgers_for"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import base, definitions  # noqa: F401  (definitions registers the ledgers)

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
