"""What follows a saved policy value, registered by the apps it concerns (policy comes before them in the layer
order and imports none of them): the registry recomputes the households of the region (``registry.policy_changes``).

A receiver is called as ``receiver(request, region_code=…, year=…)`` after ``services.policy_set`` succeeded, and may
add messages to the request."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest

Receiver = Callable[..., None]
_RECEIVERS: list[Receiver] = []


def on_value_saved(receiver: Receiver) -> Receiver:
    """Register ``receiver`` (usable as a decorator); registering the same function twice keeps one."""
    if receiver not in _RECEIVERS:
        _RECEIVERS.append(receiver)
    return receiver


def value_saved(request: HttpRequest, *, region_code: str, year: int) -> None:
    for receiver in list(_RECEIVERS):
        receiver(request, region_code=region_code, year=year)
