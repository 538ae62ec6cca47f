"""A bounded load run (issue 21, point 6): concurrent users against the production set-up — gunicorn with several
workers, the background worker (``fangfan db_worker``), PostgreSQL — on the loopback only.

    .venv/bin/python benchmarks/load.py                        # 50 users, 5 minutes, database fangfan_load
    .venv/bin/python benchmarks/load.py --users 10 --minutes 1 --no-write       # a quick run

The database is ``--database`` on the local PostgreSQL (default ``fangfan_load``); when it does not exist it is
copied from the list benchmark's county database (``createdb -T fangfan_bench_list``: 250 000 households). The
script sets up its own accounts (village clerks, town stations — roles whose second factor stays optional — and
department tokens), with a password it chooses, and seeds open 纳入监测 cases at 乡镇审核 in each town station's
town (set-based, marked by their reason; those of an earlier run are removed first).

The users (threads, each with its own HTTP session, thinking 1–4 s between pages):
- village clerks (most users): the household list (a random page), a household, its edit form, and a save of the
  form with another 分类定级 (optimistic concurrency: the form's version);
- town stations (three in ten): 我的待办, a case from it, 通过 (approve) with the case's version;
- departments (one in twenty-five, at least one): ``POST /api/v1/department/medical/batches`` with 100 rows of
  their town's members (new dates each time: never the same content), every 10–20 s.

Every answer other than the expected one (200, or the redirect after a save) is an error, with its page type,
status and the first words of the answer. p50/p95/max per page type go into ``docs/benchmarks.md``
(section ``benchmark:load``)."""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import httpx
from common import BENCH_DIR, ROOT, machine, table, write_section

MARK = "benchmark:load"
PASSWORD = "Load-Bench-2026!pw"  # noqa: S105 - the load accounts exist in the benchmark database only
SOURCE_DB = "fangfan_bench_list"
PG = "postgres://postgres@127.0.0.1:5432/"
# An idle connection is dropped by the client after 1 s, before gunicorn's keep-alive (5 s) closes it: a request
# sent on a connection the server is closing would fail with "connection reset" (an artefact of the client).
LIMITS = httpx.Limits(keepalive_expiry=1.0)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument(
        "--database", default="fangfan_load", help="PostgreSQL database (copied when missing)"
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--cases-per-town", type=int, default=300)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    return parser.parse_args(argv)


# --- the database and the accounts ---------------------------------------------------------------------------


def ensure_database(name: str) -> None:
    """``name`` on the local PostgreSQL; copied from the county benchmark database when missing."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(PG + "postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return
        print(f"copying {SOURCE_DB} to {name} …", flush=True)
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(SOURCE_DB))
        )


def environment(database: str) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=PG + database,
        FANGFAN_DATA_DIR=str(BENCH_DIR),  # the county database's field keys
        FANGFAN_AUDIT_ANCHOR_FILE=str(BENCH_DIR / f"audit-anchor-{database}.log"),
        DJANGO_SETTINGS_MODULE="fangfan.settings",
        PYTHONPATH=str(ROOT / "src"),
    )
    env.pop("FANGFAN_DEBUG", None)
    return env


def set_up(args) -> dict:
    """Accounts, tokens and cases in the load database (in this process; Django set up here)."""
    os.environ.update(environment(args.database))
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from fangfan.accounts.models import User
    from fangfan.core.scoping import unscoped_reads
    from fangfan.monitoring.models import DepartmentToken
    from fangfan.monitoring.tokens import token_issue
    from fangfan.regions.codes import code_range
    from fangfan.regions.models import Region
    from fangfan.registry.models import Household, Member
    from fangfan.workflows.models import Case, CaseAction
    from fangfan.workflows.services import process_current

    rng = random.Random(args.seed)
    departments = max(1, args.users // 25)
    towns_wanted = max(1, round(args.users * 0.3))
    clerks = max(1, args.users - departments - towns_wanted)
    with unscoped_reads():
        towns = list(Region.objects.filter(level=4).order_by("code").values_list("code", flat=True))
        with connection.cursor() as cur:
            cur.execute(
                "SELECT region_id FROM registry_household WHERE NOT cancelled GROUP BY region_id "
                "HAVING count(*) >= 100 ORDER BY region_id"
            )
            villages = [row[0] for row in cur.fetchall()]
    rng.shuffle(villages)
    password = make_password(PASSWORD)
    now = timezone.now()

    def account(username: str, role: str, region: str) -> str:
        User.objects.update_or_create(
            username=username,
            defaults={
                "role": role,
                "region_id": region,
                "full_name": "压测用户",
                "password": password,
                "is_active": True,
                "must_change_password": False,
                "password_changed_at": now,
            },
        )
        return username

    plan = {"clerks": [], "towns": [], "departments": []}
    for i in range(clerks):
        plan["clerks"].append(account(f"load_clerk_{i:02d}", "village_clerk", villages[i % len(villages)]))
    for i in range(towns_wanted):
        plan["towns"].append(account(f"load_town_{i:02d}", "town_station", towns[i % len(towns)]))
    with unscoped_reads():
        DepartmentToken.objects.filter(name__startswith="压测").delete()
        for i in range(departments):
            station = User.objects.get(username=plan["towns"][i % len(plan["towns"])])
            town = station.region_id
            raw = token_issue(actor=station, name=f"压测医保{i}", source="medical", region_code=town)[1]
            lo, hi = code_range(town)
            ids = [
                m.id_number
                for m in Member.objects.filter(
                    household_region__gte=lo, household_region__lt=hi, status="active"
                )
                .only("id_number")
                .order_by("id")[:2000]
            ]
            plan["departments"].append({"token": raw, "ids": ids})

        # Open cases at 乡镇审核 for every town station's town: the old ones of this script first removed.
        process = process_current("identify")
        steps = {s.name: s.pk for s in process.steps.all()}
        with transaction.atomic():
            CaseAction.objects.filter(case__reason=MARK).delete()
            Case.objects.filter(reason=MARK).delete()
            clerk = User.objects.get(username=plan["clerks"][0])
            for town in sorted({towns[i % len(towns)] for i in range(towns_wanted)}):
                lo, hi = code_range(town)
                with connection.cursor() as cur:
                    cur.execute(
                        "INSERT INTO workflows_case (household_id, region_code, process_id, kind, state, "
                        "current_step_id, step_since, version, reason, source, monitoring_type, risk_types, "
                        "exited_class, elimination_way, before, overridden, due_on, created_by_id, created_at) "
                        "SELECT h.id, h.region_id, %s, 'identify', 'open', %s, %s, 1, %s, 'cadre', "
                        "CASE WHEN h.household_type = 'exited' THEN 'unstable' ELSE 'marginal' END, "
                        "'[\"illness\"]', '', '', '{}', false, %s, %s, %s FROM registry_household h "
                        "WHERE NOT h.cancelled AND h.monitoring_type = '' AND h.region_id >= %s AND h.region_id < %s "
                        "AND NOT EXISTS (SELECT 1 FROM workflows_case c WHERE c.household_id = h.id "
                        "AND c.state = 'open') ORDER BY h.id LIMIT %s",
                        [process.pk, steps["乡镇审核"], now, MARK, date.today() + timedelta(days=10), clerk.pk, now,
                         lo, hi, args.cases_per_town],
                    )  # fmt: skip
            with connection.cursor() as cur:
                cur.execute(
                    "INSERT INTO workflows_caseaction (case_id, step_id, action, actor_id, at, comment, data, "
                    "override_reason) SELECT c.id, %s, 'submit', %s, %s, %s, '{}', '' FROM workflows_case c "
                    "WHERE c.reason = %s",
                    [steps["入户核查"], clerk.pk, now, MARK, MARK],
                )
        with connection.cursor() as cur:
            cur.execute("ANALYZE workflows_case")
        plan["cases"] = Case.objects.filter(reason=MARK).count()
        plan["households"] = Household.objects.count()
    connection.close()
    return plan


# --- the servers ---------------------------------------------------------------------------------------------


def start_servers(args) -> list[subprocess.Popen]:
    env = environment(args.database)
    log = open(BENCH_DIR / "load-servers.log", "w")  # noqa: SIM115 - closed with the processes
    bin_dir = Path(sys.executable).parent
    web = subprocess.Popen(  # noqa: S603
        [str(bin_dir / "gunicorn"), "fangfan.wsgi:application", "--bind", f"127.0.0.1:{args.port}",
         "--workers", str(args.workers), "--threads", str(args.threads), "--worker-class", "gthread",
         "--timeout", "120", "--keep-alive", "5", "--log-level", "warning"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    worker = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "fangfan.cli", "db_worker", "--verbosity", "0"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    for _ in range(120):
        try:
            if httpx.get(f"http://127.0.0.1:{args.port}/accounts/login/", timeout=5).status_code == 200:
                return [web, worker]
        except httpx.HTTPError:
            pass
        time.sleep(1)
    stop_servers([web, worker])
    raise SystemExit("gunicorn did not answer within 2 minutes (see var/bench/load-servers.log)")


def stop_servers(processes) -> None:
    for p in processes:
        p.terminate()
    for p in processes:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()


# --- the users -----------------------------------------------------------------------------------------------


class FormReader(HTMLParser):
    """The fields of the first ``<form method="post">`` whose action contains ``want`` or whose ``data-testid``
    is ``want`` (or the first one)."""

    def __init__(self, want: str = ""):
        super().__init__()
        self.want, self.fields, self.inside, self.done = want, {}, False, False
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self.done:
            return
        wanted = self.want in (a.get("action") or "") or self.want == a.get("data-testid")
        if tag == "form" and (a.get("method") or "").lower() == "post" and wanted:
            self.inside = True
        elif not self.inside:
            return
        elif tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file"):
                self.fields[a["name"]] = a.get("value") or ("on" if kind == "checkbox" else "")
        elif tag == "select":
            self.select = a.get("name")
            self.fields.setdefault(self.select, "")
        elif tag == "option" and self.select and "selected" in a:
            self.fields[self.select] = a.get("value", "")
        elif tag == "textarea":
            self.textarea = a.get("name")
            self.fields[self.textarea] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "form" and self.inside:
            self.inside, self.done = False, True

    def handle_data(self, data):
        if self.textarea:
            self.fields[self.textarea] += data


def form_fields(html: str, want: str = "") -> dict:
    reader = FormReader(want)
    reader.feed(html)
    return reader.fields


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.conflicts: dict[str, int] = defaultdict(int)

    def call(self, kind: str, send, url: str, *, expect=(200,), conflict=(), **kwargs):
        """``send(url, **kwargs)`` timed and checked: the response, or None (counted as an error)."""
        start = time.perf_counter()
        try:
            response = send(url, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
            with self.lock:
                self.errors.append(f"{kind}: {type(exc).__name__} {str(exc)[:120]}")
            return None
        elapsed = time.perf_counter() - start
        with self.lock:
            self.times[kind].append(elapsed)
            if response.status_code in conflict:
                self.conflicts[kind] += 1
            elif response.status_code not in expect:
                self.errors.append(f"{kind}: HTTP {response.status_code} {response.text[:160]!r}")
                return None
        return response


def think(rng, stop, low=1.0, high=4.0):
    stop.wait(rng.uniform(low, high))


def login(client, rec, username: str) -> bool:
    page = rec.call("登录页", client.get, "/accounts/login/")
    if page is None:
        return False
    data = {**form_fields(page.text), "username": username, "password": PASSWORD}
    done = rec.call("登录", client.post, "/accounts/login/", data=data, expect=(302,))
    return done is not None


def clerk(base, username, rec, stop, rng):
    with httpx.Client(base_url=base, timeout=120, limits=LIMITS) as client:
        if not login(client, rec, username):
            return
        pages = 1
        while not stop.is_set():
            listing = rec.call("农户列表", client.get, f"/households/?page={rng.randint(1, pages)}")
            if listing is None:
                think(rng, stop)
                continue
            found = re.findall(r'href="/households/(\d+)/"', listing.text)
            numbers = [int(n) for n in re.findall(r"[?&]page=(\d+)", listing.text)]
            pages = max([pages, *numbers]) if numbers else pages
            think(rng, stop)
            if not found or stop.is_set():
                continue
            pk = rng.choice(found)
            if rec.call("农户详情", client.get, f"/households/{pk}/") is None:
                continue
            think(rng, stop)
            form = rec.call("修改表单", client.get, f"/households/{pk}/edit/")
            if form is None or stop.is_set():
                continue
            data = form_fields(form.text, "edit-form")
            if "csrfmiddlewaretoken" not in data:
                with rec.lock:
                    rec.errors.append("修改表单: no edit form on the page")
                continue
            data["grade"] = rng.choice(["一类", "二类", "三类", "四类"])
            think(rng, stop)
            # 302: saved; 200 with "已被他人修改": someone saved this household first (a clear answer, counted apart)
            saved = rec.call("保存修改", client.post, f"/households/{pk}/edit/", data=data, expect=(302, 200))
            if saved is not None and saved.status_code == 200:
                with rec.lock:
                    if "已被他人修改" in saved.text:
                        rec.conflicts["保存修改"] += 1
                    else:
                        rec.errors.append(f"保存修改: the form came back: {saved.text[:200]!r}")
            think(rng, stop)


def town(base, username, rec, stop, rng):
    with httpx.Client(base_url=base, timeout=120, limits=LIMITS) as client:
        if not login(client, rec, username):
            return
        while not stop.is_set():
            inbox = rec.call("我的待办", client.get, "/cases/")
            if inbox is None:
                think(rng, stop)
                continue
            found = re.findall(r'href="/cases/(\d+)/"', inbox.text)
            think(rng, stop)
            if not found or stop.is_set():
                continue
            pk = rng.choice(found[:20])
            case = rec.call("审批事项", client.get, f"/cases/{pk}/")
            if case is None:
                continue
            data = form_fields(case.text, f"/cases/{pk}/act/")
            think(rng, stop)
            if "version" not in data or stop.is_set():
                continue
            data.update(action="approve", comment="压测：同意")
            # 302: done; 409 would be "someone acted first" (counted apart: two stations of one town)
            rec.call("审批通过", client.post, f"/cases/{pk}/act/", data=data, expect=(302,), conflict=(409,))
            think(rng, stop)


def department(base, setup, rec, stop, rng, number):
    headers = {"Authorization": f"Bearer {setup['token']}"}
    with httpx.Client(base_url=base, timeout=300, headers=headers, limits=LIMITS) as client:
        sent = 0
        while not stop.is_set():
            day = date(2026, 1, 1) + timedelta(days=(number * 1000 + sent) % 300)
            rows = [
                {"证件号码": id_number, "结算日期": day.isoformat(), "医疗总费用": str(rng.randint(500, 90000)),
                 "个人自付金额": str(rng.randint(100, 30000))}
                for id_number in rng.sample(setup["ids"], min(100, len(setup["ids"])))
            ]  # fmt: skip
            body = {"file_name": f"压测 {number}-{sent}", "rows": rows}
            rec.call("部门报送（接口）", client.post, "/api/v1/department/medical/batches", json=body)
            sent += 1
            think(rng, stop, 10, 20)


def run(args, plan) -> Recorder:
    base = f"http://127.0.0.1:{args.port}"
    rec = Recorder()
    stop = threading.Event()
    threads = []
    for i, name in enumerate(plan["clerks"]):
        threads.append(
            threading.Thread(target=clerk, args=(base, name, rec, stop, random.Random(args.seed + i)))
        )
    for i, name in enumerate(plan["towns"]):
        threads.append(
            threading.Thread(target=town, args=(base, name, rec, stop, random.Random(args.seed + 100 + i)))
        )
    for i, setup in enumerate(plan["departments"]):
        threads.append(
            threading.Thread(
                # unseeded: never the same rows twice, even across runs (the same content is imported once)
                target=department,
                args=(base, setup, rec, stop, random.Random(), i),
            )
        )
    random.Random(args.seed).shuffle(threads)
    started = time.perf_counter()
    for t in threads:  # ramp up over ten seconds
        t.start()
        time.sleep(10 / len(threads))
    stop.wait(max(0.0, args.minutes * 60 - (time.perf_counter() - started)))
    stop.set()
    for t in threads:
        t.join(300)
    rec.duration = time.perf_counter() - started
    return rec


# --- the report ----------------------------------------------------------------------------------------------

ORDER = [
    "登录页",
    "登录",
    "农户列表",
    "农户详情",
    "修改表单",
    "保存修改",
    "我的待办",
    "审批事项",
    "审批通过",
    "部门报送（接口）",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def report(args, plan, rec, started_at: str, load_before: float) -> str:
    rows = []
    total = 0
    for kind in [k for k in ORDER if k in rec.times] + sorted(set(rec.times) - set(ORDER)):
        values = rec.times[kind]
        total += len(values)
        rows.append(
            [kind, str(len(values)), f"{statistics.median(values) * 1000:.0f}", f"{percentile(values, 0.95) * 1000:.0f}",
             f"{max(values) * 1000:.0f}", str(rec.conflicts.get(kind, 0))]
        )  # fmt: skip
    try:
        load_after = os.getloadavg()[0]
    except OSError:
        load_after = float("nan")
    lines = [
        "## Load: 50 users for 5 minutes (issue 21, point 6)",
        "",
        f"`.venv/bin/python benchmarks/load.py --users {args.users} --minutes {args.minutes:g}` — {machine()}.",
        f"gunicorn {args.workers} workers × {args.threads} threads (gthread), the background worker "
        f"(`fangfan db_worker`), PostgreSQL database `{args.database}` (a copy of the county benchmark database: "
        f"{plan['households']:,} households), all on the loopback; the load generator (threads, httpx) on the same "
        "machine. Users: "
        f"{len(plan['clerks'])} village clerks (list, household, edit form, save), {len(plan['towns'])} town "
        f"stations (我的待办, case, 通过; {plan['cases']} cases seeded at 乡镇审核), {len(plan['departments'])} "
        "department system(s) posting 100 rows through the API every 10–20 s; each user thinks 1–4 s between "
        "pages.",
        "",
        f"Started {started_at}; {rec.duration:.0f} s; {total} requests ({total / rec.duration:.1f}/s); "
        f"**{len(rec.errors)} errors**. Load average of the machine {load_before:.1f} before, {load_after:.1f} after"
        + (
            ": **the machine was busy with other work before the run started**, so these times are upper bounds."
            if load_before > (os.cpu_count() or 1) * 0.75
            else " (nothing else was running: the load is this run's own — server, worker, database and the "
            "load generator on the same cores)."
        ),
        "",
        table(["page type", "requests", "p50 ms", "p95 ms", "max ms", "conflicts (clear answer)"], rows),
        "",
        '"conflicts": a save answered "已被他人修改" (two clerks of one village saved the same household) or an '
        "approval answered 409; both are correct answers, not errors.",
    ]
    if rec.errors:
        lines += ["", "Errors (first 20):", "", *[f"- `{e}`" for e in rec.errors[:20]]]
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    ensure_database(args.database)
    print("setting up accounts and cases …", flush=True)
    plan = set_up(args)
    print(
        f"{len(plan['clerks'])} clerks, {len(plan['towns'])} town stations, {len(plan['departments'])} departments, "
        f"{plan['cases']} cases; starting gunicorn and the worker …",
        flush=True,
    )
    servers = start_servers(args)
    try:
        load_before = os.getloadavg()[0]
        started_at = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        print(f"running {args.users} users for {args.minutes:g} min …", flush=True)
        rec = run(args, plan)
    finally:
        stop_servers(servers)
    text = report(args, plan, rec, started_at, load_before)
    print(text)
    if not args.no_write:
        write_section(MARK, text)
    return 1 if rec.errors else 0


if __name__ == "__main__":
    sys.exit(main())
