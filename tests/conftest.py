"""Shared fixtures: the demo region tree and one user per role, including a user of the neighbouring town."""

from __future__ import annotations

import functools
import os
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings

os.environ.setdefault("FANGFAN_TESTING", "1")

REGIONS_CSV = Path(__file__).resolve().parents[1] / "src/fangfan/regions/fixtures/demo_regions.csv"
PASSWORD = "Fangfan-Test-2026!"

TOWN = "341523104000"  # 桃溪镇
VILLAGE = "341523104201"  # 东风村
OTHER_VILLAGE = "341523104202"  # 新河村 (same town)
NEIGHBOUR_TOWN = "341523105000"  # 千人桥镇
NEIGHBOUR_VILLAGE = "341523105201"  # 复元村
COUNTY = "341523000000"
PROVINCE = "340000000000"


TESTS_DIR = str(Path(__file__).resolve().parent) + os.sep


def _read_by_test_code() -> bool:
    """Whether the scoped read being refused was made by test code itself (checking what the code under test
    wrote), not by the application: the first caller outside Django, the standard library and ``core/scoping.py``
    decides, and nothing read while Django handles a request is exempt (a view is the application, wherever it
    is written). The guard (``core.scoping``) stays on for every read the application makes, views, services and
    jobs alike."""
    import sys

    import django

    django_dir = str(Path(django.__file__).resolve().parent) + os.sep
    stdlib_dir = str(Path(os.__file__).resolve().parent) + os.sep  # collections.Counter(qs) and the like
    handler = os.sep + os.path.join("django", "core", "handlers", "base.py")
    frame = sys._getframe(2)
    first = None
    while frame is not None:
        name = frame.f_code.co_filename
        if name.endswith(handler):
            return False  # inside a request
        passing = name.startswith((django_dir, "<")) or name.endswith(os.sep + "scoping.py")
        if (
            first is None
            and not passing
            and not (name.startswith(stdlib_dir) and "site-packages" not in name)
        ):
            first = name
            if not first.startswith(TESTS_DIR):
                return False
        frame = frame.f_back
    return first is not None


def pytest_configure(config):
    from fangfan.core import scoping

    scoping.set_exempt_caller(_read_by_test_code)


def operator():
    """The command-line operator (``User.objects.cli_account``): the actor of system work in tests."""
    from fangfan.accounts.models import User

    return User.objects.cli_account("test")


@pytest.fixture(scope="session")
def _audit_anchor_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("audit-anchor")


@pytest.fixture(autouse=True)
def _fast_password_hashing_for_monitoring(request):
    """Monitoring tests create a dozen users per test: hash their passwords cheaply (Argon2 costs ~0.3 s each).
    Kept here rather than in a ``tests/monitoring/conftest.py``: a second module named ``conftest`` could be the
    one that ``from conftest import …`` found, depending on the order pytest imported them."""
    if "monitoring" in request.node.path.parts:
        request.getfixturevalue("settings").PASSWORD_HASHERS = [
            "django.contrib.auth.hashers.MD5PasswordHasher"
        ]


@pytest.fixture(autouse=True)
def audit_anchor_file(_audit_anchor_dir, settings) -> Path:
    """Each test anchors the audit chain in a file of its own: the table is rolled back or flushed after every test,
    and an anchor left by an earlier test would be ahead of it (``core.anchor``)."""
    path = _audit_anchor_dir / f"{uuid.uuid4().hex}.log"
    settings.AUDIT_ANCHOR_FILE = path
    return path


@pytest.fixture(autouse=True)
def _force_login_passes_the_second_factor(monkeypatch):
    """``client.force_login(user)`` stands for a whole sign-in: for a person who must have a second factor (or has
    one), a confirmed device is made if need be and the session counts as verified with it, as after typing its
    code. The second factor itself is tested through the sign-in page (tests/accounts/test_second_factor.py)."""
    from django.test import Client

    original = Client.force_login

    def force_login(self, user, backend=None):
        original(self, user, backend)
        pass_second_factor(self, user)

    monkeypatch.setattr(Client, "force_login", force_login)


def pass_second_factor(client, user) -> None:
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from fangfan.accounts import second_factor

    session = client.session
    if not (session.get(second_factor.PENDING_KEY) or second_factor.required_for(user)):
        return
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="测试", confirmed=True)
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.pop(second_factor.PENDING_KEY, None)
    session.save()


FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fast_passwords(request, settings):
    """Every test hashes passwords with MD5 (Argon2 costs ~0.3 s a user, on purpose), except those marked
    ``argon2``: the modules that check the production hasher itself (tests/accounts)."""
    if request.node.get_closest_marker("argon2") is None:
        settings.PASSWORD_HASHERS = FAST_HASHERS


@functools.cache
def _hashed_password(hasher: str) -> str:
    """The shared password hashed once per hasher: the MD5 hash of most tests must not be left behind for the
    tests marked ``argon2`` (the cache is keyed by the first hasher in force)."""
    from django.contrib.auth.hashers import make_password

    return make_password(PASSWORD)


@pytest.fixture
def regions(db):
    from fangfan.regions.models import Region
    from fangfan.regions.services import regions_import

    regions_import(path=REGIONS_CSV, actor=operator())
    return {r.code: r for r in Region.objects.all()}


@pytest.fixture
def make_user(db, regions):
    from fangfan.accounts.models import User

    def make(role: str, region: str, *, username: str | None = None, department: str = "", **extra) -> User:
        # Argon2 is slow on purpose: hash the shared test password once per session, not once per user.
        user = User.objects.create(
            username=username or f"{role}-{region}-{department}".strip("-"),
            password=_hashed_password(django_settings.PASSWORD_HASHERS[0]),
            role=role,
            region_id=region,
            department=department,
            full_name=extra.pop("full_name", "测试用户"),
            **extra,
        )
        return user

    return make


@pytest.fixture
def users(make_user):
    """One user per role, in 桃溪镇 / 东风村 (or the county/province above), plus neighbours in 千人桥镇."""
    return {
        "village_clerk": make_user("village_clerk", VILLAGE),
        "other_village_clerk": make_user("village_clerk", OTHER_VILLAGE),
        "helper": make_user("helper", VILLAGE),
        "town_station": make_user("town_station", TOWN),
        "town_leader": make_user("town_leader", TOWN),
        "department": make_user("department", TOWN, department="medical"),
        "county_review": make_user("county_review", COUNTY),
        "province_record": make_user("province_record", PROVINCE),
        "sys_admin": make_user("sys_admin", COUNTY),
        "sec_admin": make_user("sec_admin", COUNTY),
        "audit_admin": make_user("audit_admin", COUNTY),
        "neighbour_station": make_user("town_station", NEIGHBOUR_TOWN),
        "neighbour_clerk": make_user("village_clerk", NEIGHBOUR_VILLAGE),
    }


def _audit_triggers(vendor: str, up: bool) -> list[str]:
    """The SQL that makes the audit table append-only (core migration 0002), or takes that away."""
    import importlib

    migration = importlib.import_module("fangfan.core.migrations.0002_audit_append_only")
    if vendor == "postgresql":
        return migration.PG_UP if up else migration.PG_DOWN
    return migration.SQLITE_UP if up else migration.SQLITE_DOWN


@pytest.fixture
def committed_db(transactional_db):
    """A database where the code under test commits for real (SQLite cannot ATTACH inside a transaction, for
    one). The flush that empties it afterwards would meet the audit table's append-only triggers: they are taken
    away for the flush, and put back by the ``audit_triggers_back`` fixture of the module."""
    from django.db import connection

    from fangfan.workflows.defaults import install
    from fangfan.workflows.models import Process, Step

    # An earlier committed test's flush also emptied the rows the data migrations ship: the processes' defaults.
    install(Process, Step)
    yield
    with connection.cursor() as cursor:
        for sql in _audit_triggers(connection.vendor, up=False):
            cursor.execute(sql)


@pytest.fixture(scope="module")
def audit_triggers_back(django_db_setup, django_db_blocker):
    """Use with ``committed_db``: the audit table is append-only again once the module's tests are done."""
    yield
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        # Down first (every statement has IF EXISTS): pytest-django runs transactional tests last, so this may
        # run while the triggers are still there.
        for sql in [
            *_audit_triggers(connection.vendor, up=False),
            *_audit_triggers(connection.vendor, up=True),
        ]:
            cursor.execute(sql)


@pytest.fixture
def concurrent_db(committed_db, tmp_path):
    """``committed_db`` where each thread's connection is another user's, as in production: PostgreSQL as it is
    (real concurrent transactions); on SQLite the in-memory test database (its shared cache refuses a second
    writer at once with "locked", which production never does) is copied to a file used for the test, opened
    with the production settings (WAL, busy timeout, IMMEDIATE transactions: writers queue). Ask for it before
    the fixtures that create rows, so that they land in the file."""
    import sqlite3

    from django.db import connection, connections

    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield
        return
    connection.ensure_connection()
    memory, name = connection.connection, connection.settings_dict["NAME"]
    path = tmp_path / "concurrent.sqlite3"
    target = sqlite3.connect(path)
    memory.backup(target)
    target.close()
    connection.connection = None  # the in-memory database stays open (``memory``), unused until the end
    connection.settings_dict["NAME"] = str(path)
    try:
        yield
    finally:
        connections.close_all()
        connection.settings_dict["NAME"] = name
        connection.connection = memory
