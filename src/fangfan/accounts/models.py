"""People who use the system: one role each, bound to one region."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangfan.core.scoping import ScopedQuerySet
from fangfan.regions.codes import code_range

from .roles import ADMIN_ROLES, Department, Role, actions_for

# The user name of a department token's service account: ``dept-token-<token id>``.
SERVICE_ACCOUNT_PREFIX = "dept-token-"


class FangfanUserManager(UserManager.from_queryset(ScopedQuerySet)):
    """Django's user manager with the jurisdiction door: ``User.objects.for_user(admin, "user.manage")``."""

    def cli_account(self, os_user: str):
        """The account that stands for an operating-system user running commands (no web login)."""
        user, _created = self.get_or_create(
            username=f"cli-{os_user}"[:150],
            defaults={"role": Role.SYSTEM, "full_name": f"命令行（{os_user}）", "is_active": True},
        )
        if _created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        return user


class User(AbstractUser):
    """A user of the system: a role and the region that role works in (its jurisdiction is that subtree)."""

    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    department = models.CharField(_("所属部门"), max_length=20, choices=Department.choices, blank=True)
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("所属区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    password_changed_at = models.DateTimeField(_("密码修改时间"), null=True, blank=True)
    # Set when someone else chose the password (a reset by the security administrator, a new account): until the
    # person changes it, every page sends them to 修改密码 (``PasswordChangeRequiredMiddleware``).
    must_change_password = models.BooleanField(_("须修改密码"), default=False)

    objects = FangfanUserManager()
    region_field = "region_id"
    # Not guarded (docs/architecture.md): signing in reads a user before any scope exists; lists of users go
    # through ``for_user(admin, "user.manage")``.
    scope_guarded = False

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="department") | ~models.Q(department=""),
                name="department_user_has_department",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def audit_label(self) -> str:
        return self.username

    @property
    def region_code(self) -> str:
        return self.region_id or ""

    @property
    def is_admin_role(self) -> bool:
        return self.role in ADMIN_ROLES

    @property
    def is_service_account(self) -> bool:
        """A department token's service account (``monitoring.tokens.token_account``): it acts for the token over
        the API and never signs in, so nobody may give it a password."""
        return self.username.startswith(SERVICE_ACCOUNT_PREFIX)

    @property
    def is_operator(self) -> bool:
        """The command-line operator (``User.objects.cli_account``, role ``Role.SYSTEM``): the one account that
        may do every action everywhere. It has no password and never signs in on the web; its work is audited
        under its name like anyone's. The only test of "is this the operator" in the code."""
        return self.role == Role.SYSTEM

    def can(self, action: str) -> bool:
        return self.is_active and (self.is_operator or action in actions_for(self.role))

    def jurisdiction_range(self) -> tuple[str, str] | None:
        """The code range of the user's region subtree; the command-line operator's is everything."""
        if self.is_operator and self.is_active:
            return ("000000000000", "999999999999~")
        if not self.region_id:
            return None
        return code_range(self.region_id)

    @property
    def role_label(self) -> str:
        label = self.get_role_display()
        if self.role == Role.DEPARTMENT and self.department:
            label = f"{self.get_department_display()}部门"
        return label


class PersonalToken(models.Model):
    """A personal API token (个人接口令牌): it acts as its user, with the user's role and jurisdiction. Only the
    SHA-256 of the token is stored (the token is 256 random bits, so a plain hash is enough); the token itself is
    shown once, when issued. It expires, may be revoked, and stops working when its user is disabled."""

    user = models.ForeignKey(
        User, verbose_name=_("持有人"), on_delete=models.CASCADE, related_name="personal_tokens"
    )
    name = models.CharField(_("名称"), max_length=100, blank=True)
    token_hash = models.CharField(_("令牌哈希"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("签发时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("到期时间"))
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        User,
        verbose_name=_("签发人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("个人接口令牌")
        verbose_name_plural = _("个人接口令牌")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name or f"令牌 {self.pk}"

    @property
    def audit_label(self) -> str:
        return f"个人接口令牌 {self.name or self.pk}（{self.user.username}）"

    @property
    def region_code(self) -> str:
        return self.user.region_id or ""

    @property
    def state_label(self) -> str:
        """有效, 已过期 or 已吊销, as the account page shows it."""
        if self.revoked_at is not None:
            return "已吊销"
        return "已过期" if self.expires_at <= timezone.now() else "有效"
