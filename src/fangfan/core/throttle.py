"""Rate limits and single-use challenges kept in the database, so that they hold across server processes,
restarts and every worker of a deployment (a per-process cache forgets them and multiplies the limit).

A limited client is named by a keyed HMAC of its address (``address_key``): the address itself is never stored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import os
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .crypto import blind_index
from .models import ThrottleHit, UsedChallenge

OVERALL = "*"


@dataclass(frozen=True)
class Limit:
    """At most ``limit`` attempts per ``window`` in ``scope``."""

    scope: str
    limit: int
    window: timedelta


def address_key(address: str, scope: str) -> str:
    """The stored name of a client address for ``scope``: a keyed HMAC, not reversible without the key."""
    return blind_index(address or "unknown", purpose=f"throttle:{scope}")


def retry_after(limit: Limit, key: str, *, now: datetime | None = None) -> int:
    """Seconds until ``key`` may try again under ``limit``; 0 when it may now."""
    now = now or timezone.now()
    recent = list(
        ThrottleHit.objects.filter(scope=limit.scope, key=key, at__gt=now - limit.window)
        .order_by("-at")
        .values_list("at", flat=True)[: limit.limit]
    )
    if len(recent) < limit.limit:
        return 0
    return max(1, math.ceil((recent[-1] + limit.window - now).total_seconds()))


def hit(limit: Limit, key: str, *, now: datetime | None = None) -> None:
    """Count one attempt of ``key``; forget the scope's attempts that have left the window."""
    now = now or timezone.now()
    ThrottleHit.objects.create(scope=limit.scope, key=key, at=now)
    ThrottleHit.objects.filter(scope=limit.scope, at__lte=now - limit.window).delete()


def minutes(seconds: int) -> int:
    """Whole minutes to tell a person (rounded up, at least 1)."""
    return max(1, math.ceil(seconds / 60))


# --- single-use challenges (the public page's small sum) ------------------------------------------------------

CHALLENGE_MAX_AGE = 3600


def _challenge_cipher() -> AESGCM:
    key = hmac.digest(settings.SECRET_KEY.encode(), b"fangfan.challenge.v1", hashlib.sha256)
    return AESGCM(key)


def challenge_new(purpose: str) -> tuple[str, str]:
    """A small sum to solve: (the question, an opaque token). The token is encrypted and authenticated with a
    key derived from the secret key: the page cannot read the answer out of it, nor forge one."""
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    payload = json.dumps({"i": secrets.token_hex(16), "s": a + b, "t": int(time.time())}).encode()
    nonce = os.urandom(12)
    sealed = _challenge_cipher().encrypt(nonce, payload, purpose.encode())
    return f"{a} + {b} = ？", base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def _open(token: str, purpose: str) -> dict | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(_challenge_cipher().decrypt(raw[:12], raw[12:], purpose.encode()))
        return {"id": str(payload["i"])[:32], "sum": int(payload["s"]), "issued": int(payload["t"])}
    except (binascii.Error, InvalidTag, ValueError, KeyError, TypeError):
        return None


def challenge_answer(token: str, answer: int, purpose: str) -> bool:
    """Use the challenge ``token`` once: True when ``answer`` solves it. A token is spent by its first answer,
    right or wrong — a replayed token, an expired or a forged one is refused."""
    values = _open(token or "", purpose)
    if values is None:
        return False
    now = time.time()
    if not (now - CHALLENGE_MAX_AGE <= values["issued"] <= now + 60):
        return False
    expires = datetime.fromtimestamp(values["issued"] + CHALLENGE_MAX_AGE, tz=UTC)
    try:
        with transaction.atomic():
            UsedChallenge.objects.create(id=values["id"], expires_at=expires)
    except IntegrityError:
        return False  # answered before
    UsedChallenge.objects.filter(expires_at__lt=timezone.now()).delete()
    return answer == int(values["sum"])
