"""The synthetic town (``fangfan demo``): deterministic from its seed, plausible in its distributions, consistent
with the registry's own rules (ID numbers, derived income, one head per household), with a user for every role."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from conftest import operator
from django.contrib.auth.password_validation import validate_password
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from fangfan.accounts.models import User
from fangfan.accounts.roles import Department, Role
from fangfan.core.errors import DomainError
from fangfan.core.masking import mask_id
from fangfan.core.models import AuditEvent
from fangfan.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from fangfan.demo.generator import _plan_villages, demo_existing, demo_generate
from fangfan.regions.codes import Level, level_of, parent_of
from fangfan.registry.choices import COMPULSORY_STAGES, MonitoringType
from fangfan.registry.classification import IncomeItems, household_net_income, per_capita_net_income
from fangfan.registry.derive import DERIVED_FIELDS, age_on_school_day, name_initials
from fangfan.registry.idnumber import parse_id
from fangfan.registry.models import Household, Member
from fangfan.registry.services import household_recompute, id_index

pytestmark = pytest.mark.django_db

SEED = 11
SMALL = 300


def _fingerprint() -> dict:
    households = list(
        Household.objects.order_by("number").values_list(
            "number",
            "region_id",
            "household_type",
            "exited_class",
            "monitoring_type",
            "size",
            "per_capita_income",
        )
    )
    members = list(
        Member.objects.order_by("household__number", "id").values_list(
            "name", "id_index", "birth_date", "relation", "school_status", "health", "labour_skill"
        )
    )
    return {"households": households, "members": members}


def _generate_and_roll_back(**kwargs) -> dict:
    with transaction.atomic():
        summary = demo_generate(actor=operator(), **kwargs)
        result = {"summary": summary.as_dict(), **_fingerprint()}
        transaction.set_rollback(True)
    return result


@pytest.fixture
def town(db):
    return demo_generate(households=SMALL, seed=SEED, actor=operator())


def test_same_seed_gives_the_same_town_and_another_seed_another():
    first = _generate_and_roll_back(households=SMALL, seed=SEED)
    assert not Household.objects.exists()
    again = _generate_and_roll_back(households=SMALL, seed=SEED)
    other = _generate_and_roll_back(households=SMALL, seed=SEED + 1)
    assert first["households"] == again["households"]
    assert first["members"] == again["members"]
    for key in ("households", "members", "exited", "marginal", "below_line"):
        assert first["summary"][key] == again["summary"][key]
    assert first["members"] != other["members"]
    assert first["households"] != other["households"]


def test_counts_and_shares_are_plausible(town):
    households = list(Household.objects.all())
    assert len(households) == SMALL == town.households
    assert Member.objects.count() == town.members
    exited = sum(h.household_type == "exited" for h in households)
    assert 0.10 <= exited / SMALL <= 0.15
    mean_size = town.members / SMALL
    assert 2.8 <= mean_size <= 3.8
    sizes = Counter(h.size for h in households)
    assert set(sizes) <= set(range(1, 8)) and len(sizes) >= 5
    general = [h for h in households if h.household_type == "general"]
    marginal = sum(h.monitoring_type == MonitoringType.MARGINAL for h in general)
    assert 0.015 <= marginal / len(general) <= 0.045
    # every exited household has its year and class; monitored ones have a month
    for h in households:
        if h.household_type == "exited":
            assert 2014 <= h.exit_year <= 2020 and h.exited_class
        else:
            assert h.exit_year is None and not h.exited_class
        if h.monitoring_type:
            assert h.monitoring_state and len(h.identified_month) == 6
        if h.monitoring_state == "eliminated":
            assert h.eliminated_month > h.identified_month
    # a few households under the monitoring line, most above; most houses safe
    below = sum(h.per_capita_income < 5000 for h in households)
    assert 0 < below < SMALL * 0.1
    assert sum(h.housing_grade in ("A", "B") for h in households) > SMALL * 0.9
    # the villages of both fixture towns are used
    assert {h.region_id[:9] for h in households} == {"341523104", "341523105"}


def test_every_household_has_exactly_one_head_and_consistent_relations(town):
    heads = Counter(Member.objects.filter(is_head=True).values_list("household_id", flat=True))
    assert set(heads.values()) == {1}
    assert len(heads) == SMALL
    assert not Member.objects.filter(relation="户主", is_head=False).exists()
    head_birth = dict(Member.objects.filter(is_head=True).values_list("household_id", "birth_date"))
    for household_id, relation, birth in Member.objects.values_list("household_id", "relation", "birth_date"):
        head = head_birth[household_id]
        if relation in ("之子", "之女"):
            assert (birth - head).days > 15 * 365, relation
        if relation in ("之孙子", "之孙女"):
            assert (birth - head).days > 35 * 365, relation
        if relation in ("之父", "之母"):
            assert (head - birth).days > 15 * 365, relation


def test_id_numbers_are_valid_unique_and_match_the_member(town):
    members = list(Member.objects.all())
    ids = [m.id_number for m in members]  # decrypted by the field
    assert len(set(ids)) == len(ids)
    assert len({m.id_index for m in members}) == len(members)
    for m in members:
        info = parse_id(m.id_number)
        assert info.id18 == m.id_number
        assert info.birth_date == m.birth_date
        assert info.sex == m.sex
        assert m.id_index == id_index(info.id18)
        assert m.id_masked == mask_id(info.id18)
        assert m.id_last4 == info.id18[-4:]
        assert m.name_initials == name_initials(m.name)
    prefixes = Counter(m.id_number[:6] for m in members)
    assert prefixes.most_common(1)[0][0] == "341523"
    # encrypted at rest
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM registry_member LIMIT 20")
        stored = [row[0] for row in cursor.fetchall()]
    assert all(value.startswith("aesgcm:") for value in stored)


def test_derived_figures_follow_the_national_formula_and_the_registry_functions(town):
    sample = list(Household.objects.order_by("id")[:60])
    for household in sample:
        items = IncomeItems(
            wage=household.wage_income,
            business_income=household.business_income,
            business_expense=household.business_expense,
            property_income=household.property_income,
            transfer_income=household.transfer_income,
        )
        size = household.members.filter(status="active").count()
        assert household.size == size
        assert household.net_income == household_net_income(items)
        assert household.per_capita_income == per_capita_net_income(items, size)
        net = (
            household.wage_income
            + household.business_income
            - household.business_expense
            + household.property_income
            + household.transfer_income
        )
        assert abs(household.per_capita_income - net / size) < Decimal("0.01")
        stored = {f: getattr(household, f) for f in DERIVED_FIELDS}
        household_recompute(household)
        household.refresh_from_db()
        assert {f: getattr(household, f) for f in DERIVED_FIELDS} == stored


def test_members_look_like_people_of_their_age(town):
    today_members = list(Member.objects.all())
    from django.utils import timezone

    today = timezone.localdate()
    stages = Counter()
    for m in today_members:
        age = age_on_school_day(m.birth_date, today)
        assert 0 <= age <= 100
        if 7 <= age <= 11:
            stages[m.school_status] += 1
        if m.school_status in COMPULSORY_STAGES:
            assert 6 <= age <= 15
        if age < 16:
            assert m.labour_skill == "无劳动力"
            assert not m.migrant_months
        if m.disabled:
            assert m.disability_category and m.disability_grade
        else:
            assert not m.disability_category
        assert (m.serious_illness or m.chronic_illness or m.disabled) == (m.health != "健康")
    assert stages.most_common(1)[0][0] == "小学"
    assert any(m.migrant_months and m.migrant_place for m in today_members)
    assert Counter(m.sex for m in today_members)["男"] / len(today_members) == pytest.approx(0.5, abs=0.08)


def test_every_role_has_a_demo_user_who_can_log_in(town):
    roles = {a.role for a in DEMO_ACCOUNTS}
    assert roles == {r.value for r in Role} - {Role.SYSTEM}
    assert {a.department for a in DEMO_ACCOUNTS if a.role == Role.DEPARTMENT} == {d.value for d in Department}
    for account in DEMO_ACCOUNTS:
        user = User.objects.get(username=account.username)
        assert user.role == account.role and user.region_id == account.region_code
        validate_password(account.password, user)
        client = Client()
        response = client.post(
            reverse("accounts:login"), {"username": account.username, "password": account.password}
        )
        assert response.status_code == 302, account.username
        assert "_auth_user_id" in client.session
    validate_password(DEMO_PASSWORD)


def test_the_run_is_recorded_once_in_the_audit_log(town):
    events = AuditEvent.objects.filter(action="demo.generated")
    assert events.count() == 1
    record = demo_existing()
    assert record["households"] == SMALL and record["seed"] == SEED
    with pytest.raises(DomainError):
        demo_generate(households=10, seed=SEED, actor=operator())


def test_refuses_to_mix_with_real_households(regions):
    Household.objects.create(number="real-1", region_id="341523104201", household_type="general")
    with pytest.raises(DomainError, match="已有农户数据"):
        demo_generate(households=10, actor=operator())


def test_a_county_sized_demo_gets_more_villages_and_towns(regions):
    import random

    villages = _plan_villages(100_000, random.Random(1), operator())
    assert len(villages) >= 100_000 // 800
    codes = [v.code for v in villages]
    assert len(set(codes)) == len(codes)
    names = [v.name for v in villages]
    assert len(set(names)) == len(names)
    for v in villages:
        assert level_of(v.code) == Level.VILLAGE
        assert parent_of(v.town_code) == "341523000000"
    assert len({v.town_code for v in villages}) >= 5
    from fangfan.regions.models import Region

    assert Region.objects.filter(code__in=codes).count() == len(codes)
    assert all(n.endswith("村") or n.endswith("社区") for n in names)


def test_progress_is_reported(db):
    calls = []
    demo_generate(
        households=50,
        seed=3,
        actor=operator(),
        progress=lambda done, total, message="": calls.append((done, total)),
    )
    assert calls[0] == (0, 50)
    assert calls[-1] == (50, 50)


def test_indexes_dropped_for_the_load_are_back(town):
    """The fast path builds the models' indexes after the load; afterwards every one of them exists again."""
    from fangfan.registry.models import Household, Member

    with connection.cursor() as cursor:
        for model in (Household, Member):
            present = connection.introspection.get_constraints(cursor, model._meta.db_table)
            for index in model._meta.indexes:
                assert index.name in present, index.name
