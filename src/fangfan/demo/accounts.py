"""The demo's user accounts: one or more for every role, bound to the demo town's regions, with a fixed
password that passes the password validators (等保 2.0 complexity, ≥ 10 characters)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

from fangfan.accounts.roles import Department, Role

DEMO_PASSWORD = "Demo-2026!Fangfan"  # noqa: S105 - printed on start; a demo has no secrets
# The second factor of the demo accounts that must have one (administrators, county and province accounts): one
# TOTP key, printed on start and in the README; ``fangfan demo-code`` prints its current code.
DEMO_TOTP_KEY = "FANGFANDEMOSECRETKEYFORNEWCOMERS"  # noqa: S105 - base32, 20 bytes; a demo has no secrets


def totp_code(base32_key: str, at: float | None = None) -> str:
    """The RFC 6238 code (SHA-1, 30 s, 6 digits) of a base32 key at a time (now by default)."""
    key = base64.b32decode(
        base32_key.replace(" ", "").upper() + "=" * (-len(base32_key.replace(" ", "")) % 8)
    )
    counter = int((time.time() if at is None else at) // 30)
    mac = hmac.new(key, counter.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return f"{(int.from_bytes(mac[offset : offset + 4], 'big') & 0x7FFFFFFF) % 1_000_000:06d}"


TAOXI = "341523104000"  # 桃溪镇
DONGFENG = "341523104201"  # 东风村
XINHE = "341523104202"  # 新河村
QIANRENQIAO = "341523105000"  # 千人桥镇
FUYUAN = "341523105201"  # 复元村
COUNTY = "341523000000"  # 舒城县
PROVINCE = "340000000000"  # 安徽省


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    region_code: str
    full_name: str
    department: str = ""
    password: str = DEMO_PASSWORD

    @property
    def role_label(self) -> str:
        if self.role == Role.DEPARTMENT and self.department:
            return f"{Department(self.department).label}部门"
        return str(Role(self.role).label)


_DEPARTMENT_USERNAMES = {
    Department.CIVIL: "dept_civil",
    Department.MEDICAL: "dept_medical",
    Department.EDUCATION: "dept_education",
    Department.HOUSING: "dept_housing",
    Department.WATER: "dept_water",
    Department.EMPLOYMENT: "dept_employment",
    Department.DISABILITY: "dept_disability",
    Department.DISASTER: "dept_disaster",
    Department.REGISTRY: "dept_police",
}

DEMO_ACCOUNTS: list[DemoAccount] = [
    DemoAccount("dongfeng_clerk", Role.VILLAGE_CLERK, DONGFENG, "张丽娟"),
    DemoAccount("xinhe_clerk", Role.VILLAGE_CLERK, XINHE, "李文杰"),
    DemoAccount("fuyuan_clerk", Role.VILLAGE_CLERK, FUYUAN, "陈海燕"),
    DemoAccount("dongfeng_helper", Role.HELPER, DONGFENG, "王建华"),
    DemoAccount("fuyuan_helper", Role.HELPER, FUYUAN, "刘春梅"),
    DemoAccount("taoxi_station", Role.TOWN_STATION, TAOXI, "储志强"),
    DemoAccount("taoxi_leader", Role.TOWN_LEADER, TAOXI, "汪国华"),
    DemoAccount("qianrenqiao_station", Role.TOWN_STATION, QIANRENQIAO, "杨晓东"),
    *[
        DemoAccount(username, Role.DEPARTMENT, COUNTY, f"{dept.label}局经办", department=dept)
        for dept, username in _DEPARTMENT_USERNAMES.items()
    ],
    DemoAccount("county_review", Role.COUNTY_REVIEW, COUNTY, "孙振华"),
    DemoAccount("province_record", Role.PROVINCE_RECORD, PROVINCE, "周立新"),
    DemoAccount("sysadmin", Role.SYS_ADMIN, COUNTY, "系统管理员"),
    DemoAccount("secadmin", Role.SEC_ADMIN, COUNTY, "安全管理员"),
    DemoAccount("auditadmin", Role.AUDIT_ADMIN, COUNTY, "审计管理员"),
]


def demo_users_create() -> list[DemoAccount]:
    """Create the demo accounts that do not exist yet (an existing account is left as it is)."""
    from django.contrib.auth.hashers import make_password

    from fangfan.accounts.models import User

    existing = set(
        User.objects.filter(username__in=[a.username for a in DEMO_ACCOUNTS]).values_list(
            "username", flat=True
        )
    )
    # One Argon2 hash per distinct password (≈ 0.2 s each): the accounts share the printed demo password.
    hashes: dict[str, str] = {}
    for account in DEMO_ACCOUNTS:
        if account.username in existing:
            continue
        user = User.objects.create_user(
            username=account.username,
            password=None,
            role=account.role,
            region_id=account.region_code,
            department=account.department,
            full_name=account.full_name,
        )
        if account.password not in hashes:
            hashes[account.password] = make_password(account.password)
        user.password = hashes[account.password]
        user.save(update_fields=["password"])
    demo_second_factors_enrol()
    return DEMO_ACCOUNTS


def demo_second_factors_enrol() -> int:
    """Every demo account that must have a second factor and has none gets the demo key, confirmed, so that a
    newcomer signs in with the printed key (or ``fangfan demo-code``) instead of being sent to enrolment — also
    in a demo database made before there was a second factor. Returns how many were enrolled."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from fangfan.accounts.models import User
    from fangfan.accounts.second_factor import DEVICE_NAME, required_for

    key = base64.b32decode(DEMO_TOTP_KEY).hex()
    enrolled = 0
    for user in User.objects.filter(username__in=[a.username for a in DEMO_ACCOUNTS]):
        if required_for(user) and not TOTPDevice.objects.filter(user=user).exists():
            TOTPDevice.objects.create(user=user, name=DEVICE_NAME, key=key, confirmed=True)
            enrolled += 1
    return enrolled
