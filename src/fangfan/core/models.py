"""Platform records: the append-only audit chain and background jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One attributable action. Append-only: database triggers refuse UPDATE and DELETE, and each row carries
    the hash of its predecessor so that a change made behind the application's back is detected."""

    at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    actor_username = models.CharField(_("操作账号"), max_length=150, blank=True)
    actor_role = models.CharField(_("角色"), max_length=40, blank=True)
    region_code = models.CharField(_("行政区划代码"), max_length=12, blank=True, db_index=True)
    action = models.CharField(_("操作"), max_length=80, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=80, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    object_label = models.CharField(_("对象"), max_length=200, blank=True)
    before = models.JSONField(_("修改前"), null=True, blank=True)
    after = models.JSONField(_("修改后"), null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)
    request_id = models.CharField(_("请求编号"), max_length=64, blank=True)
    ip = models.CharField(_("IP 地址"), max_length=45, blank=True)
    prev_hash = models.CharField(_("前一条哈希"), max_length=64)
    hash = models.CharField(_("哈希"), max_length=64, unique=True)
    # 1: ``hash`` is an HMAC-SHA256 under the audit key (settings.AUDIT_KEY); NULL: an event written before the
    # chain was keyed, hashed with plain SHA-256 (core.audit.compute_hash).
    hash_version = models.PositiveSmallIntegerField(_("哈希版本"), null=True, blank=True)

    region_field = "region_code"

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"


class Job(models.Model):
    """A piece of long work (an import, an export, a screening) whose progress a person can watch."""

    class State(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("进行中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    kind = models.CharField(_("类型"), max_length=40)
    title = models.CharField(_("名称"), max_length=200)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveIntegerField(_("已处理"), default=0)
    total = models.PositiveIntegerField(_("总数"), default=0)
    message = models.TextField(_("消息"), blank=True)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    result = models.JSONField(_("结果"), default=dict, blank=True)
    input_file = models.CharField(_("输入文件"), max_length=500, blank=True)
    output_file = models.CharField(_("输出文件"), max_length=500, blank=True)
    region_code = models.CharField(_("行政区划代码"), max_length=12, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="jobs",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        return int(self.progress * 100 / self.total) if self.total else 0


class ThrottleHit(models.Model):
    """One counted attempt for a rate limit kept in the database, so that it holds across server processes and
    restarts. ``key`` is a keyed HMAC of what is limited (a client address, never the address itself, or ``*``
    for the overall count); rows older than the longest window are deleted as new ones come in."""

    scope = models.CharField(_("限制类别"), max_length=40)
    key = models.CharField(_("来源散列"), max_length=64)
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("频率限制记录")
        verbose_name_plural = _("频率限制记录")
        indexes = [models.Index(fields=["scope", "key", "at"], name="throttle_scope_key_at_idx")]

    def __str__(self) -> str:
        return f"{self.scope} {self.at:%Y-%m-%d %H:%M:%S}"


class UsedChallenge(models.Model):
    """A CAPTCHA challenge that has been answered (rightly or not): it cannot be answered again. Kept until the
    challenge would have expired anyway."""

    id = models.CharField(_("编号"), max_length=32, primary_key=True)
    expires_at = models.DateTimeField(_("失效时间"), db_index=True)

    class Meta:
        verbose_name = _("已用验证题")
        verbose_name_plural = _("已用验证题")

    def __str__(self) -> str:
        return self.id
