"""The monthly report as files: a printable .xlsx and a PDF (reportlab) holding the same figures as the page, the
公开版 leaving out the same cells. One table per section, then the places below (drill-down rows)."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import IO

import xlsxwriter

from fangfan.regions.codes import Level

from .monthly import Cell, MonthlyReport

# A TrueType CJK font if the machine has one (Debian's fonts-wqy-microhei, …); reportlab cannot read the CFF
# outlines of Noto CJK. Otherwise reportlab's built-in CID font STSong-Light (Adobe-GB1), which every PDF reader
# supplies.
TTF_CANDIDATES = [
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
]
CID_FONT = "STSong-Light"


def children_table(report: MonthlyReport) -> tuple[list[str], list[tuple[str, list[Cell]]]]:
    label = "村（社区）" if report.level >= Level.TOWN else str(Level(report.level + 1).label)
    columns = [
        label,
        "监测中（户）",
        "本月新识别（户）",
        "未消除风险点（个）",
        "应联系（户）",
        "已联系（户）",
    ]
    rows = [
        (
            c.name,
            [
                Cell(c.monitored),
                Cell(c.identified),
                Cell(c.open_risks),
                Cell(c.contacts_due),
                Cell(c.contacted),
            ],
        )
        for c in report.children
    ]
    return columns, rows


def tables(report: MonthlyReport) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, columns, rows of shown text) for every table, in print order."""
    out = [
        (s.title, s.columns, [[label, *(c.shown(report.public) for c in cells)] for label, cells in s.rows])
        for s in report.sections
    ]
    if report.children:
        columns, rows = children_table(report)
        out.append(
            (
                "附：下辖各地",
                columns,
                [[name, *(c.shown(report.public) for c in cells)] for name, cells in rows],
            )
        )
    return out


def notes(report: MonthlyReport) -> list[str]:
    lines = [
        f"统计范围：{report.region_name}；月份：{report.month_text}（上月：{report.previous:%Y年%m月}）。"
    ]
    if report.live:
        lines.append("本月尚未留存月度数据，户数按当前档案统计。")
    if report.public:
        lines.append("公开版：不足 5 户（个）的数字显示为“<5”，为 0 的显示为“—”。")
    return lines


def write_monthly_xlsx(report: MonthlyReport, target: str | Path | IO[bytes]) -> None:
    workbook = xlsxwriter.Workbook(str(target) if isinstance(target, Path) else target)
    try:
        ws = workbook.add_worksheet("月报")
        title = workbook.add_format({"bold": True, "font_size": 14})
        bold = workbook.add_format({"bold": True})
        head = workbook.add_format({"bold": True, "bg_color": "#E8EEF7", "border": 1, "text_wrap": True})
        cell = workbook.add_format({"border": 1})
        number = workbook.add_format({"border": 1, "num_format": "0"})
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.set_footer("&C第 &P 页，共 &N 页")
        ws.set_column(0, 0, 22)
        ws.set_column(1, 8, 14)
        ws.write_string(0, 0, report.title, title)
        r = 1
        for line in notes(report):
            ws.write_string(r, 0, line)
            r += 1
        for heading, columns, rows in tables(report):
            r += 1
            ws.write_string(r, 0, heading, bold)
            r += 1
            for c, text in enumerate(columns):
                ws.write_string(r, c, text, head)
            for row in rows:
                r += 1
                for c, text in enumerate(row):
                    if c and text.isdigit():
                        ws.write_number(r, c, int(text), number)
                    else:
                        ws.write_string(r, c, text, cell)
            r += 1
    finally:
        workbook.close()


def _font() -> str:
    from reportlab.pdfbase import pdfmetrics

    if "fangfan-cjk" in pdfmetrics.getRegisteredFontNames():
        return "fangfan-cjk"
    from reportlab.pdfbase.ttfonts import TTFont

    for candidate in TTF_CANDIDATES:
        if Path(candidate).is_file():
            try:
                pdfmetrics.registerFont(TTFont("fangfan-cjk", candidate))
                return "fangfan-cjk"
            except Exception:  # noqa: S112 - a font reportlab cannot read: try the next one
                continue
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if CID_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    return CID_FONT


def write_monthly_pdf(report: MonthlyReport, target: str | Path | IO[bytes]) -> None:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _font()
    title_style = ParagraphStyle("title", fontName=font, fontSize=15, leading=20, alignment=1, spaceAfter=6)
    # a section's heading stays on the page of its table (the last one was left alone at the foot of a page)
    head_style = ParagraphStyle(
        "head", fontName=font, fontSize=11, leading=15, spaceBefore=8, spaceAfter=4, keepWithNext=1
    )
    text_style = ParagraphStyle("text", fontName=font, fontSize=9, leading=13)
    cell_style = ParagraphStyle("cell", fontName=font, fontSize=8.5, leading=11, wordWrap="CJK")
    story = [Paragraph(report.title, title_style)]
    story += [Paragraph(line, text_style) for line in notes(report)]
    width = A4[0] - 30 * mm
    for heading, columns, rows in tables(report):
        story.append(Paragraph(heading, head_style))
        first = 0.24 * width
        others = (width - first) / max(len(columns) - 1, 1)
        # long headers wrap inside their column, the unit on a line of its own ("风险已消除（" / "户）" read badly)
        header = [
            Paragraph(escape(c).replace("（", "<br/>（") if len(c) > 6 else escape(c), cell_style)
            for c in columns
        ]
        table = Table([header, *rows], colWidths=[first] + [others] * (len(columns) - 1), repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), font),
                    ("FONTSIZE", (0, 0), (-1, -1), 8.5),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E8EEF7")),
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa0ac")),
                    ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        story += [table, Spacer(1, 4)]

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawCentredString(A4[0] / 2, 10 * mm, f"第 {doc.page} 页")
        canvas.restoreState()

    doc = SimpleDocTemplate(
        str(target) if isinstance(target, Path) else target,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=report.title,
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
