"""Import and the national system (issue 19, point 6): an import never changes an existing household's official
status (户类型, 脱贫年度, 脱贫户分类, 监测对象类型, 监测状态, 识别监测时间, 风险消除时间) silently — the differences are listed
and kept as stored — unless a town-station or county user chooses 与国家系统同步, which applies them and records each
in the household's history with that source and the import job. Anyone else choosing it is refused, nothing
written."""

from __future__ import annotations

import pytest
from conftest import operator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

import fangfan.registry.jobs as registry_jobs  # registers the job handlers, as apps.ready() does
from fangfan.core.errors import ValidationFailed
from fangfan.core.models import AuditEvent, Job
from fangfan.registry.importing.households import households_import
from fangfan.registry.importing.layout import OFFICIAL_SECTION
from fangfan.registry.models import OFFICIAL_FIELDS, Household
from fangfan.registry.selectors import household_history

from .test_import import H1, H2, household_row, sample, write_xlsx

pytestmark = pytest.mark.django_db

# What the file says that the system does not: H1 (脱贫户, 享受政策, not monitored) became a 脱贫不稳定户 under monitoring
# in the national system, and its income changed; H2 is unchanged but for its 分类定级 (not an official field).
CHANGED = {
    "脱贫户分类": "脱贫监测户",
    "监测对象类型": "脱贫不稳定户",
    "监测状态": "监测中",
    "识别监测时间": "202503",
    "工资性收入": "12000",
}


def _official(number: str) -> dict:
    hh = Household.objects.unscoped().get(number=number)
    return {f: getattr(hh, f) for f in OFFICIAL_FIELDS}


@pytest.fixture
def registered(tmp_path, users):
    """The sample's two households imported by the village clerk (a new household's status comes from the file)."""
    households, members = sample()
    households_import(
        path=write_xlsx(tmp_path / "first.xlsx", households, members), actor=users["village_clerk"]
    )
    return households, members


def _changed_file(tmp_path, registered):
    households, members = registered
    households = [household_row(H1, **CHANGED), {**households[1], "分类定级": "二类"}]
    return write_xlsx(tmp_path / "national.xlsx", households, members)


EXPECTED = [
    {"number": H1, "field": "脱贫户分类", "system": "享受政策", "file": "脱贫监测户"},
    {"number": H1, "field": "监测对象类型", "system": "（空）", "file": "脱贫不稳定户"},
    {"number": H1, "field": "监测状态", "system": "（空）", "file": "监测中"},
    {"number": H1, "field": "识别监测时间", "system": "（空）", "file": "202503"},
]


def test_import_keeps_official_fields_and_lists_the_differences(tmp_path, users, registered):
    path = _changed_file(tmp_path, registered)
    before = _official(H1)
    dry = households_import(path=path, actor=users["village_clerk"], dry_run=True)
    assert dry.official_differences == EXPECTED
    assert dry.as_dict()["official_total"] == 4 and dry.as_dict()["official_households"] == 1
    assert "正式状态字段与系统不一致，未导入" in dry.describe()

    summary = households_import(path=path, actor=users["village_clerk"])
    assert summary.official_differences == EXPECTED
    hh = Household.objects.unscoped().get(number=H1)
    assert _official(H1) == before  # the official status as it was
    assert str(hh.wage_income) == "12000.00"  # the rest of the row imported
    assert Household.objects.unscoped().get(number=H2).grade == "二类"
    assert not AuditEvent.objects.filter(action="household.status_synced").exists()
    updated = AuditEvent.objects.get(action="household.updated", object_id=str(hh.pk))
    assert not set(updated.after) & {"脱贫户分类", "监测对象类型", "监测状态", "识别监测时间"}
    # Re-importing the same file: still nothing to write, the differences listed again.
    again = households_import(path=path, actor=users["village_clerk"], dry_run=True)
    assert again.households_updated == 0 and again.official_differences == EXPECTED


def test_differences_name_no_id_number_or_name(tmp_path, users, registered):
    dry = households_import(
        path=_changed_file(tmp_path, registered), actor=users["village_clerk"], dry_run=True
    )
    blob = str(dry.as_dict())
    assert "张三" not in blob and "341523" not in blob.replace(H1, "").replace(H2, "")


def test_county_sync_applies_them_with_status_history(tmp_path, users, registered):
    path = _changed_file(tmp_path, registered)
    county = users["county_review"]
    dry = households_import(path=path, actor=county, dry_run=True, sync_national=True)
    assert dry.official_differences == EXPECTED and "将按文件更新" in dry.describe()
    assert _official(H1)["monitoring_state"] == ""

    households_import(path=path, actor=county, sync_national=True, job_id=4242)
    hh = Household.objects.unscoped().get(number=H1)
    assert (hh.exited_class, hh.monitoring_type, hh.monitoring_state, hh.identified_month) == (
        "monitored",
        "unstable",
        "monitoring",
        "202503",
    )
    event = AuditEvent.objects.get(action="household.status_synced")
    assert event.object_id == str(hh.pk) and event.actor_id == county.pk
    assert event.after["source"] == "与国家系统同步" and event.after["job"] == 4242
    assert event.before == {
        "exited_class": "enjoying",
        "monitoring_type": "",
        "monitoring_state": "",
        "identified_month": "",
    }
    assert "与国家系统同步" in event.note and "导入任务 4242" in event.note
    # The household's history (its page's 变更记录) shows the change, its source and the job.
    entry = next(
        e for e in household_history(hh, list(hh.members.all())) if e.action == "与国家系统同步农户正式状态"
    )
    assert ("监测状态", "（空）", "监测中") in entry.changes
    assert ("来源", "", "与国家系统同步") in entry.changes and ("导入任务", "", "4242") in entry.changes


def test_town_station_may_sync(tmp_path, users, registered):
    households_import(
        path=_changed_file(tmp_path, registered), actor=users["town_station"], sync_national=True
    )
    assert _official(H1)["monitoring_type"] == "unstable"


@pytest.mark.parametrize("role", ["village_clerk", "helper", "town_leader", "province_record"])
def test_sync_refused_for_other_roles_nothing_written(tmp_path, users, registered, role):
    path = _changed_file(tmp_path, registered)
    before = {
        f: getattr(h, f)
        for h in Household.objects.unscoped().all()
        for f in ("number", "wage_income", "grade")
    }
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed, match="与国家系统同步.*不能选择.*未导入任何数据"):
        households_import(path=path, actor=users[role], sync_national=True)
    after = {
        f: getattr(h, f)
        for h in Household.objects.unscoped().all()
        for f in ("number", "wage_income", "grade")
    }
    assert after == before and AuditEvent.objects.count() == events
    assert _official(H1)["monitoring_state"] == ""


def test_county_imports_only_by_sync(tmp_path, users, registered):
    with pytest.raises(ValidationFailed, match="只能以“与国家系统同步”方式导入"):
        households_import(path=_changed_file(tmp_path, registered), actor=users["county_review"])


def test_new_household_takes_its_status_from_the_file(tmp_path, users):
    """How the register is first filled: a new household's official status is the file's, no sync needed."""
    households, members = sample()
    households[0].update(CHANGED)
    summary = households_import(
        path=write_xlsx(tmp_path / "new.xlsx", households, members), actor=users["village_clerk"]
    )
    assert summary.official_differences == []
    assert _official(H1)["monitoring_state"] == "monitoring"


def test_operator_syncs_only_when_asked(tmp_path, users, registered):
    path = _changed_file(tmp_path, registered)
    households_import(path=path, actor=operator())
    assert _official(H1)["monitoring_state"] == ""
    summary = households_import(path=path, actor=operator(), sync_national=True)
    assert summary.official_differences == EXPECTED and _official(H1)["monitoring_state"] == "monitoring"


# --- the web page ---------------------------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _post(client, capture, user, path, **data):
    client.force_login(user)
    upload = SimpleUploadedFile(path.name, path.read_bytes())
    with capture(execute=True):
        return client.post(reverse("transfer:import"), {"file": [upload], **data})


def test_web_clerk_choosing_sync_is_refused(
    client, media, tmp_path, users, registered, django_capture_on_commit_callbacks
):
    jobs = Job.objects.count()
    path = _changed_file(tmp_path, registered)
    response = _post(
        client, django_capture_on_commit_callbacks, users["village_clerk"], path, sync_national="1"
    )
    assert response.status_code == 403
    assert "只能由镇扶贫工作站或市县审核的用户选择" in response.content.decode()
    assert Job.objects.count() == jobs and _official(H1)["monitoring_state"] == ""
    assert 'data-testid="sync-national"' not in client.get(reverse("transfer:import")).content.decode()


def test_web_county_sync_dry_run_then_import(
    client, media, tmp_path, users, registered, django_capture_on_commit_callbacks
):
    county = users["county_review"]
    client.force_login(county)
    page = client.get(reverse("transfer:import")).content.decode()
    assert 'data-testid="sync-national"' in page and "只能以“与国家系统同步”方式导入" in page
    path = _changed_file(tmp_path, registered)
    response = _post(client, django_capture_on_commit_callbacks, county, path, dry_run="1")
    assert response.status_code == 400  # the county imports only by synchronising
    response = _post(client, django_capture_on_commit_callbacks, county, path, sync_national="1", dry_run="1")
    job = Job.objects.get(kind=registry_jobs.SYNC_KIND)
    assert response.status_code == 302 and job.state == Job.State.DONE, job.message
    page = client.get(reverse("transfer:job", args=[job.pk])).content.decode()
    assert "与国家系统同步：将按文件更新" in page and 'data-testid="official-differences"' in page
    assert "脱贫不稳定户" in page and 'data-testid="import-checked"' in page
    assert _official(H1)["monitoring_state"] == ""
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("transfer:import_checked", args=[job.pk]))
    new = Job.objects.exclude(pk=job.pk).get(kind=registry_jobs.SYNC_KIND)
    assert new.state == Job.State.DONE, new.message
    assert _official(H1)["monitoring_state"] == "monitoring"
    assert AuditEvent.objects.get(action="household.status_synced").after["job"] == new.pk


def test_web_clerk_dry_run_shows_the_section(
    client, media, tmp_path, users, registered, django_capture_on_commit_callbacks
):
    path = _changed_file(tmp_path, registered)
    _post(client, django_capture_on_commit_callbacks, users["village_clerk"], path, dry_run="1")
    job = Job.objects.get(kind=registry_jobs.IMPORT_KIND, params__dry_run=True)
    page = client.get(reverse("transfer:job", args=[job.pk])).content.decode()
    assert OFFICIAL_SECTION in page and "享受政策" in page and "脱贫监测户" in page
    assert registry_jobs.SYNC_KIND not in Job.objects.values_list("kind", flat=True)
