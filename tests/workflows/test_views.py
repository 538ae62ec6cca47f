"""The approval pages: 我的待办 with its count in the navigation, a case's page and its action form, starting from
the household page, batch approval, attachments (served to the case's jurisdiction only, audited) and the 公示
notice PDF (no ID number, phone, bank account or health detail)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from assistance_factory import PNG
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from workflows_factory import household, start, step_data, walk

from fangfan.core.models import AuditEvent
from fangfan.registry.forms import HouseholdForm
from fangfan.workflows import notice
from fangfan.workflows.models import Case

pytestmark = pytest.mark.django_db


def test_inbox_lists_my_cases_and_the_navigation_counts_them(client, users):
    case = start(household(), users)
    client.force_login(users["village_clerk"])
    page = client.get(reverse("workflows:inbox")).content.decode()
    assert case.household.number in page and "入户核查" in page
    assert re.search(r'data-testid="nav-count">1<', page)
    client.force_login(users["town_station"])
    page = client.get(reverse("workflows:inbox")).content.decode()
    assert case.household.number not in page and 'data-testid="nav-count"' not in page


def test_case_page_acts_through_the_form(client, users):
    case = start(household(), users)
    client.force_login(users["village_clerk"])
    page = client.get(reverse("workflows:case_detail", args=[case.pk])).content.decode()
    assert 'data-testid="act-form"' in page and 'name="visited_on"' in page
    url = reverse("workflows:case_act", args=[case.pk])
    bad = client.post(url, {"action": "approve", "version": case.version})
    assert bad.status_code == 422 and "入户核查" in bad.content.decode()
    ok = client.post(url, {"action": "approve", "version": case.version, **step_data(case)})
    assert ok.status_code == 302
    case.refresh_from_db()
    assert case.current_step.name == "承诺授权"
    stale = client.post(url, {"action": "approve", "version": 1})
    assert stale.status_code == 409
    client.force_login(users["town_station"])  # sees it, does not act on it
    page = client.get(reverse("workflows:case_detail", args=[case.pk])).content.decode()
    assert 'data-testid="act-form"' not in page
    client.force_login(users["neighbour_station"])
    assert client.get(reverse("workflows:case_detail", args=[case.pk])).status_code == 404


def test_start_from_the_household_page(client, users):
    hh = household()
    client.force_login(users["village_clerk"])
    page = client.get(reverse("registry:household_detail", args=[hh.pk])).content.decode()
    assert 'data-testid="start-case"' in page
    response = client.post(
        reverse("workflows:case_start", args=[hh.pk]),
        {
            "process": "identify",
            "reason": "大病住院",
            "monitoring_type": "marginal",
            "risk_types": ["illness"],
        },
    )
    assert response.status_code == 302
    case = Case.objects.get(household=hh)
    page = client.get(reverse("registry:household_detail", args=[hh.pk])).content.decode()
    assert 'data-testid="household-case"' in page and "纳入监测" in page
    refused = client.post(
        reverse("workflows:case_start", args=[hh.pk]), {"process": "identify", "reason": "x"}
    )
    assert refused.status_code == 422
    assert case.state == "open"


def test_the_edit_form_never_edits_official_fields():
    official = {"exited_class", "monitoring_type", "monitoring_state", "identified_month", "eliminated_month"}
    assert not official & set(HouseholdForm.FIELDS)
    assert not official & set(HouseholdForm.base_fields)


def test_batch_approval_shows_each_result(client, users):
    ready = walk(start(household(), users), users, to="乡镇审核")
    early = start(household(), users)
    client.force_login(users["town_station"])
    page = client.get(reverse("workflows:inbox")).content.decode()
    assert 'data-testid="batch-approve"' in page
    response = client.post(
        reverse("workflows:batch"), {"ids": [ready.pk, early.pk], "action": "approve", "comment": "同意"}
    )
    text = response.content.decode()
    assert response.status_code == 200 and "已办理" in text and "未办理" in text
    ready.refresh_from_db()
    assert ready.current_step.name == "县级审定"
    assert AuditEvent.objects.filter(action="case.approved", object_id=str(ready.pk)).count() >= 1


def test_attachment_served_to_the_jurisdiction_and_audited(client, users, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    case = walk(start(household(), users), users, to="承诺授权")
    client.force_login(users["village_clerk"])
    up = client.post(
        reverse("workflows:case_attach", args=[case.pk]),
        {"kind": "consent", "file": SimpleUploadedFile("签字.png", PNG)},
    )
    assert up.status_code == 302
    att = case.attachments.get()
    path = tmp_path / "case-files" / att.stored_name
    assert path.stat().st_mode & 0o777 == 0o600
    url = reverse("workflows:attachment_file", args=[att.pk])
    assert client.get(url).status_code == 200
    assert AuditEvent.objects.filter(action="case.attachment_downloaded", object_id=str(att.pk)).exists()
    client.force_login(users["neighbour_station"])
    assert client.get(url).status_code == 404
    client.force_login(users["village_clerk"])
    bad = client.post(
        reverse("workflows:case_attach", args=[case.pk]),
        {"kind": "consent", "file": SimpleUploadedFile("x.png", b"GIF89a not allowed")},
    )
    assert bad.status_code == 422


def _pdf_text(data: bytes) -> str:
    """The text drawn in an uncompressed reportlab PDF (UTF-16BE strings of the CID font, or plain ones)."""
    out = []
    for raw in re.findall(rb"\(((?:\\.|[^\\)])*)\) Tj", data, flags=re.S):
        buf, i = bytearray(), 0
        while i < len(raw):
            c = raw[i]
            if c == 0x5C:  # backslash
                nxt = raw[i + 1 : i + 4]
                m = re.match(rb"[0-7]{1,3}", nxt)
                if m:
                    buf.append(int(m.group(), 8))
                    i += 1 + len(m.group())
                    continue
                buf.append({ord("n"): 10, ord("r"): 13, ord("t"): 9}.get(raw[i + 1], raw[i + 1]))
                i += 2
                continue
            buf.append(c)
            i += 1
        try:
            out.append(bytes(buf).decode("utf-16-be"))
        except UnicodeDecodeError:
            out.append(bytes(buf).decode("latin-1"))
    return "\n".join(out)


def test_notice_pdf_lists_only_what_may_be_posted(users):
    from registry_factory import make_household

    hh = make_household(
        "341523104201990001",
        "341523104201",
        members=[("王五", date(1960, 1, 2), "户主", {"health": "患有大病", "phone": "13912345678"})],
    )
    case = walk(start(hh, users), users, to="村内公示")
    case = Case.objects.select_related("household__region").get(pk=case.pk)
    today = timezone.localdate()
    village = notice.notice_check([case], start=today, end=today + timedelta(days=6))
    pdf = notice.notice_pdf(
        village=village,
        rows=notice.notice_rows([case]),
        start=today,
        end=today + timedelta(days=6),
        compress=False,
    )
    text = _pdf_text(pdf)
    assert "王五" in text and "341523104201990001" in text and "东风村" in text and "拟纳入监测" in text
    member = hh.members.get()
    for secret in ("13912345678", "患有大病", member.id_masked, member.id_last4 + "\n"):
        assert secret not in text


def test_notice_pdf_from_the_inbox(client, users):
    case = walk(start(household(), users), users, to="村内公示")
    client.force_login(users["village_clerk"])
    page = client.get(reverse("workflows:inbox")).content.decode()
    assert 'data-testid="notice-form"' in page
    today = timezone.localdate()
    response = client.post(
        reverse("workflows:notice"),
        {
            "ids": str(case.pk),
            "notice_from": today.isoformat(),
            "notice_to": (today + timedelta(days=6)).isoformat(),
        },
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    short = client.post(
        reverse("workflows:notice"),
        {
            "ids": str(case.pk),
            "notice_from": today.isoformat(),
            "notice_to": (today + timedelta(days=3)).isoformat(),
        },
    )
    assert short.status_code == 302
    assert AuditEvent.objects.filter(action="case.notice_printed").count() == 1


def test_a_reading_role_is_refused_the_action_form(client, users):
    """The helper reads the cases of the village but acts on no step (docs/roles.md 审批): 403 at the door, as every
    refused act — not the form sent back with its errors (422), which said nothing of the role."""
    case = start(household(), users)
    client.force_login(users["helper"])
    assert client.get(reverse("workflows:case_detail", args=[case.pk])).status_code == 200
    url = reverse("workflows:case_act", args=[case.pk])
    assert client.post(url, {}).status_code == 403
    assert (
        client.post(url, {"action": "approve", "version": case.version, **step_data(case)}).status_code == 403
    )
    case.refresh_from_db()
    assert case.current_step.name == "入户核查" and case.version == 1
