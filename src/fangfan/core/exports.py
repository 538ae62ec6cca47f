"""The exports ``fangfan export KIND`` can write (CLI.md, DATA-FORMATS §4), registered by the apps that own them.

An app registers each of its exports at import time, in a module named ``exporter``, ``exporting`` or ``exports``
(found by autodiscovery) or from its ``AppConfig.ready()``::

    from fangfan.core.exports import register_export

    register_export("warnings", warnings_export_region, "预警清单")

The function is called with keyword arguments, and only with those its signature accepts, out of
``actor`` (the user running the command), ``path`` (a ``Path`` ending in .xlsx or .csv), ``region_code`` (or None
for everything), ``reveal_ids`` (bool), ``progress(done, total, message)`` and ``options`` (a dict of the other
flags, e.g. ``{"members": True}``). It returns the number of rows written, or a Chinese sentence saying what it did.
The command itself is ``regions``' (it checks the region code).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.module_loading import autodiscover_modules


@dataclass(frozen=True)
class ExportKind:
    name: str
    function: Callable
    description: str


EXPORTERS: dict[str, ExportKind] = {}
_PASSABLE = ("actor", "path", "region_code", "reveal_ids", "progress", "options")


def register_export(name: str, function: Callable[..., Any], description: str = "", **_ignored: Any) -> None:
    """Make ``fangfan export NAME`` call ``function`` (see the module docstring for its arguments)."""
    EXPORTERS[name] = ExportKind(name=name, function=function, description=description)


def discover() -> dict[str, ExportKind]:
    autodiscover_modules("exporter", "exporting", "exports")
    return EXPORTERS


def run_export(kind: ExportKind, **kwargs: Any) -> Any:
    """Call an exporter with the arguments its signature accepts."""
    params = inspect.signature(kind.function).parameters
    takes_all = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    return kind.function(**{k: v for k, v in kwargs.items() if takes_all or k in params})
