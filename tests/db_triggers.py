"""The database triggers that exist now (SQLite's or PostgreSQL's own, not the internal ones): the tests of the kept
columns check that every migration left theirs in place."""

from __future__ import annotations

from django.db import connection


def trigger_names() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return {row[0] for row in cursor.fetchall()}
