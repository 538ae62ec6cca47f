"""The database state an import compares with, read before any slice is checked (worker processes never touch
the database): the stored households the file names, their members, members elsewhere."""

from __future__ import annotations

from datetime import date

from django.db import connection

from fangfan.core import crypto

from .. import bulkdb
from ..models import Household, Member
from .layout import H_ALL, M_FIELDS, M_POS


class StateLoading:
    household_count: int

    def load_households(self, numbers: set[str]) -> dict[str, dict]:
        """Stored households among ``numbers``, read with raw SQL (Django's conversions of a county's amounts took
        6.5 s, see ``bulkdb.decimals_converted``). When the file names most of the table (re-importing a county), one
        scan of the table; otherwise the rows of those numbers only."""
        fields = ["pk", "number", "cancelled", "region_id", *[f for f in H_ALL if f != "region"]]
        names = ["id", "number", "cancelled", "region", *[f for f in H_ALL if f != "region"]]
        qn = connection.ops.quote_name
        table = qn(Household._meta.db_table)
        columns = ", ".join(qn(c) for c in bulkdb.columns_of(Household, names))
        # Unscoped: the importer matches 户编号 and ID numbers system-wide (both unique everywhere) and checks each
        # matched row against the actor's jurisdiction itself (``plan``); these counts only choose a plan.
        self.household_count = Household.objects.unscoped().count()
        if len(numbers) > 20_000 and len(numbers) * 2 > self.household_count:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {columns} FROM {table}")  # noqa: S608
                rows = cursor.fetchall()
        else:
            rows = bulkdb.fetch_in(f"SELECT {columns} FROM {table} WHERE number", sorted(numbers))  # noqa: S608
        rows = bulkdb.decimals_converted(Household, names, rows)
        decrypt = crypto.decryptor()
        out = {}
        for row in rows:
            if row[1] in numbers:
                record = dict(zip(fields, row, strict=True))
                record["region"] = record.pop("region_id")
                if record["phone"]:  # raw SQL: the phone as stored, encrypted
                    record["phone"] = decrypt(record["phone"])
                out[row[1]] = record
        return out

    def load_members(self, household_pks: list[int]) -> dict[str, dict]:
        """Stored members of these households by blind index, their values in M_FIELDS order. Raw SQL (Django's
        SQLite connection still turns bool columns into Python bools; psycopg does by itself), phones decrypted with
        the key object made once."""
        if not household_pks:
            return {}
        fields = ["id", "household", "status", "id_index", "birth_date", *M_FIELDS]
        names = [connection.ops.quote_name(c) for c in bulkdb.columns_of(Member, fields)]
        if connection.vendor == "sqlite":
            # The birth date as its text (a unary + drops the declared type that makes the driver parse each one):
            # parsed here once per distinct date (≈ 30 000 among a county's 853 000 members).
            names[4] = f"+{names[4]}"
        columns = ", ".join(names)
        table = connection.ops.quote_name(Member._meta.db_table)
        births: dict = {}
        decrypt = crypto.decryptor()
        phone = 5 + M_POS["phone"]
        head = 5 + M_POS["is_head"]
        out = {}
        if len(household_pks) > 20_000 and len(household_pks) * 2 > self.household_count:
            wanted = set(household_pks)  # most of the table: one scan
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {columns} FROM {table}")  # noqa: S608
                rows = [row for row in cursor.fetchall() if row[1] in wanted]
        else:
            rows = bulkdb.fetch_in(f"SELECT {columns} FROM {table} WHERE household_id", household_pks)  # noqa: S608
        for row in rows:
            values = list(row[5:])
            if row[phone]:
                values[M_POS["phone"]] = decrypt(row[phone])
            birth = row[4]
            if isinstance(birth, str):
                birth = births.get(row[4])
                if birth is None:
                    birth = births[row[4]] = date.fromisoformat(row[4])
            out[row[3]] = {
                "pk": row[0],
                "household_id": row[1],
                "status": row[2],
                "id_index": row[3],
                "birth_date": birth,
                "is_head": bool(row[head]),
                "values": values,
            }
        return out

    def load_member_homes(self, indexes: list[str]) -> dict[str, int]:
        """Blind index → household of members already in the system (any household)."""
        if not indexes:
            return {}
        table = Member._meta.db_table
        wanted = set(indexes)
        if len(indexes) > 20_000 and len(indexes) * 2 > Member.objects.unscoped().count():
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT id_index, household_id FROM {connection.ops.quote_name(table)}")  # noqa: S608
                return {i: h for i, h in cursor.fetchall() if i in wanted}
        rows = bulkdb.fetch_in(
            f"SELECT id_index, household_id FROM {connection.ops.quote_name(table)} WHERE id_index",
            indexes,  # noqa: S608
        )
        return dict(rows)
