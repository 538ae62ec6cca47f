"""``fangfan demo`` (spec/CLI.md): migrate, create the demo town unless it exists, print the address and the demo
accounts, then serve the web UI with the background task worker beside it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import unicodedata

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from fangfan.core.commands import DomainCommand
from fangfan.core.scoping import unscoped_reads

ADDR = re.compile(r"^(?:(?P<host>[^\s:]+|\[[0-9a-fA-F:]+\]):)?(?P<port>\d{1,5})$")


class Command(DomainCommand):
    help = "迁移数据库；如尚无演示数据则生成演示乡镇（农户、成员、各角色账号）；打印访问地址和演示账号；启动网页服务"

    def add_arguments(self, parser) -> None:
        from fangfan.demo.generator import DEFAULT_HOUSEHOLDS, DEFAULT_SEED

        parser.add_argument(
            "--households",
            type=int,
            default=DEFAULT_HOUSEHOLDS,
            help=f"演示农户数（默认 {DEFAULT_HOUSEHOLDS}）",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help=f"随机种子：相同种子生成相同数据（默认 {DEFAULT_SEED}）",
        )
        parser.add_argument("--no-serve", action="store_true", help="只准备数据，不启动网页服务")
        parser.add_argument(
            "--addr", default="127.0.0.1:8000", help="网页服务地址 HOST:PORT（默认 127.0.0.1:8000）"
        )

    def run(self, *args, **options) -> None:
        host, port = self.parse_addr(options["addr"])
        households = options["households"]
        if households < 1:
            raise CommandError("--households 应为正整数")
        tty = self.show_progress()
        if tty:
            self.stderr.write("正在准备数据库……", style_func=_plain)
        call_command("migrate", interactive=False, verbosity=0)
        with unscoped_reads():  # the demo's data is the operator's system work
            self.prepare(households=households, seed=options["seed"], tty=tty, options=options)
        self.print_accounts()
        if options["no_serve"]:
            return
        self.serve(host, port, tty=tty)

    # -- data --

    def prepare(self, *, households: int, seed: int, tty: bool, options) -> None:
        from fangfan.demo.generator import demo_existing, demo_generate
        from fangfan.registry.models import Household

        existing = demo_existing()
        if existing is not None:
            from fangfan.demo.accounts import demo_second_factors_enrol

            demo_second_factors_enrol()
            self.stdout.write(
                f"使用已有的演示数据：{existing.get('households', '?')} 户、{existing.get('members', '?')} 人"
                f"（随机种子 {existing.get('seed', '?')}）。"
            )
            if existing.get("households") != households or existing.get("seed") != seed:
                self.stdout.write("如需按新的参数重新生成，请换用新的数据目录（FANGFAN_DATA_DIR）或数据库。")
            return
        if Household.objects.exists():
            self.stderr.write("数据库中已有农户数据（不是演示数据），不再生成演示数据。")
            return
        progress = self.progress_bar() if tty else None
        summary = demo_generate(
            households=households, seed=seed, progress=progress, actor=self.actor(options)
        )
        if tty:
            self.stderr.write("", style_func=_plain)
        self.stdout.write(
            f"已生成演示数据：{summary.towns} 个乡镇、{summary.villages} 个村（社区）、{summary.households} 户、"
            f"{summary.members} 人，其中脱贫户 {summary.exited} 户、边缘易致贫户 {summary.marginal} 户"
            f"（用时 {summary.seconds:.1f} 秒）。"
        )
        self.history(seed=seed, options=options)
        self.early_warning(seed=seed, options=options)
        self.cases(seed=seed)

    def cases(self, *, seed: int) -> None:
        """Approval cases at several steps of every process: each acting role's 我的待办 has work."""
        from fangfan.demo.workflows import demo_workflows

        self.stdout.write(demo_workflows(seed=seed))

    def history(self, *, seed: int, options) -> None:
        """Six months of each household's figures: the income line on its page, the trend rule's previous month."""
        from fangfan.demo.history import MONTHS, demo_history

        demo_history(seed=seed, actor=self.actor(options))
        self.stdout.write(f"已生成近 {MONTHS} 个月的农户月度记录。")

    def early_warning(self, *, seed: int, options) -> None:
        """Department batches for the demo month, then a full screening: warnings are there on first login."""
        from fangfan.demo.backlog import demo_backlog
        from fangfan.demo.department_data import demo_department_batches
        from fangfan.monitoring.screening import screening_run

        batches = demo_department_batches(seed=seed)
        if batches:
            rows = sum(b.rows for b in batches)
            unmatched = sum(b.unmatched for b in batches)
            self.stdout.write(f"已导入部门数据 {len(batches)} 批、{rows} 行（其中未匹配 {unmatched} 行）。")
        run = screening_run(actor=self.actor(options))
        self.stdout.write(f"已完成预警筛查：新增预警 {run.new_warnings} 条（用时 {run.seconds:.1f} 秒）。")
        backlog = demo_backlog(seed=seed)
        self.stdout.write(
            f"已模拟近一个月的核查工作：已核查 {backlog.completed} 户（确认 {backlog.confirmed} 条、排除 "
            f"{backlog.excluded} 条），待核查 {backlog.open} 户。"
        )

    def progress_bar(self):
        stream = self.stderr._out

        def show(done: int, total: int, message: str = "") -> None:
            share = done / total if total else 1
            bar = "█" * int(share * 30) + "░" * (30 - int(share * 30))
            stream.write(f"\r{message or '生成演示数据'} {bar} {done}/{total}（{share:.0%}）")
            stream.flush()

        return show

    def print_accounts(self) -> None:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from fangfan.accounts.models import User
        from fangfan.demo.accounts import DEMO_ACCOUNTS, DEMO_TOTP_KEY
        from fangfan.regions.models import Region

        present = set(
            User.objects.filter(username__in=[a.username for a in DEMO_ACCOUNTS]).values_list(
                "username", flat=True
            )
        )
        accounts = [a for a in DEMO_ACCOUNTS if a.username in present]
        if not accounts:
            return
        codes = {a.region_code for a in accounts}
        parents = {c[:9] + "000" for c in codes if not c.endswith("000")}
        names = dict(Region.objects.filter(code__in=codes | parents).values_list("code", "name"))

        def place(code: str) -> str:
            if code.endswith("000"):
                return names.get(code, code)
            return names.get(code[:9] + "000", "") + names.get(code, code)

        enrolled = set(
            TOTPDevice.objects.filter(user__username__in=present, confirmed=True).values_list(
                "user__username", flat=True
            )
        )
        rows = [("账号", "角色", "所属区划", "密码", "两步验证")]
        rows += [
            (
                a.username,
                a.role_label,
                place(a.region_code),
                a.password,
                "需要" if a.username in enrolled else "",
            )
            for a in accounts
        ]
        widths = [max(_width(r[i]) for r in rows) for i in range(5)]
        self.stdout.write("\n演示账号（均可登录，密码相同）：")
        for i, row in enumerate(rows):
            self.stdout.write("  " + "  ".join(_pad(cell, widths[j]) for j, cell in enumerate(row)).rstrip())
            if i == 0:
                self.stdout.write("  " + "  ".join("-" * w for w in widths))
        self.stdout.write(
            "\n标“需要”的账号（管理员和县级、省级账号）须两步验证：在手机的身份验证器中手动添加密钥（基于时间）\n"
            f"  {DEMO_TOTP_KEY}\n"
            "登录时输入其显示的 6 位验证码；没有身份验证器时，运行 fangfan demo-code 查看当前验证码。"
        )
        self.stdout.write("")

    # -- serving --

    def parse_addr(self, addr: str) -> tuple[str, str]:
        match = ADDR.match(addr.strip())
        if not match or not 0 < int(match["port"]) < 65536:
            raise CommandError(f"--addr 格式应为 HOST:PORT，例如 127.0.0.1:8000（收到：{addr}）")
        return match["host"] or "127.0.0.1", match["port"]

    def serve(self, host: str, port: str, *, tty: bool) -> None:
        shown = "127.0.0.1" if host in ("0.0.0.0", "[::]") else host  # noqa: S104 - a display name only
        self.stdout.write(f"演示系统地址：http://{shown}:{port}/  （按 Ctrl-C 停止）")
        if host.strip("[]") not in settings.ALLOWED_HOSTS and host not in ("0.0.0.0", "[::]"):  # noqa: S104
            self.stdout.write(f"提示：从 {host} 访问需设置环境变量 FANGFAN_ALLOWED_HOSTS={host}")
        self.stdout.flush()
        worker = subprocess.Popen(  # noqa: S603 - our own interpreter and console script
            [sys.executable, "-m", "fangfan.cli", "db_worker", "--verbosity", "1" if tty else "0"],
            env=os.environ.copy(),
            preexec_fn=_end_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
            # Its own session: Ctrl-C reaches only the server, which then stops the worker once (a second signal
            # makes db_worker exit with a traceback).
            start_new_session=True,
        )
        previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
        try:
            call_command(
                "runserver",
                f"{host}:{port}",
                use_reloader=False,
                use_threading=True,
                skip_checks=True,
            )
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            _stop(worker)
            self.stdout.write("演示系统已停止。")


def _plain(text: str) -> str:
    """Progress notes on stderr are not errors: no red."""
    return text


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(0)


def _end_with_parent() -> None:
    """In the worker, before exec: ask Linux to send SIGTERM when the server process dies, however it dies."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
