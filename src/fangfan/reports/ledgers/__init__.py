"""台账 (DATA-FORMATS §5): the ledger specs (``base``, ``definitions``), their printable .xlsx (``writer``), their
background job (``jobs``) and their list pages (``reports.ledger_views``)."""

from . import definitions  # noqa: F401  (registers the ledgers)
from .base import LEDGERS, Ledger, LedgerScope, ledger_get, ledgers_for

__all__ = ["LEDGERS", "Ledger", "LedgerScope", "ledger_get", "ledgers_for"]
