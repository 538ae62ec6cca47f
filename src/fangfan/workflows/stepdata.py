"""What a step's approve must carry (``Step.data_schema``), checked and normalised to JSON-ready values.

民主评议 ``{meeting_on, attendees, agreed}``; 村内公示 ``{notice_from, notice_to, objections}`` — at least 5 days,
not ending after today (DOMAIN.md §5); 入户核查 ``{visited_on, finding}``; 承诺授权 needs the signed consent attached
(checked by the service, which sees the attachments); 村级填报 (M6) holds 入户核查, 民主评议 and 村内公示 together.
"""

from __future__ import annotations

from datetime import date

from fangfan.core.errors import ValidationFailed

from .choices import SCHEMA_MEETING, SCHEMA_NOTICE, SCHEMA_VILLAGE_REPORT, SCHEMA_VISIT

NOTICE_MIN_DAYS = 5


def _day(data: dict, key: str, what: str, problems: list[str]) -> date | None:
    raw = data.get(key)
    if raw in (None, ""):
        problems.append(f"请填写{what}（{key}，格式 YYYY-MM-DD）")
        return None
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        problems.append(f"{what}（{key}）“{str(raw)[:20]}”不是 YYYY-MM-DD 格式的日期")
        return None


def _text(data: dict, key: str, what: str, problems: list[str], *, required: bool = True) -> str:
    value = str(data.get(key) or "").strip()
    if required and not value:
        problems.append(f"请填写{what}（{key}）")
    return value[:500]


def _bool(data: dict, key: str, what: str, problems: list[str]) -> bool | None:
    raw = data.get(key)
    if isinstance(raw, bool):
        return raw
    text = str(raw or "").strip().lower()
    if text in {"true", "1", "yes", "on", "是", "同意"}:
        return True
    if text in {"false", "0", "no", "off", "否", "不同意"}:
        return False
    problems.append(f"请填写{what}（{key}：true 或 false）")
    return None


def _visit(data: dict, today: date, problems: list[str]) -> dict:
    visited_on = _day(data, "visited_on", "入户核查日期", problems)
    if visited_on and visited_on > today:
        problems.append("入户核查日期不能晚于今天")
    finding = _text(data, "finding", "核查情况", problems)
    return {"visited_on": visited_on.isoformat() if visited_on else None, "finding": finding}


def _meeting(data: dict, today: date, problems: list[str]) -> dict:
    meeting_on = _day(data, "meeting_on", "评议日期", problems)
    if meeting_on and meeting_on > today:
        problems.append("评议日期不能晚于今天")
    attendees = data.get("attendees")
    try:
        count = int(attendees)
    except (TypeError, ValueError):
        count = 0
        problems.append("请填写参加评议人数（attendees，正整数）")
    else:
        if count <= 0:
            problems.append("参加评议人数应为正整数")
    agreed = _bool(data, "agreed", "评议是否同意", problems)
    if agreed is False:
        problems.append("民主评议未同意：请驳回或退回本事项，而不是通过")
    return {
        "meeting_on": meeting_on.isoformat() if meeting_on else None,
        "attendees": count,
        "agreed": agreed,
    }


def _notice(data: dict, today: date, problems: list[str]) -> dict:
    start = _day(data, "notice_from", "公示开始日期", problems)
    end = _day(data, "notice_to", "公示结束日期", problems)
    if start and end:
        days = (end - start).days + 1
        if end < start:
            problems.append("公示结束日期早于开始日期")
        elif days < NOTICE_MIN_DAYS:
            problems.append(f"公示期只有 {days} 天，村内公示不少于 {NOTICE_MIN_DAYS} 天")
        if end > today:
            problems.append("公示期尚未结束（结束日期晚于今天），期满后再办理")
    objections = _text(data, "objections", "公示异议情况（无异议请填“无”）", problems)
    return {
        "notice_from": start.isoformat() if start else None,
        "notice_to": end.isoformat() if end else None,
        "objections": objections,
    }


_PARTS = {
    SCHEMA_VISIT: (_visit,),
    SCHEMA_MEETING: (_meeting,),
    SCHEMA_NOTICE: (_notice,),
    SCHEMA_VILLAGE_REPORT: (_visit, _meeting, _notice),
}


def step_data_clean(schema: str, data: dict | None, *, today: date) -> dict:
    """The step's data, checked: every problem named at once (422), or the normalised dict."""
    parts = _PARTS.get(schema)
    if not parts:
        return {}
    if data is not None and not isinstance(data, dict):
        raise ValidationFailed("环节资料（data）应为 JSON 对象")
    data = data or {}
    problems: list[str] = []
    clean: dict = {}
    for part in parts:
        clean.update(part(data, today, problems))
    if problems:
        raise ValidationFailed(f"{schema}资料不完整或有误：" + "；".join(problems), problems=problems)
    return clean


def schema_fields(schema: str) -> list[str]:
    """The keys a schema's form asks for (the case page's form)."""
    keys = {
        SCHEMA_VISIT: ["visited_on", "finding"],
        SCHEMA_MEETING: ["meeting_on", "attendees", "agreed"],
        SCHEMA_NOTICE: ["notice_from", "notice_to", "objections"],
    }
    if schema == SCHEMA_VILLAGE_REPORT:
        return keys[SCHEMA_VISIT] + keys[SCHEMA_MEETING] + keys[SCHEMA_NOTICE]
    return keys.get(schema, [])
