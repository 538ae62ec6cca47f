"""The same department file posted twice at the same moment (two API calls, separate connections, on PostgreSQL
and on an SQLite file): one batch is imported, the other call is told in Chinese that this content is already a
batch (409 with its batch_id), and nothing is written twice — both pass the early duplicate check before either
has written, so the unique (source, region, content hash) index decides."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from conftest import TOWN, VILLAGE
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.test import Client
from monitoring.screening_support import id_of
from registry_factory import make_household

from fangfan.monitoring.department import importing
from fangfan.monitoring.models import DepartmentBatch, DepartmentRecord
from fangfan.monitoring.tokens import token_issue

pytestmark = pytest.mark.usefixtures("audit_triggers_back")
HEADER = ["证件号码", "姓名", "结算日期", "个人自付金额"]


def test_the_same_file_posted_twice_at_once_is_imported_once(
    concurrent_db, users, settings, tmp_path, monkeypatch
):
    settings.MEDIA_ROOT = tmp_path / "files"
    home = make_household("H-DC-001", VILLAGE, household_type="exited", exited_class="monitored",
                          members=[("张三", date(1970, 5, 1), "户主")])  # fmt: skip
    token = token_issue(actor=users["town_station"], name="县医保局", source="medical", region_code=TOWN)[1]
    content = "\n".join([",".join(HEADER), f"{id_of(home)},张三,2026-03-01,8000"]).encode("utf-8-sig")
    barrier = threading.Barrier(2, timeout=30)
    write = importing._write_batch

    def write_together(**kwargs):
        barrier.wait()  # both calls have found no batch with this content and parsed the file
        return write(**kwargs)

    monkeypatch.setattr(importing, "_write_batch", write_together)
    answers: list[object] = []

    def post(name):
        try:
            answers.append(
                Client().post(
                    "/api/v1/department/medical/batches",
                    {"file": SimpleUploadedFile(name, content)},
                    HTTP_AUTHORIZATION=f"Bearer {token}",
                )
            )
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
            answers.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(name,)) for name in ("医保.csv", "医保-重发.csv")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    codes = sorted(getattr(a, "status_code", a) for a in answers)
    assert codes == [200, 409], answers
    done = next(a for a in answers if a.status_code == 200).json()
    refused = next(a for a in answers if a.status_code == 409).json()
    assert refused["batch_id"] == done["batch_id"] and "未重复导入" in refused["message"]
    assert DepartmentBatch.objects.count() == 1
    assert DepartmentRecord.objects.count() == 1
