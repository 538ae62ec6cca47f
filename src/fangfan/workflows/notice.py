"""The 村内公示 notice (DOMAIN.md §5): one printable PDF per village and batch of cases at the 公示 step, listing
户编号, 户主姓名, the village and the proposed decision, with the posting period and the village's name — never an
ID number, a phone, a bank account or a health detail (county guidance citing the national rules).

The PDF uses reportlab's built-in CID font STSong-Light (a standard Adobe Chinese font every PDF reader has), so
nothing is embedded and no font file is needed on the server."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from fangfan.core.errors import ValidationFailed
from fangfan.registry.choices import ExitedClass, MonitoringType

from .choices import Kind
from .stepdata import NOTICE_MIN_DAYS

FONT = "STSong-Light"


@dataclass(frozen=True)
class NoticeRow:
    number: str
    head_name: str
    village: str
    decision: str


def proposed_decision(case) -> str:
    labels = dict(MonitoringType.choices)
    if case.kind == Kind.IDENTIFY:
        return f"拟纳入监测（{labels.get(case.monitoring_type, '')}）"
    if case.kind == Kind.ELIMINATE:
        return "拟标注风险消除"
    if case.kind == Kind.RECLASSIFY:
        return f"拟调整为{dict(ExitedClass.choices).get(case.exited_class, '')}"
    return "拟回退为监测中"


def notice_rows(cases) -> list[NoticeRow]:
    """Only these four columns leave the registry: what the notice prints, nothing else."""
    return [
        NoticeRow(
            c.household.number, c.household.head_name or "—", c.household.region.name, proposed_decision(c)
        )
        for c in cases
    ]


def notice_check(cases, *, start: date, end: date) -> str:
    """The cases make one notice: one village, each at its 公示 step; the period at least 5 days. Returns the
    village's name."""
    if not cases:
        raise ValidationFailed("请勾选要公示的事项")
    villages = {c.region_code for c in cases}
    if len(villages) != 1:
        raise ValidationFailed("公示按村张贴：请只勾选同一个村的事项")
    not_at = [c.household.number for c in cases if c.current_step is None or "公示" not in _step_scope(c)]
    if not_at:
        raise ValidationFailed(f"以下农户的事项不在村内公示环节：{'、'.join(not_at[:10])}")
    if end < start or (end - start).days + 1 < NOTICE_MIN_DAYS:
        raise ValidationFailed(f"公示期不少于 {NOTICE_MIN_DAYS} 天")
    return cases[0].household.region.name


def _step_scope(case) -> str:
    step = case.current_step
    return f"{step.name}{step.data_schema}" if step.data_schema in ("村内公示", "村级填报") else ""


def notice_pdf(
    *, village: str, rows: list[NoticeRow], start: date, end: date, compress: bool = True
) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4, pageCompression=1 if compress else 0)
    pdf.setTitle(f"{village}公示")
    width, height = A4
    columns = [(50, "序号"), (90, "户编号"), (260, "户主姓名"), (340, "所在村"), (420, "拟认定事项")]

    def header() -> float:
        pdf.setFont(FONT, 18)
        pdf.drawCentredString(width / 2, height - 60, f"{village}防止返贫致贫监测帮扶公示")
        pdf.setFont(FONT, 11)
        period = f"公示期：{start:%Y年%m月%d日} 至 {end:%Y年%m月%d日}"
        pdf.drawString(50, height - 90, "经入户核查、民主评议，现将以下农户拟认定事项予以公示。")
        pdf.drawString(50, height - 108, period + "。如有异议，请在公示期内向村委会或镇扶贫工作站反映。")
        y = height - 140
        for x, title in columns:
            pdf.drawString(x, y, title)
        return y - 20

    y = header()
    for i, row in enumerate(rows, start=1):
        if y < 80:
            pdf.showPage()
            y = header()
        pdf.setFont(FONT, 10)
        for (x, _), value in zip(
            columns, [str(i), row.number, row.head_name, row.village, row.decision], strict=True
        ):
            pdf.drawString(x, y, value)
        y -= 18
    pdf.setFont(FONT, 11)
    pdf.drawRightString(width - 50, max(y - 30, 60), f"{village}村民委员会")
    pdf.showPage()
    pdf.save()
    return buf.getvalue()
