"""The audit chain's head, kept outside the database: who can rewrite the audit table cannot rewrite this.

After each transaction that appended audit events commits, the chain's newest event (id and hash) is appended as
one line to ``settings.AUDIT_ANCHOR_FILE`` (``audit-anchor.log`` in the data directory, mode 0600) with an HMAC of
the line under ``settings.AUDIT_KEY``, and logged on the ``fangfan.audit.anchor`` logger (the system log). Since an
event's hash is an HMAC under the same key, the anchored id and hash fix the whole chain up to that event:
``verify_chain`` finds a table whose newest events were deleted (its last id is behind the anchor) or whose history
was rewritten (the anchored event's hash differs).

One line per committed transaction, not per event (an import appends thousands in one), taken from the event in
memory (no query), and no fsync: a line lost in a crash only leaves the last moments unanchored, never raises a
false alarm. Concurrent writers append whole
lines (``O_APPEND``); their order may interleave, so the head is the line with the highest id.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction

if TYPE_CHECKING:
    from .models import AuditEvent

log = logging.getLogger("fangfan.audit.anchor")

_pending = threading.local()


@dataclass(frozen=True)
class Anchor:
    event_id: int
    hash: str


class AnchorTampered(Exception):
    """A line of the anchor file whose HMAC does not verify (the file was edited)."""

    def __init__(self, line_number: int):
        super().__init__(line_number)
        self.line_number = line_number


def key() -> bytes:
    return settings.AUDIT_KEY.encode()


def anchor_path() -> Path:
    return Path(settings.AUDIT_ANCHOR_FILE)


def _mac(body: str) -> str:
    return hmac.new(key(), b"fangfan.audit.anchor|" + body.encode(), hashlib.sha256).hexdigest()


def anchor_line(event_id: int, event_hash: str) -> str:
    body = f"{event_id} {event_hash}"
    return f"{body} {_mac(body)}\n"


def anchor_write(event_id: int, event_hash: str) -> None:
    """Append the head to the anchor file (created 0600) and to the system log."""
    path = anchor_path()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, anchor_line(event_id, event_hash).encode())
    finally:
        os.close(fd)
    log.info("audit head id=%s hash=%s", event_id, event_hash)


def anchor_head() -> Anchor | None:
    """The anchored event with the highest id, or None when nothing was anchored yet. Raises ``AnchorTampered`` for
    a line whose HMAC does not verify."""
    path = anchor_path()
    if not path.exists():
        return None
    head: Anchor | None = None
    with path.open(encoding="ascii", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.endswith("\n"):
                break  # the last line, cut short by a crash while it was written: never complete, never trusted
            parts = line.split()
            if (
                len(parts) != 3
                or not parts[0].isdigit()
                or not hmac.compare_digest(_mac(f"{parts[0]} {parts[1]}"), parts[2])
            ):
                raise AnchorTampered(number)
            if head is None or int(parts[0]) > head.event_id:
                head = Anchor(int(parts[0]), parts[1])
    return head


class _Batch:
    """The transaction's newest event: only its own on-commit callback anchors (one line per transaction)."""

    latest: AuditEvent | None = None
    done = False


def _after_commit(batch: _Batch, event: AuditEvent) -> None:
    if batch.done or event is not batch.latest:
        return  # an older event of the transaction (the newest one's callback anchors)
    batch.done = True
    head = (event.pk, event.hash)
    if event.pk is None:  # a bulk insert that did not return ids: read the head back
        from .models import AuditEvent

        head = AuditEvent.objects.order_by("-id").values_list("id", "hash").first()
    try:
        anchor_write(*head)
    except OSError:
        log.exception("could not write the audit anchor file %s", anchor_path())


def anchor_on_commit(event: AuditEvent) -> None:
    """Called for each event appended inside a transaction: once that commits, the newest one is anchored. When a
    savepoint holding the newest event is rolled back, its callback goes with it and this transaction is not
    anchored (the next one is): the anchor may lag behind the table, never run ahead of it."""
    batch = getattr(_pending, "batch", None)
    if batch is None or batch.done:
        batch = _pending.batch = _Batch()
    batch.latest = event
    transaction.on_commit(lambda: _after_commit(batch, event), robust=True)
