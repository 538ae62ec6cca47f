"""Logging filters (settings.LOGGING)."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied


class ForbiddenOneLine(logging.Filter):
    """A refused request is routine (a role without the action, a link followed by the wrong person): Django's
    ``django.request`` logs it with the whole traceback of ``PermissionDenied``. Make it one line naming the path
    and the action that was missing: ``Forbidden (403): /path action=household.edit``."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Once per record: logging configured twice in one process (a test that reconfigures it) would install the
        # filter again, and a second pass, finding no exception left, would drop the action.
        if getattr(record, "status_code", None) != 403 or getattr(record, "forbidden_one_line", False):
            return True
        record.forbidden_one_line = True
        exc = record.exc_info[1] if record.exc_info else None
        request = getattr(record, "request", None)
        path = getattr(request, "path", "") if request is not None else ""
        action = str(exc.args[0]) if isinstance(exc, PermissionDenied) and exc.args else ""
        record.msg = "Forbidden (403): %s action=%s" if action else "Forbidden (403): %s"
        record.args = (path, action) if action else (path,)
        record.exc_info = None
        record.exc_text = None
        return True
