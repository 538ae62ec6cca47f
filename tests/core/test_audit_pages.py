"""The audit log pages: read-only, scoped to the administrator's jurisdiction, filtered, paged without COUNT,
exported to Excel, and the hash-chain check."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from conftest import NEIGHBOUR_TOWN, NEIGHBOUR_VILLAGE, TOWN, VILLAGE
from django.db import connection
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook

from fangfan.core import audit
from fangfan.core.models import AuditEvent
from fangfan.core.services import AUDIT_HEADERS

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(users):
    """Events of 东风村 (桃溪镇) and 复元村 (千人桥镇)."""
    return {
        "town": audit.record(
            users["village_clerk"], "household.updated", region_code=VILLAGE, object_label="东风村某户"
        ),
        "neighbour": audit.record(
            users["neighbour_clerk"],
            "household.updated",
            region_code=NEIGHBOUR_VILLAGE,
            object_label="复元村某户",
        ),
    }


def _table(html: str) -> str:
    return html.split('data-testid="audit-table"')[1].split("</table>")[0]


def test_audit_admin_sees_events_of_the_jurisdiction(client, users, events, make_user):
    client.force_login(users["audit_admin"])  # 舒城县
    table = _table(client.get(reverse("core:audit_list")).content.decode())
    assert "东风村某户" in table and "复元村某户" in table
    assert "村级经办" in table and "东风村" in table  # role and region shown by name
    client.force_login(make_user("audit_admin", TOWN, username="town-auditor"))
    table = _table(client.get(reverse("core:audit_list")).content.decode())
    assert "东风村某户" in table and "复元村某户" not in table
    # a username filter cannot reach outside either
    html = client.get(
        reverse("core:audit_list"), {"username": users["neighbour_clerk"].username}
    ).content.decode()
    assert "没有符合条件的审计记录" in html


def test_filters(client, users, events):
    client.force_login(users["audit_admin"])
    url = reverse("core:audit_list")
    table = _table(client.get(url, {"username": users["village_clerk"].username}).content.decode())
    assert "东风村某户" in table and "复元村某户" not in table
    assert "东风村某户" in _table(client.get(url, {"action": "household.updated"}).content.decode())
    assert "东风村某户" in _table(client.get(url, {"action": "household."}).content.decode())
    assert "东风村某户" not in _table(client.get(url, {"action": "household.up"}).content.decode())
    today = timezone.localdate()
    assert "东风村某户" in _table(client.get(url, {"date_from": today, "date_to": today}).content.decode())
    tomorrow = today + timedelta(days=1)
    assert "东风村某户" not in _table(client.get(url, {"date_from": tomorrow}).content.decode())
    yesterday = today - timedelta(days=1)
    assert "东风村某户" not in _table(client.get(url, {"date_to": yesterday}).content.decode())


def test_keyset_paging(client, users):
    for i in range(120):
        audit.record(None, "test.paged", region_code=VILLAGE, object_label=f"第{i:03d}条")
    client.force_login(users["audit_admin"])
    url = reverse("core:audit_list")
    first = client.get(url, {"action": "test.paged"})
    html = first.content.decode()
    assert "第119条" in html and "第070条" in html and "第069条" not in html
    older = first.context["page"].older
    assert first.context["page"].newer is None
    second = client.get(url, {"action": "test.paged", "before": older})
    html = second.content.decode()
    assert "第069条" in html and "第020条" in html and "第070条" not in html
    third = client.get(url, {"action": "test.paged", "before": second.context["page"].older})
    assert "第000条" in third.content.decode() and third.context["page"].older is None
    back = client.get(url, {"action": "test.paged", "after": second.context["page"].newer})
    assert [e.object_label for e in back.context["page"].items] == [
        e.object_label for e in first.context["page"].items
    ]


def test_nobody_can_edit(client, users, events):
    client.force_login(users["audit_admin"])
    url = reverse("core:audit_list")
    assert client.post(url, {"note": "改掉"}).status_code == 405
    assert client.post(reverse("core:audit_verify")).status_code == 405
    assert client.post(reverse("core:audit_export")).status_code == 405
    for path in (f"/system/audit/{events['town'].pk}/", f"/system/audit/{events['town'].pk}/edit/"):
        with pytest.raises(Resolver404):
            resolve(path)
    events["town"].refresh_from_db()
    assert events["town"].note == ""


def test_chain_check_button(client, users, events):
    client.force_login(users["audit_admin"])
    html = client.get(reverse("core:audit_list")).content.decode()
    assert 'hx-get="/system/audit/verify/"' in html and "校验哈希链" in html
    full = client.get(reverse("core:audit_verify")).content.decode()
    assert "哈希链完好" in full and "<html" in full
    fragment = client.get(reverse("core:audit_verify"), headers={"HX-Request": "true"}).content.decode()
    assert "哈希链完好" in fragment and "<html" not in fragment
    assert f"共校验 {AuditEvent.objects.count()} 条记录" in fragment


def test_chain_check_finds_a_row_changed_behind_the_applications_back(client, users, events):
    target = events["town"].pk
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("DROP TRIGGER core_auditevent_no_update")
        else:
            cur.execute("ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_no_change")
        cur.execute("UPDATE core_auditevent SET object_label = %s WHERE id = %s", ["被改过", target])
    client.force_login(users["audit_admin"])
    html = client.get(reverse("core:audit_verify"), headers={"HX-Request": "true"}).content.decode()
    assert "哈希链断裂" in html
    assert f"第 {target} 号记录：内容与哈希不符（记录被改动）" in html


def _export_rows(response) -> list[list[str]]:
    content = b"".join(response.streaming_content)
    wb = CalamineWorkbook.from_filelike(io.BytesIO(content))
    return wb.get_sheet_by_name("审计日志").to_python()


def test_export_is_scoped_and_has_chinese_headers(client, users, events, make_user):
    client.force_login(make_user("audit_admin", TOWN, username="town-auditor"))
    response = client.get(reverse("core:audit_export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    rows = _export_rows(response)
    assert rows[0] == AUDIT_HEADERS
    labels = [r[AUDIT_HEADERS.index("对象")] for r in rows[1:]]
    assert "东风村某户" in labels and "复元村某户" not in labels
    codes = {r[AUDIT_HEADERS.index("行政区划代码")] for r in rows[1:]}
    # Events of no region (e.g. a failed sign-in with an unknown name) are shown to every auditor.
    assert all(code.startswith("341523104") or code == "" for code in codes)
    village_row = rows[1 + labels.index("东风村某户")]
    assert village_row[AUDIT_HEADERS.index("行政区划代码")] == VILLAGE  # text, not a float
    assert village_row[AUDIT_HEADERS.index("行政区划")] == "东风村"
    exported = AuditEvent.objects.filter(action="audit.exported").latest("id")
    assert exported.region_code == TOWN


def test_export_follows_filters(client, users, events):
    client.force_login(users["audit_admin"])
    rows = _export_rows(
        client.get(reverse("core:audit_export"), {"username": users["neighbour_clerk"].username})
    )
    assert [r[AUDIT_HEADERS.index("对象")] for r in rows[1:]] == ["复元村某户"]


def test_neighbour_town_auditor(client, make_user, events):
    client.force_login(make_user("audit_admin", NEIGHBOUR_TOWN, username="nb-auditor"))
    table = _table(client.get(reverse("core:audit_list")).content.decode())
    assert "复元村某户" in table and "东风村某户" not in table
