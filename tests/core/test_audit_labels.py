"""Every audit action the code records has a Chinese name, and the audit page shows it (the code in grey)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from fangfan.core import audit
from fangfan.core.audit_labels import ACTION_LABELS

SRC = Path(__file__).resolve().parents[2] / "src" / "fangfan"
# audit.record(actor, "code", …) — the actor may be any expression without a comma; some codes sit in a constant.
RECORDED = re.compile(r"audit\.record\(\s*[^,()]+(?:\([^()]*\))?,\s*\"([a-z_.]+)\"")
CONSTANT = re.compile(r"^AUDIT_ACTION = \"([a-z_.]+)\"", re.M)


def _recorded_codes() -> set[str]:
    codes = set()
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        codes |= set(RECORDED.findall(text))
        if "audit.record" in text:
            codes |= set(CONSTANT.findall(text))
    return codes


def test_every_recorded_action_has_a_chinese_name():
    codes = _recorded_codes()
    assert {"screening.run", "task.verified", "household.contacted", "demo.generated"} <= codes
    missing = sorted(codes - ACTION_LABELS.keys())
    assert not missing, f"审计操作缺少中文名称：{missing}"
    assert all(re.search(r"[\u4e00-\u9fff]", label) for label in ACTION_LABELS.values())


@pytest.mark.django_db
def test_the_audit_page_names_the_action(client, users):
    audit.record(users["town_station"], "screening.run", object_type="screening", object_label="筛查")
    client.force_login(users["audit_admin"])
    text = client.get(reverse("core:audit_list")).content.decode()
    assert "运行预警筛查" in text and 'text-secondary small">screening.run' in text
