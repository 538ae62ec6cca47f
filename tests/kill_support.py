"""The other side of the kill tests (``tests/test_kill.py``, issue 21.3): a small program run as a process of its
own against a file database (``DATABASE_URL``, ``FANGFAN_DATA_DIR``), never inside pytest's transaction.

    python tests/kill_support.py seed                 # migrate, then a village's households, users and cases
    python tests/kill_support.py state                # JSON: every domain table's row count and checksum
    python tests/kill_support.py start import|screening|ledger   # start the job as the web does; prints its id
    python tests/kill_support.py batch                # the town's batch approval of every seeded case (web)
    python tests/kill_support.py page JOB             # JSON: the job page as its starter sees it
    python tests/kill_support.py retry JOB            # its starter presses 重试
    python tests/kill_support.py job JOB              # JSON: the job's row
    python tests/kill_support.py cases                # JSON: each case's current step
    python tests/kill_support.py check [JOB]          # JSON: state, the job's row, and its page once failed

Pages are asked through Django's test client, in this process: the same views, forms and services as a browser
gets, with the sessions of the users seeded here.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangfan.settings")

VILLAGE = "341523104201"
TOWN = "341523104000"
CASES = 4
HOUSEHOLDS = 12


def _setup() -> None:
    import django

    django.setup()


def _users() -> dict:
    from fangfan.accounts.models import User

    return {u.username: u for u in User.objects.filter(username__startswith="kill-")}


def seed() -> dict:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from fangfan.accounts.models import User
    from fangfan.regions.services import regions_import

    regions_import(
        path=HERE.parent / "src/fangfan/regions/fixtures/demo_regions.csv",
        actor=User.objects.cli_account("kill"),
    )
    users = {
        "village_clerk": User.objects.create(
            username="kill-clerk", role="village_clerk", region_id=VILLAGE, full_name="村级经办"
        ),
        "town_station": User.objects.create(
            username="kill-station", role="town_station", region_id=TOWN, full_name="镇工作站"
        ),
    }
    for extra, role, region in (
        ("kill-leader", "town_leader", TOWN),
        ("kill-county", "county_review", "341523000000"),
        ("kill-province", "province_record", "340000000000"),
    ):
        users[role] = User.objects.create(username=extra, role=role, region_id=region, full_name="测试")
    from registry_factory import make_household

    for i in range(HOUSEHOLDS):  # poor, unsafe housing: each screening rule finds them
        make_household(
            f"{VILLAGE}8{i:04d}",
            VILLAGE,
            household_type="exited",
            exit_year=2019,
            exited_class="enjoying",
            housing_grade="D",
            income={"wage_income": Decimal("500")},
            members=[(f"户主{i}", date(1970, 1, 1 + i % 28), "户主")],
        )
    # The command-line account, as it is once any command has run (``fangfan snapshot`` would make it first).
    import getpass

    User.objects.cli_account(getpass.getuser())
    # The rule catalogue, as any system that has screened once has it (the first screening writes it, committed
    # on its own before the work starts: not what a killed screening must leave as it was).
    from fangfan.monitoring.screening import rules_sync

    rules_sync()
    # Cases at the town's step (乡镇审核), ready for the town station's batch approval.
    import workflows_factory as wf

    fixture_users = {**users, "village_clerk": users["village_clerk"]}
    cases = [
        wf.walk(wf.start(wf.household(), fixture_users), fixture_users, to="乡镇审核") for _ in range(CASES)
    ]
    return {"cases": [c.pk for c in cases]}


def fingerprint() -> dict:
    """Every domain table (the jobs' own rows and the task queue left out): row count and checksum."""
    from import_fuzz import fingerprint as tables

    return {name: list(value) for name, value in tables().items() if name not in ("core_job",)}


def _client(username: str):
    from django.test import Client

    client = Client()
    client.force_login(_users()[username])
    return client


def start(kind: str) -> int:
    from django.urls import reverse

    from fangfan.core.models import Job

    last = Job.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    if kind == "import":
        from import_fuzz import base_tables, write_xlsx

        path = write_xlsx(Path(os.environ["FANGFAN_DATA_DIR"]) / "农户信息.xlsx", base_tables("households"))
        with path.open("rb") as upload:
            response = _client("kill-clerk").post(reverse("transfer:import"), {"file": upload})
    elif kind == "screening":
        response = _client("kill-station").post(reverse("department:screening_start"))
    elif kind == "ledger":
        from fangfan.reports import ledger_views

        ledger_views.INLINE_LIMIT = (
            0  # a village is written at once; a county's ledger is a job: make this one
        )
        response = _client("kill-station").post(reverse("reports:ledger_export", args=["exited"]))
    else:
        raise SystemExit(f"unknown job {kind}")
    job = Job.objects.filter(pk__gt=last).order_by("-pk").first()
    if job is None:
        raise SystemExit(f"no job started: {response.status_code} {response.content[:500]!r}")
    return job.pk


def batch(cases: list[int]) -> int:
    from django.urls import reverse

    from fangfan.workflows import services

    services.BATCH_COMMIT = 1  # a committed unit per case, so that the kill falls after the first case

    response = _client("kill-station").post(
        reverse("workflows:batch"), {"ids": cases, "action": "approve", "comment": "同意"}
    )
    return response.status_code


def page(job_id: int) -> dict:
    from django.urls import reverse

    from fangfan.core.models import Job

    job = Job.objects.get(pk=job_id)
    response = _client(job.created_by.username).get(reverse("core:job_detail", args=[job_id]), follow=True)
    html = response.content.decode()
    return {
        "status": response.status_code,
        "retry_button": 'data-testid="job-retry"' in html
        and reverse("core:job_retry", args=[job_id]) in html,
        "failed_shown": "失败" in html,
        "message_shown": job.message in html if job.message else False,
    }


def retry(job_id: int) -> int:
    from django.urls import reverse

    from fangfan.core.models import Job

    job = Job.objects.get(pk=job_id)
    return _client(job.created_by.username).post(reverse("core:job_retry", args=[job_id])).status_code


def job(job_id: int) -> dict:
    from fangfan.core.models import Job

    row = (
        Job.objects.filter(pk=job_id)
        .values("state", "message", "input_file", "output_file", "result")
        .first()
    )
    if row and row["input_file"]:
        row["input_exists"] = Path(row["input_file"]).exists()
    return row or {}


def cases() -> dict:
    from fangfan.workflows.models import Case

    return {
        str(c.pk): c.current_step.name if c.current_step else c.state for c in Case.objects.order_by("pk")
    }


def main(argv: list[str]) -> None:
    _setup()
    action, *rest = argv
    from fangfan.core.scoping import unscoped_reads

    with unscoped_reads():
        if action == "seed":
            result: object = seed()
        elif action == "state":
            result = fingerprint()
        elif action == "start":
            result = start(rest[0])
        elif action == "batch":
            result = batch([int(c) for c in rest])
        elif action == "page":
            result = page(int(rest[0]))
        elif action == "retry":
            result = retry(int(rest[0]))
        elif action == "job":
            result = job(int(rest[0]))
        elif action == "cases":
            result = cases()
        elif action == "check":  # after a kill: the tables, the job's row and its page, in one process
            result = {"state": fingerprint(), "job": job(int(rest[0])) if rest else {}}
            if rest and result["job"].get("state") == "failed":
                result["page"] = page(int(rest[0]))
        else:
            raise SystemExit(f"unknown action {action}")
    print("RESULT " + json.dumps(result, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
