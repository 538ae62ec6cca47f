"""The importer's bulk-load paths: rows staged by the checking processes and copied in by the database engine
(SQLite), indexes dropped and built again around a load that at least doubles a table (both databases). Each must
store exactly what the ordinary path stores, and fail as a whole."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import VILLAGE, operator
from db_triggers import trigger_names
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F

sys.path.insert(0, str(Path(__file__).parent))
from test_import import household_row, make_id, member_row, sample, write_csv_pair  # noqa: E402

from fangfan.core.crypto import decrypt_text  # noqa: E402
from fangfan.registry import bulkdb, staging  # noqa: E402
from fangfan.registry.importing.households import households_import  # noqa: E402
from fangfan.registry.models import Household, Member  # noqa: E402

pytestmark = pytest.mark.usefixtures("audit_triggers_back")

SKIP = {"id", "created_at", "updated_at", "household", "id_number", "phone"}


def stored() -> list[tuple]:
    """Every household with its members, as comparable values (ids, stamps and ciphertexts left out; the
    encrypted ID and phone compared decrypted)."""
    h_fields = [f.attname for f in Household._meta.concrete_fields if f.name not in SKIP]
    m_fields = [f.attname for f in Member._meta.concrete_fields if f.name not in SKIP]
    out = []
    for hh in Household.objects.order_by("number"):
        members = [
            (
                *(getattr(m, f) for f in m_fields),
                decrypt_text(m.id_number) if m.id_number.startswith("aes") else m.id_number,
                m.phone,
            )
            for m in hh.members.order_by("id_index")
        ]
        out.append((*(getattr(hh, f) for f in h_fields), hh.phone, tuple(members)))
    return out


def index_names(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return {
            c for c, info in connection.introspection.get_constraints(cursor, table).items() if info["index"]
        }


def test_paused_triggers_come_back_after_a_failed_load(committed_db, regions):
    """SQLite drops the member insert trigger for a bulk load and creates it again; a load that fails takes the
    drop back with everything else."""
    before = trigger_names()
    with (
        pytest.raises(RuntimeError),
        transaction.atomic(),
        bulkdb.sqlite_triggers_paused(Member, ["registry_member_region_insert"]),
    ):
        if connection.vendor == "sqlite":
            assert "registry_member_region_insert" not in trigger_names()
        raise RuntimeError("disk full")
    assert trigger_names() == before
    with transaction.atomic(), bulkdb.sqlite_triggers_paused(Member, ["registry_member_region_insert"]):
        pass
    assert trigger_names() == before


def big_sample(count: int) -> tuple[list[dict], list[dict]]:
    households, members = [], []
    for i in range(count):
        number = f"3415231042019{i:04d}"
        households.append(household_row(number, 户类型="一般农户", 脱贫年度="", 脱贫户分类=""))
        members.append(member_row(number, "孙一", make_id("19600101", 2 * i + 1), "户主"))
        members.append(member_row(number, "周二", make_id("19620202", 2 * i), "配偶"))
    return households, members


def test_staged_rows_store_what_the_ordinary_path_stores(committed_db, tmp_path, regions, monkeypatch):
    """Outside a transaction SQLite copies the staged rows with INSERT … SELECT; inside one they are read back and
    bound row by row. Both store the same households and members; the staging folder is gone afterwards."""
    households, members = sample()
    extra_h, extra_m = big_sample(30)
    folder = write_csv_pair(tmp_path / "a", [*households, *extra_h], [*members, *extra_m])
    monkeypatch.setenv("FANGFAN_IMPORT_WORKERS", "2")  # staged by two forked processes: two files to attach

    households_import(path=folder, actor=operator())
    first = stored()
    assert len(first) == 32 and sum(len(h[-1]) for h in first) == 64
    assert not Member.objects.exclude(household_region=F("household__region_id")).exists()

    Member.objects.all().delete()
    Household.objects.all().delete()
    with transaction.atomic():
        households_import(path=folder, actor=operator())
    assert stored() == first
    assert not any((Path(settings.DATA_DIR) / "tmp").glob("import-*"))


def test_failed_staged_import_leaves_nothing(committed_db, tmp_path, regions, monkeypatch):
    """A staged load that fails half way (here: the members' copy) rolls back the households too, and removes
    its staging files."""
    households, members = sample()

    def broken(schemas, table, sql, params):
        if table == "m":
            raise RuntimeError("disk full")
        return original(schemas, table, sql, params)

    from fangfan.registry.importing.write import Writing

    original = Writing.copy_staged
    monkeypatch.setattr(Writing, "copy_staged", staticmethod(broken))
    with pytest.raises(RuntimeError):
        households_import(path=write_csv_pair(tmp_path / "a", households, members), actor=operator())
    assert Household.objects.count() == 0 and Member.objects.count() == 0
    assert not any((Path(settings.DATA_DIR) / "tmp").glob("import-*"))


def test_staging_only_on_sqlite():
    assert staging.wanted() is (connection.vendor == "sqlite")


def test_bulk_load_drops_and_rebuilds_indexes(committed_db, tmp_path, regions, monkeypatch):
    """A load that at least doubles a table builds the indexes afterwards: the same indexes exist after the import,
    and the data is the same as through a load with the indexes kept."""
    before_h, before_m = index_names("registry_household"), index_names("registry_member")
    triggers = trigger_names()
    assert "registry_member_region_insert" in triggers
    calls = []
    real = bulkdb.indexes_deferred

    def low_threshold(model, incoming, *, at_least=20_000):
        calls.append((model.__name__, incoming))
        return real(model, incoming, at_least=1)

    households, members = big_sample(25)
    folder = write_csv_pair(tmp_path / "a", households, members)
    monkeypatch.setattr(bulkdb, "indexes_deferred", low_threshold)
    households_import(path=folder, actor=operator())
    assert calls == [("Household", 25), ("Member", 50)]
    assert index_names("registry_household") == before_h
    assert index_names("registry_member") == before_m
    assert trigger_names() == triggers  # SQLite paused the member insert trigger for the load: it is back
    if connection.vendor == "sqlite":  # the index builds' sorter settings are the connection's own again
        with connection.cursor() as cursor:
            settings_now = [cursor.execute(f"PRAGMA {p}").fetchone()[0] for p in ("cache_size", "threads")]
            assert settings_now == [-65536, 0]
            assert cursor.execute("PRAGMA temp_store").fetchone()[0] == 1  # files (settings)
    assert not Member.objects.exclude(household_region=F("household__region_id")).exists()
    deferred = stored()

    Member.objects.all().delete()
    Household.objects.all().delete()
    monkeypatch.setattr(bulkdb, "indexes_deferred", real)  # 25 rows: below the threshold, indexes kept
    households_import(path=folder, actor=operator())
    assert stored() == deferred


def test_rebuilt_unique_index_still_refuses_duplicates(committed_db, regions):
    """Dropping the unique index for a load does not let a duplicate in: rebuilding it fails, and the whole
    transaction with it (the dropped indexes come back with the rollback)."""
    before = index_names("registry_member")
    hh = Household.objects.create(number="34152310420100001", region_id=VILLAGE, household_type="general")
    row = {
        "household_id": hh.pk,
        "name": "张三",
        "id_number": "x",
        "id_index": "same",
        "id_masked": "m",
        "id_last4": "0000",
        "birth_date": "1970-01-01",
        "sex": "男",
        "relation": "户主",
    }
    pair = [Member(**row), Member(**{**row, "is_head": False, "relation": "配偶"})]
    deferred = bulkdb.indexes_deferred(Member, 2, at_least=1)
    with pytest.raises(IntegrityError), transaction.atomic(), deferred as dropped:
        assert dropped
        Member.objects.bulk_create(pair)
    assert Member.objects.count() == 0
    assert index_names("registry_member") == before


@pytest.mark.django_db
def test_no_index_dropped_for_a_load_into_a_larger_table(regions):
    hh = Household.objects.create(number="34152310420100001", region_id=VILLAGE, household_type="general")
    assert hh.pk
    with transaction.atomic(), bulkdb.indexes_deferred(Household, 1, at_least=1) as dropped:
        assert not dropped  # one row in the table already: the load does not double it


def test_deferred_indexes_need_a_transaction(committed_db):
    with pytest.raises(RuntimeError), bulkdb.indexes_deferred(Household, 5, at_least=1):
        pass


def test_a_killed_imports_staging_folder_is_removed_a_day_later(settings, tmp_path):
    """The staging files hold names: a folder left by an import that was killed goes when the next one starts."""
    import os
    import time

    settings.DATA_DIR = tmp_path
    stale = tmp_path / "tmp" / "import-old"
    fresh = tmp_path / "tmp" / "import-new"
    for folder in (stale, fresh):
        folder.mkdir(parents=True)
        (folder / "rows-1.sqlite3").write_text("张三")
    os.utime(stale, (time.time() - 2 * 86400,) * 2)
    with staging.folder() as path:
        assert Path(path).is_dir()
    assert not stale.exists() and fresh.exists()


@pytest.mark.django_db
def test_a_large_import_refreshes_the_planner_statistics(tmp_path, regions, monkeypatch):
    """Without statistics SQLite plans the household list 20–200× slower: an import that writes many rows
    analyses the registry tables (threshold lowered here)."""
    from fangfan.registry.importing import write

    monkeypatch.setattr(write, "ANALYZE_AT", 3)
    households, members = sample()
    summary = households_import(path=write_csv_pair(tmp_path / "a", households, members), actor=operator())
    assert "analyze" in summary.timings
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'registry_member'")
        else:
            cursor.execute("SELECT COUNT(*) FROM pg_stats WHERE tablename = 'registry_member'")
        assert cursor.fetchone()[0] > 0
    # A small import leaves the statistics alone.
    monkeypatch.setattr(write, "ANALYZE_AT", 5_000)
    again = households_import(
        path=write_csv_pair(tmp_path / "b", households[:1], members[:3]), actor=operator()
    )
    assert "analyze" not in again.timings


def test_more_staging_files_than_sqlite_attaches_are_read_back(committed_db, tmp_path, regions, monkeypatch):
    """A file per worker process; past the attach limit the rows are read back and written the ordinary way."""
    monkeypatch.setattr(staging, "MAX_ATTACHED", 0)
    monkeypatch.setenv("FANGFAN_IMPORT_WORKERS", "2")
    read = []
    real = staging.read_back
    monkeypatch.setattr(staging, "read_back", lambda file, table: read.append(table) or real(file, table))
    households, members = big_sample(30)
    households_import(path=write_csv_pair(tmp_path / "a", households, members), actor=operator())
    assert Household.objects.count() == 30 and Member.objects.count() == 60
    assert bool(read) is staging.wanted()  # SQLite stages; PostgreSQL takes COPY


@pytest.mark.django_db
@pytest.mark.parametrize("count", [4, 12])
def test_reserved_ids_are_fresh_and_the_table_goes_on_above_them(regions, monkeypatch, count):
    """A large block (PostgreSQL: one setval instead of a nextval per id) and a small one alike: consecutive,
    above every stored id, and once used, the next ordinary insert lands above the block."""
    monkeypatch.setattr(bulkdb, "BLOCK_AT", 10)
    before = Household.objects.create(number="34152310420100001", region_id=VILLAGE, household_type="general")
    with transaction.atomic():
        ids = bulkdb.reserve_ids(Household, count)
        Household.objects.bulk_create(
            Household(pk=pk, number=f"3415231042019{pk:04d}", region_id=VILLAGE, household_type="general")
            for pk in ids
        )
    assert ids == list(range(ids[0], ids[0] + count))
    assert ids[0] > before.pk
    after = Household.objects.create(number="34152310420100002", region_id=VILLAGE, household_type="general")
    assert after.pk > ids[-1]


@pytest.mark.django_db
def test_raw_rows_with_decimals_converted_equal_what_django_reads(regions):
    """The importer reads stored households with raw SQL: their amounts must be the Decimals Django gives, to the
    stored places, on both databases (SQLite keeps a decimal as a number)."""
    from decimal import Decimal

    amounts = ["0", "0.1", "1234.56", "5000", "99999999.99", "0.05", "23828.7"]
    for i, amount in enumerate(amounts):
        Household.objects.create(
            number=f"D-{i}",
            region_id=VILLAGE,
            household_type="general",
            wage_income=Decimal(amount),
            per_capita_income=None if i == 0 else Decimal(amount) / 3,
        )
    fields = ["number", "wage_income", "per_capita_income", "cancelled"]
    expected = list(Household.objects.order_by("number").values_list(*fields))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT number, wage_income, per_capita_income, cancelled FROM registry_household ORDER BY number"
        )
        raw = cursor.fetchall()
    got = list(bulkdb.decimals_converted(Household, fields, raw))
    assert got == expected
    assert [tuple(str(v) for v in row) for row in got] == [tuple(str(v) for v in row) for row in expected]
