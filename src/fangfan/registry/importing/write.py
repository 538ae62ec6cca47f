"""Writing a checked import: the rows prepared (IDs and phones encrypted, IDs masked) and written in one
transaction through ``bulkdb`` (SQLite ``executemany`` or staged files, PostgreSQL ``COPY``), one
``household.imported`` audit event and one ``household.updated`` per changed existing household."""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection, transaction
from django.utils import timezone

from fangfan.core import anchor, audit, crypto
from fangfan.core.masking import mask_id
from fangfan.core.models import AuditEvent

from .. import bulkdb, staging
from ..models import Household, Member
from .layout import (
    _H_PHONE,
    _H_REGION,
    _HEAD,
    _M_PHONE,
    ANALYZE_AT,
    H_ALL,
    M_FIELDS,
    M_ID_FIELDS,
    REGION_TRIGGER,
    SYNC_SOURCE,
    ImportSummary,
)
from .plan import _audit_value, _Merged, _SliceResult


def _h_row(values: dict, enc) -> list:
    row = [values[f] for f in H_ALL]
    if row[_H_PHONE]:
        row[_H_PHONE] = enc(row[_H_PHONE])
    return row


def _id_row(id_values: tuple, index: str, enc) -> tuple:
    stored, id18, birth, sex, _card = id_values
    return (enc(stored), index, mask_id(id18), id18[14:], birth, sex)


def _m_row(final: list, phone_pos: int, enc) -> list:
    row = list(final)
    if row[phone_pos]:
        row[phone_pos] = enc(row[phone_pos])
    return row


class Writing:
    def prepare_rows(self, result: _SliceResult) -> None:
        """Turn the slice's plan into the rows the database receives: encrypted, masked, in column order. The
        household of a new member is its 户编号 here; the parent puts in the id."""
        enc = crypto.encryptor()
        if self.stage_dir is not None and (result.hh_new or result.m_new):
            # Staged (SQLite): rows of (户编号, *columns), built once, straight into this process's staging file.
            result.staged = staging.append(
                self.stage_dir,
                [(number, *_h_row(values, enc)) for number, values in result.hh_new],
                [
                    (number, *_id_row(entry[1], entry[3], enc), *_m_row(final, _M_PHONE, enc))
                    for number, entry, final in result.m_new
                ],
            )
            staged_new = True
        else:
            staged_new = False
        result.hh_new_rows = (
            [] if staged_new else [(number, tuple(_h_row(values, enc))) for number, values in result.hh_new]
        )
        result.hh_changed_rows = [
            (old["pk"], number, tuple(_h_row(values, enc)), values["region"], detail)
            for number, old, values, detail in result.hh_changed
        ]
        result.m_new_rows = (
            []
            if staged_new
            else [
                (number, (*_id_row(entry[1], entry[3], enc), *_m_row(final, _M_PHONE, enc)))
                for number, entry, final in result.m_new
            ]
        )
        result.m_changed_rows = [
            (
                current["pk"],
                number,
                (*_id_row(entry[1], entry[3], enc), *_m_row(final, _M_PHONE, enc)),
                bool(current["values"][_HEAD] and not final[_HEAD]),  # a head stepping down
            )
            for number, entry, final, current in result.m_changed
        ]
        result.drop_plan()

    def write(self, plan: _Merged, summary: ImportSummary, lap: Callable[[str], None]) -> None:
        files = sorted({r.staged for r in plan.results if r.staged})
        with staging.attached(files) as schemas:
            if files and schemas is None:
                # Inside a caller's transaction: the rows come back the ordinary way (a file holds every slice its
                # process checked, so each file is read once, into the first of its slices).
                read: set[str] = set()
                for r in plan.results:
                    if r.staged and r.staged not in read:
                        read.add(r.staged)
                        r.hh_new_rows = staging.read_back(r.staged, "hh")
                        r.m_new_rows = staging.read_back(r.staged, "m")
                    r.staged = ""
            self.write_rows(plan, summary, lap, schemas or [])

    def write_rows(self, plan: _Merged, summary: ImportSummary, lap: Callable[[str], None], schemas) -> None:
        now = timezone.now()
        stamp = bulkdb.db_datetime(now)
        half = self.total // 2
        qn = connection.ops.quote_name
        with transaction.atomic():
            # The summary event first: it takes the audit chain's lock, held until commit.
            event = audit.record(
                self.actor,
                "household.imported",
                object_type="registry.household",
                object_label=self.name[:200],
                region_code=getattr(self.actor, "region_id", "") or "",
                after={
                    "file": self.name,
                    **{
                        k: v
                        for k, v in summary.as_dict().items()
                        if k.startswith(("households_", "members_"))
                    },
                },
            )
            self.progress(half, self.total, "正在写入农户")
            # New households, with ids drawn first so their members can point at them.
            new = [row for r in plan.results for row in r.hh_new_rows]
            ids = bulkdb.reserve_ids(Household, len(new))
            pk_of = {}
            region_of = {}  # the village of each household that gains members: the members carry it
            rows = []
            for pk, (number, values) in zip(ids, new, strict=True):
                pk_of[number] = pk
                region_of[number] = values[_H_REGION]
                rows.append((pk, number, *values, False, "", stamp, stamp))
            hh_cols = ["id", "number", *H_ALL, "cancelled", "cancelled_reason", "created_at", "updated_at"]
            staged = sum(r.n_hh_new for r in plan.results if r.staged)
            with bulkdb.indexes_deferred(Household, len(rows) + staged):
                bulkdb.insert_rows(Household, hh_cols, rows, adapt=False)
                tail = [False, "", stamp, stamp]
                cols = ", ".join(qn(c) for c in bulkdb.columns_of(Household, hh_cols[1:]))
                picks = ", ".join(f"c{i}" for i in range(1 + len(H_ALL)))
                copied = self.copy_staged(
                    schemas,
                    "hh",
                    f"INSERT INTO {qn(Household._meta.db_table)} ({cols}) SELECT {picks}, %s, %s, %s, %s FROM {{}}",
                    tail,
                )
                if copied != staged:
                    raise RuntimeError(f"staged households: {copied} copied, {staged} expected")
            del rows, new
            # Changed households.
            upd = []
            for r in plan.results:
                for pk, number, values, _region, _detail in r.hh_changed_rows:
                    pk_of[number] = pk
                    region_of[number] = values[_H_REGION]
                    upd.append((pk, *values, stamp))
            bulkdb.update_rows(Household, [*H_ALL, "updated_at"], upd, adapt=False)
            del upd
            lap("write_households")
            self.progress(half + (self.total - half) // 4, self.total, "正在写入成员")

            # Members: heads that stop being heads go first (one head per household holds at every step).
            for demoted in (True, False):
                upd = [
                    (pk, pk_of[number], *values, stamp)
                    for r in plan.results
                    for pk, number, values, stepping_down in r.m_changed_rows
                    if stepping_down is demoted
                ]
                bulkdb.update_rows(
                    Member, ["household", *M_ID_FIELDS, *M_FIELDS, "updated_at"], upd, adapt=False
                )
            m_cols = [
                "household",
                "household_region",
                *M_ID_FIELDS,
                *M_FIELDS,
                "status",
                "joined_reason",
                "joined_date",
                "left_reason",
                "left_date",
                "created_at",
                "updated_at",
            ]
            tail = ("active", "", None, "", None, stamp, stamp)
            rows = [
                (pk_of[number], region_of[number], *values, *tail)
                for r in plan.results
                for number, values in r.m_new_rows
            ]
            lap("prepare_members")
            self.progress(half + (self.total - half) // 2, self.total, "正在写入成员")
            staged = sum(r.n_m_new for r in plan.results if r.staged)
            with (
                bulkdb.indexes_deferred(Member, len(rows) + staged) as bulk,
                # Every row holds its household's village already (joined from the household when staged).
                bulkdb.sqlite_triggers_paused(Member, [REGION_TRIGGER], when=bulk),
            ):
                bulkdb.insert_rows(Member, m_cols, rows, adapt=False)
                # Staged members find their household by 户编号 (new households got their ids just above).
                width = len(M_ID_FIELDS) + len(M_FIELDS)
                cols = ", ".join(qn(c) for c in bulkdb.columns_of(Member, m_cols))
                picks = ", ".join(f"s.c{i}" for i in range(1, 1 + width))
                copied = self.copy_staged(
                    schemas,
                    "m",
                    f"INSERT INTO {qn(Member._meta.db_table)} ({cols}) SELECT h.id, h.region_id, {picks}, "
                    f"%s, %s, %s, %s, %s, %s, %s FROM {{}} s JOIN main.{qn(Household._meta.db_table)} h "
                    "ON h.number = s.c0",
                    list(tail),
                )
                if copied != staged:
                    raise RuntimeError(f"staged members: {copied} copied, {staged} expected")
            del rows
            lap("write_members")
            self.write_audit(plan, event, now)
        lap("audit_and_commit")
        if plan.hh_new + plan.hh_changed + plan.m_new + plan.m_changed >= ANALYZE_AT:
            # A large load changes what the planner must know: without statistics SQLite plans the list 20–200×
            # slower (a county search page 1.3 s instead of 2 ms), and PostgreSQL's autovacuum may lag.
            self.progress(self.total - 1, self.total, "正在更新统计信息")
            bulkdb.analyze(Household, Member)
            lap("analyze")

    @staticmethod
    def copy_staged(schemas, table: str, sql: str, params: list) -> int:
        """Run ``sql`` (an ``INSERT … SELECT … FROM {}``) once per attached staging file holding ``table``; the
        number of rows inserted."""
        copied = 0
        with connection.cursor() as cursor:
            for schema, tables in schemas:
                if table in tables:
                    cursor.execute(sql.format(f"{schema}.{table}"), params)
                    copied += cursor.rowcount
        return copied

    def write_audit(self, plan: _Merged, first: AuditEvent, now) -> None:
        """One ``household.updated`` event per changed existing household, chained after the summary event (whose
        lock on the chain is held by this transaction); with 与国家系统同步, one ``household.status_synced`` per
        household whose official fields the file changed: its status history, with the source and the job."""
        prev = first.hash
        events = []
        changes = [
            ("household.updated", pk, number, region, before, after, f"导入 {self.name}"[:200])
            for r in plan.results
            for pk, number, _values, region, (before, after) in r.hh_changed_rows
        ]
        if self.sync_national and plan.official:
            where = {
                number: (pk, region) for r in plan.results for pk, number, _v, region, _d in r.hh_changed_rows
            }
            job = f"导入任务 {self.job_id}，" if self.job_id else ""
            for number, fields in plan.official:
                pk, region = where[number]
                before = {f: _audit_value(stored) for f, stored, _new in fields}
                after = {f: _audit_value(new) for f, _stored, new in fields}
                after |= {"source": SYNC_SOURCE, "job": self.job_id}
                note = f"{SYNC_SOURCE}（{job}文件 {self.name}）"[:200]
                changes.append(("household.status_synced", pk, number, region, before, after, note))
        for action, pk, number, region, before, after, note in changes:
            event = AuditEvent(
                at=now,
                actor=first.actor,
                actor_username=first.actor_username,
                actor_role=first.actor_role,
                region_code=region,
                action=action,
                object_type="registry.household",
                object_id=str(pk),
                object_label=f"户 {number}",
                before=audit.mask(before),
                after=audit.mask(after),
                note=note,
                request_id=first.request_id,
                ip=first.ip,
                prev_hash=prev,
                hash_version=first.hash_version,
            )
            event.hash = audit.compute_hash(event)
            prev = event.hash
            events.append(event)
        AuditEvent.objects.bulk_create(events, batch_size=1000)
        if events:
            anchor.anchor_on_commit(events[-1])  # the chain's head once this transaction commits
