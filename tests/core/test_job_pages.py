"""Background jobs: a user sees the jobs they started and those of their jurisdiction; the detail page polls
its progress fragment with htmx every second while the job runs, and stops when it is done."""

from __future__ import annotations

import pytest
from conftest import NEIGHBOUR_TOWN, TOWN, VILLAGE
from django.urls import reverse

from fangfan.core.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def jobs(users):
    return {
        "village": Job.objects.create(
            kind="households_import",
            title="东风村导入",
            region_code=VILLAGE,
            created_by=users["village_clerk"],
            state=Job.State.RUNNING,
            progress=30,
            total=120,
        ),
        "town": Job.objects.create(
            kind="households_export",
            title="桃溪镇导出",
            region_code=TOWN,
            created_by=users["town_station"],
            state=Job.State.DONE,
        ),
        "screening": Job.objects.create(
            kind="screening",
            title="东风村筛查",
            region_code=VILLAGE,
            created_by=users["town_station"],
            state=Job.State.RUNNING,
            progress=30,
            total=120,
        ),
        "neighbour": Job.objects.create(
            kind="households_export",
            title="千人桥镇导出",
            region_code=NEIGHBOUR_TOWN,
            created_by=users["neighbour_station"],
        ),
        "mine_elsewhere": Job.objects.create(
            kind="households_export",
            title="我发起的县级任务",
            region_code="",
            created_by=users["village_clerk"],
        ),
    }


def _titles(client) -> str:
    return client.get(reverse("core:job_list")).content.decode()


def test_job_list_is_scoped(client, users, jobs):
    client.force_login(users["town_station"])
    html = _titles(client)
    assert "东风村导入" in html and "桃溪镇导出" in html and "千人桥镇导出" not in html
    assert "我发起的县级任务" not in html
    client.force_login(users["village_clerk"])
    html = _titles(client)
    assert "东风村导入" in html and "我发起的县级任务" in html  # started by them
    assert "桃溪镇导出" not in html  # the town's job lies above the village
    client.force_login(users["county_review"])
    html = _titles(client)
    assert "千人桥镇导出" in html and "东风村筛查" in html
    assert "东风村导入" not in html  # a county does not import households: not its job to see


def test_job_list_filter_by_state(client, users, jobs):
    client.force_login(users["town_station"])
    html = client.get(reverse("core:job_list"), {"state": "done"}).content.decode()
    assert "桃溪镇导出" in html and "东风村导入" not in html


def test_job_detail_polls_while_running_and_stops_when_done(client, users, jobs):
    client.force_login(users["town_station"])
    job = jobs["screening"]
    url = reverse("core:job_detail", args=[job.pk])
    html = client.get(url).content.decode()
    assert "东风村筛查" in html and "25%" in html
    assert f'hx-get="{url}"' in html and 'hx-trigger="every 1s"' in html
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment and 'hx-trigger="every 1s"' in fragment
    Job.objects.filter(pk=job.pk).update(state=Job.State.DONE, progress=120)
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "100%" in fragment and "已完成" in fragment
    assert "hx-trigger" not in fragment  # polling stops


def test_job_detail_outside_jurisdiction_is_404(client, users, jobs):
    client.force_login(users["neighbour_station"])
    assert client.get(reverse("core:job_detail", args=[jobs["village"].pk])).status_code == 404
    client.force_login(users["village_clerk"])
    assert client.get(reverse("core:job_detail", args=[jobs["town"].pk])).status_code == 404
    mine = client.get(reverse("core:job_detail", args=[jobs["mine_elsewhere"].pk]))
    assert mine.status_code == 302  # an export's own page
    assert client.get(mine["Location"]).status_code == 200


def _active_entry(response) -> list[str]:
    return [item["label"] for item in response.context["nav_items"]() if item["active"]]


def test_a_jobs_page_marks_后台任务_in_the_menu_not_工作台(client, users, jobs):
    client.force_login(users["town_station"])
    job = jobs["village"]
    assert _active_entry(client.get(reverse("transfer:job", args=[job.pk]))) == ["后台任务"]
    screening = jobs["screening"]  # a kind without a page of its own: the generic one
    assert _active_entry(client.get(reverse("core:job_detail", args=[screening.pk]))) == ["后台任务"]
    assert _active_entry(client.get(reverse("core:job_list"))) == ["后台任务"]
    assert _active_entry(client.get(reverse("home"))) == ["工作台"]
    assert _active_entry(client.get(reverse("transfer:import"))) == ["导入农户"]
    assert _active_entry(client.get(reverse("registry:household_list"))) == ["农户档案"]


def test_migration_0003_keeps_only_the_count_of_a_failed_jobs_problems(users):
    """Rows written before the job kept only the count: the quoted cells go, the count and other results stay."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("fangfan.core.migrations.0003_job_result_without_problems")
    old = Job.objects.create(
        kind="households_import",
        title="导入",
        state=Job.State.FAILED,
        result={
            "problems": ["成员信息 第6行 列“证件号码”（值：341523198011097180）校验码错误"],
            "problem_count": 7,
        },
    )
    listed = Job.objects.create(
        kind="households_import", title="导入", state=Job.State.FAILED, result={"problems": ["a", "b"]}
    )
    done = Job.objects.create(kind="export", title="导出", state=Job.State.DONE, result={"households": 3})
    migration.strip_problems(apps, None)
    for job in (old, listed, done):
        job.refresh_from_db()
    assert old.result == {"problem_count": 7} and listed.result == {"problem_count": 2}
    assert done.result == {"households": 3}
