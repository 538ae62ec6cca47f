"""How an ID number or a phone is shown by default (PIPL; DOMAIN.md §8) — the one place that decides it, for pages,
exports, the API, audit details and the importer alike.

Pure Python (no Django): ``registry.idnumber`` and the importer's worker processes use it too.
"""

from __future__ import annotations

__all__ = ["mask_id", "mask_phone"]


def mask_id(value: str | None) -> str:
    """The first 6 and last 4 characters of an 18-character ID number, the 8 between as ``*`` —
    ``110105********0022``; a legacy 15-digit number likewise (6 + ``*****`` + 4). A 20-character 残疾人证号 is an
    18-character number and two digits naming the disability category and grade: its ID part is shown as above and
    the two digits masked too (``110105********0022**``), so the mask says nothing about a person's health.
    Blanks are dropped and a check character ``x`` shown as ``X``. Never raises: anything of 10 characters or
    fewer becomes all ``*``."""
    if value is None:
        return ""
    if len(value) != 18 or not value.isascii() or value[17] == "x":  # the stored form is the fast path
        value = "".join(str(value).split()).upper()
    if len(value) == 20:
        return mask_id(value[:18]) + "**"
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str:
    """A phone as shown by default, never every digit: 11 characters or more keep the first 3 and last 4
    (``138****5678``, a 12-digit landline with its area code ``056*****5678``); 7 to 10 keep the first 2 and last
    2 (``12***67``); anything shorter is all ``*``. Blanks around it are dropped; "" stays ""."""
    phone = (value or "").strip()
    size = len(phone)
    if size >= 11:
        head, tail = 3, 4
    elif size >= 7:
        head, tail = 2, 2
    else:
        return "*" * size
    return phone[:head] + "*" * (size - head - tail) + phone[-tail:]
