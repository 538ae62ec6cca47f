"""Accounts in bulk (``fangfan import-users FILE``, spec/API.md): ``账号, 姓名, 角色, 区划代码[, 手机号][, 部门]``
from .xlsx or .csv.

Missing accounts are created, existing ones get the file's name, role and region (and phone, when given). Every
row is checked first — the role named by its Chinese label as the pages show it, bound to a region of a level the
role allows (``roles.ROLE_LEVELS``), inside the operator's jurisdiction, no account twice — and one bad row
refuses the whole file, each problem named by row and column; nothing is half-written. The three administrators
are never created or changed here (三员分立: they are opened one by one by a system administrator).

A new account has no usable password: it cannot sign in until a system administrator sets an initial password on
its page (用户管理 → 重置密码), which its holder is told to change."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Lower

from fangfan.core import audit
from fangfan.core.cells import text
from fangfan.core.errors import DomainError, ValidationFailed
from fangfan.core.tabular import Problem, missing_headers, read_tables, repeated_headers
from fangfan.regions.models import Region

from .models import User
from .roles import ADMIN_ROLES, Department, Role
from .services import AUDITED_FIELDS, _check_assignment, _ensure_manages_users, _ensure_user_in_scope

HEADERS = ["账号", "姓名", "角色", "区划代码"]
OPTIONAL = ["手机号", "部门"]
PHONE = re.compile(r"1[3-9][0-9]{9}")

# The role as the pages name it; a few words people write for the same role.
ROLE_BY_LABEL: dict[str, str] = {str(r.label): r.value for r in Role if r != Role.SYSTEM}
ROLE_BY_LABEL.update({"帮扶责任人": Role.HELPER, "联系人": Role.HELPER, "部门用户": Role.DEPARTMENT})
DEPARTMENT_BY_LABEL: dict[str, str] = {str(d.label): d.value for d in Department}
DEPARTMENT_BY_LABEL.update({f"{d.label}部门": d.value for d in Department})


@dataclass
class UsersImportSummary:
    read: int
    created: int
    updated: int
    unchanged: int


@dataclass
class _Row:
    number: int
    username: str
    full_name: str
    role: str
    region: Region
    department: str
    phone: str
    existing: User | None


def _snapshot(user: User) -> dict:
    return {field: getattr(user, field) for field in AUDITED_FIELDS}


def _parse(sheet, actor) -> tuple[list[_Row], list[Problem]]:
    problems: list[Problem] = []

    def problem(row: int, column: str, value: str, reason: str) -> None:
        problems.append(Problem(sheet.file, sheet.name, row, column, value, reason))

    raw_rows = []
    seen: dict[str, int] = {}
    for number, row in sheet.rows:
        username = text(row.get("账号"))
        full_name = text(row.get("姓名"))
        role_label = text(row.get("角色"))
        code = text(row.get("区划代码"))
        phone = text(row.get("手机号"))
        department_label = text(row.get("部门"))
        if not username:
            problem(number, "账号", "", "账号不能为空")
        else:
            try:
                User.username_validator(username)
            except ValidationError:
                problem(number, "账号", username, "账号只能由字母、数字、汉字和 @ . + - _ 组成")
            if len(username) > 150:
                problem(number, "账号", username[:20], "账号最多 150 个字符")
            key = username.lower()
            if key in seen:
                problem(number, "账号", username, f"与第{seen[key]}行的账号重复")
            else:
                seen[key] = number
        if not full_name:
            problem(number, "姓名", "", "姓名不能为空")
        elif len(full_name) > 50:
            problem(number, "姓名", full_name[:20], "姓名最多 50 个字")
        role = ROLE_BY_LABEL.get(role_label, "")
        if not role:
            known = "、".join(str(r.label) for r in Role if r not in ADMIN_ROLES and r != Role.SYSTEM)
            problem(number, "角色", role_label, f"未知的角色，应为：{known}")
        elif role in ADMIN_ROLES:
            problem(
                number, "角色", role_label, "系统管理员、安全管理员、审计管理员账号不能通过导入创建或修改"
            )
        department = ""
        if role == Role.DEPARTMENT:
            department = DEPARTMENT_BY_LABEL.get(department_label, "")
            if not department:
                known = "、".join(str(d.label) for d in Department)
                problem(number, "部门", department_label, f"部门账号须填写所属部门：{known}")
        if phone and not PHONE.fullmatch(phone):
            problem(number, "手机号", phone[:3] + "…" if len(phone) > 3 else phone, "手机号应为 11 位数字")
        if not code:
            problem(number, "区划代码", "", "区划代码不能为空")
        raw_rows.append((number, username, full_name, role, code, department, phone))

    regions = {r.code: r for r in Region.objects.filter(code__in={r[4] for r in raw_rows if r[4]})}
    # Matched without regard to case: an account "Zhang" in the file is the stored "zhang", never a second one.
    keys = {r[1].lower() for r in raw_rows if r[1]}
    existing = {
        u.username.lower(): u
        for u in User.objects.annotate(key=Lower("username")).filter(key__in=keys).select_related("region")
    }

    rows: list[_Row] = []
    for number, username, full_name, role, code, department, phone in raw_rows:
        region = regions.get(code) if code else None
        if code and region is None:
            problem(number, "区划代码", code, "区划不存在")
        elif region is not None and region.valid_to is not None:
            problem(number, "区划代码", code, f"区划“{region.name}”已撤销")
            region = None
        user = existing.get(username.lower()) if username else None
        if user is not None and user.username != username:
            problem(
                number, "账号", username, f"系统中已有账号“{user.username}”（仅大小写不同），请使用原账号"
            )
            continue
        if user is not None and (user.role in ADMIN_ROLES or user.role == Role.SYSTEM):
            problem(number, "账号", username, "该账号是管理员或命令行账号，不能通过导入修改")
            continue
        if user is not None:
            try:
                _ensure_user_in_scope(actor, user)
            except DomainError as exc:
                problem(number, "账号", username, exc.message)
                continue
        if region is None or not role or role in ADMIN_ROLES or (role == Role.DEPARTMENT and not department):
            continue
        try:
            _check_assignment(actor=actor, role=role, department=department, region=region)
        except DomainError as exc:
            problem(number, "区划代码", code, exc.message)
            continue
        rows.append(_Row(number, username, full_name, role, region, department, phone, user))
    return rows, problems


def users_import(
    *, path: Path, actor, dry_run: bool = False, display_name: str | None = None
) -> UsersImportSummary:
    """Create or update accounts from a file (系统管理员 or the command-line operator). All or nothing."""
    _ensure_manages_users(actor)
    sheet = read_tables(path, display_name=display_name)[0]
    problems = missing_headers(sheet, HEADERS) + repeated_headers(sheet)
    if problems:
        raise ValidationFailed("账号表的表头有误（缺少必需的列或有重复的列）", problems)
    if not sheet.rows:
        raise ValidationFailed(f"{sheet.file}：没有账号行")
    rows, problems = _parse(sheet, actor)
    if problems:
        raise ValidationFailed(f"账号表有 {len(problems)} 处错误，未导入任何账号", problems)

    created = updated = unchanged = 0
    with transaction.atomic():
        for row in rows:
            user = row.existing
            if user is None:
                user = User(
                    username=row.username,
                    full_name=row.full_name,
                    role=row.role,
                    department=row.department,
                    region=row.region,
                    phone=row.phone,
                    is_active=True,
                )
                # No password until a system administrator sets one: the account cannot sign in before.
                user.set_unusable_password()
                if not dry_run:
                    user.save()
                    audit.record(actor, "user.created", user, after=_snapshot(user), note="批量导入账号")
                created += 1
                continue
            before = _snapshot(user)
            user.full_name = row.full_name
            user.role = row.role
            user.department = row.department
            user.region = row.region
            if row.phone:
                user.phone = row.phone
            changed_before, changed_after = audit.changes(before, _snapshot(user))
            if not changed_after:
                unchanged += 1
                continue
            if not dry_run:
                user.save(update_fields=["full_name", "role", "department", "region", "phone"])
                audit.record(
                    actor,
                    "user.updated",
                    user,
                    before=changed_before,
                    after=changed_after,
                    note="批量导入账号",
                )
            updated += 1
    return UsersImportSummary(read=len(rows), created=created, updated=updated, unchanged=unchanged)
