"""The client's address, read in one place (audit events, the sign-in lock-out, throttles, the public page).

``X-Forwarded-For`` is honoured only when the request comes from a proxy listed in ``FANGFAN_TRUSTED_PROXIES``
(addresses or networks); from anyone else the header is a claim the client makes about itself and is ignored.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None,
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...],
) -> bool:
    return address is not None and any(address in net for net in networks)


def client_ip(request: HttpRequest) -> str:
    """The address of the client: ``REMOTE_ADDR``, or — when that is a trusted proxy — the right-most address of
    ``X-Forwarded-For`` that is not itself a trusted proxy (each proxy appends the address it was reached from, so
    the entries left of that one are the client's own, unverifiable claims)."""
    remote = (request.META.get("REMOTE_ADDR") or "").strip()
    networks = _networks(tuple(getattr(settings, "FANGFAN_TRUSTED_PROXIES", ()) or ()))
    if not networks or not _trusted(_address(remote), networks):
        return remote
    hops = [h.strip() for h in (request.META.get("HTTP_X_FORWARDED_FOR") or "").split(",") if h.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # a malformed entry: nothing left of it can be trusted either
        if not _trusted(address, networks):
            return str(address)
    return remote
