"""Scoping fails closed (``core.scoping``): a read of a scoped model without a scope raises, in a view as
anywhere; the named unscoped paths are listed here, so that a new one is added deliberately; the command-line
operator is one account that ``for_user`` knows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import NEIGHBOUR_VILLAGE, VILLAGE, operator
from django.http import HttpResponse
from django.urls import path
from registry_factory import make_household

from fangfan.core import scoping
from fangfan.core.permissions import requires
from fangfan.core.scoping import ScopeError, unscoped_reads

SRC = Path(__file__).resolve().parents[2] / "src" / "fangfan"

# Every module that reads a scoped model without a user's scope, on purpose (a system path, a command, the
# demo, the children of rows already read in scope, a system-wide uniqueness check…): each place says why in a
# comment next to it. A new module here is a decision, to be reviewed: prefer ``for_user(user, action)``.
UNSCOPED_MODULES = {
    "assistance/consumption.py",
    "assistance/fund_selectors.py",
    "assistance/fund_views.py",
    "assistance/funds.py",
    "assistance/ledger_exports.py",
    "assistance/selectors.py",
    "core/scoping.py",
    "demo/assistance.py",
    "demo/backlog.py",
    "demo/department_data.py",
    "demo/funds.py",
    "demo/generator.py",
    "demo/history.py",
    "demo/management/commands/demo.py",
    "demo/workflows.py",
    "monitoring/department/importing.py",
    "monitoring/department_views.py",
    "monitoring/screening.py",
    "monitoring/selectors.py",
    "monitoring/services.py",
    "monitoring/tokens.py",
    "policy/selectors.py",
    "policy/services.py",
    "registry/exporter.py",
    "registry/filters.py",
    "registry/forms.py",
    "registry/history.py",
    "registry/importing/households.py",
    "registry/importing/state.py",
    "registry/recompute.py",
    "registry/selectors.py",
    "registry/services.py",
    "reports/ledgers/definitions.py",
    "workflows/selectors.py",
    "workflows/services.py",
}

_UNSCOPED = re.compile(r"\.unscoped\(|\bunscoped_reads\(")


@pytest.fixture
def guard_for_tests_too():
    """Test code itself is exempt (``tests/conftest.py``); these tests read as the application would."""
    previous = scoping._exempt_caller
    scoping.set_exempt_caller(None)
    yield
    scoping.set_exempt_caller(previous)


def test_the_guard_is_on_by_default(settings):
    assert settings.SCOPE_GUARD is True
    assert scoping.guard_enabled()


def test_every_way_of_reading_without_a_scope_raises(regions, guard_for_tests_too):
    from fangfan.registry.models import Household

    with unscoped_reads():
        household = make_household("H-G-001", VILLAGE)
    qs = Household.objects.filter(pk=household.pk)
    reads = [
        lambda: list(qs),
        qs.count,
        qs.exists,
        qs.first,
        lambda: qs.get(),
        lambda: list(qs.values("pk")),
        lambda: list(qs.values_list("pk", flat=True)),
        lambda: qs.aggregate(n=__import__("django.db.models", fromlist=["Count"]).Count("pk")),
        lambda: list(qs.iterator()),
        lambda: qs.in_bulk(),
        lambda: qs.update(phone=""),
        lambda: Household.objects.get_or_create(number="H-G-001", defaults={"region_id": VILLAGE}),
        qs.delete,
    ]
    for read in reads:
        with pytest.raises(ScopeError):
            read()


def test_scoped_reads_pass(regions, users, guard_for_tests_too):
    from fangfan.registry.models import Household

    with unscoped_reads():
        household = make_household("H-G-002", VILLAGE)
        make_household("H-G-003", NEIGHBOUR_VILLAGE)
    clerk = users["village_clerk"]
    assert [h.number for h in Household.objects.for_user(clerk, "household.view")] == ["H-G-002"]
    assert Household.objects.unscoped().count() == 2
    # A related manager of an object already read is scoped by it; a re-read by key to lock it too.
    assert household.members.count() == 1
    assert Household.objects.lock(household).pk == household.pk
    household.phone = ""
    assert Household.objects.bulk_update([household], ["phone"]) == 1
    # Nothing for someone without the action.
    assert not Household.objects.for_user(users["sys_admin"], "household.view").exists()


def test_test_code_reads_freely_but_application_code_does_not(regions, tmp_path):
    """The conftest predicate exempts a read whose first caller outside Django is a test; the same read made
    by the application (here: an export handed an unscoped queryset) still raises."""
    from fangfan.registry.exporter import households_export
    from fangfan.registry.models import Household
    from fangfan.registry.selectors import next_household_number

    assert Household.objects.count() == 0  # test code
    assert next_household_number(VILLAGE) == ""  # application code with a named unscoped read: passes
    with pytest.raises(ScopeError):
        households_export(actor=operator(), path=tmp_path / "x.csv", queryset=Household.objects.all())


def _unscoped_view(request):
    from fangfan.registry.models import Household

    return HttpResponse(str(Household.objects.count()))  # no scope: must fail loudly


_unscoped_view = requires("household.view")(_unscoped_view)
urlpatterns = [path("unscoped-read/", _unscoped_view, name="unscoped_read")]


@pytest.mark.urls(__name__)
def test_an_unscoped_read_in_a_view_fails_loudly(client, users):
    client.force_login(users["village_clerk"])
    with pytest.raises(ScopeError):
        client.get("/unscoped-read/")
    client.raise_request_exception = False
    assert client.get("/unscoped-read/").status_code == 500  # never every row, silently


def test_the_unscoped_paths_are_the_listed_ones():
    found = {
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if "migrations" not in p.parts and _UNSCOPED.search(p.read_text(encoding="utf-8"))
    }
    assert found - UNSCOPED_MODULES == set(), "新的未按辖区读取的模块：请改用 for_user，或在此登记并说明理由"
    assert UNSCOPED_MODULES - found == set(), "已不再未按辖区读取：请从清单中删去"


def test_the_operator_is_one_account_that_may_do_everything(regions, users):
    from fangfan.accounts.tokens import may_hold_token
    from fangfan.registry.models import Household

    with unscoped_reads():
        make_household("H-G-004", VILLAGE)
        make_household("H-G-005", NEIGHBOUR_VILLAGE)
    op = operator()
    assert op.is_operator and op.can("household.view") and op.can("anything.at.all")
    assert op.jurisdiction_range() == ("000000000000", "999999999999~")
    assert Household.objects.for_user(op, "household.view").count() == 2
    assert not may_hold_token(op)  # never a personal API token
    assert not users["town_station"].is_operator
    op.is_active = False
    assert not op.can("household.view")
    assert not Household.objects.for_user(op, "household.view").exists()


def test_services_refuse_a_missing_actor(regions):
    from fangfan.core.errors import DomainError
    from fangfan.monitoring.screening import screening_run

    with pytest.raises(DomainError):
        screening_run(actor=None)
