"""Hooks other apps register with the registry, in a module that imports nothing (an app's ``ready`` may import it
without loading the registry's services, their pinyin and import/export code: ``fangfan screen`` starts lean).

``after_visit(hook)``: called after a contact's visit that changed the registry has committed
(``assistance.visits``), as ``hook(household=, actor=)`` → the labels of the warnings the change raised.
``monitoring`` registers its incremental screening here."""

from __future__ import annotations

from collections.abc import Callable

AFTER_VISIT: list[Callable[..., list[str]]] = []


def after_visit(hook: Callable[..., list[str]]) -> Callable[..., list[str]]:
    if hook not in AFTER_VISIT:
        AFTER_VISIT.append(hook)
    return hook
