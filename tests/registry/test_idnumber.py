"""公民身份号码 (GB 11643) and 残疾人证号 validation — DOMAIN.md §7, DATA-FORMATS.md §2 (证件号码).

Pure Python: no database, no Django settings.
"""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fangfan.core.masking import mask_id
from fangfan.registry.idnumber import (
    DISABILITY_CATEGORIES,
    IdInfo,
    IdNumberError,
    check_digit,
    convert_15_to_18,
    is_valid_id,
    normalize_id,
    parse_id,
)

TODAY = date(2026, 3, 1)

# Known-valid numbers (check digits computed by ISO 7064 MOD 11-2).
KNOWN_VALID = "11010519491231002X"  # the GB 11643 example: female, born 1949-12-31
MALE_1980 = "110105198001010016"  # sequence 001 → odd → male
ANHUI_1990 = "340122199003151238"  # 安徽 肥西县, sequence 123 → odd → male
LEAP_DAY = "110105200002290021"  # 2000-02-29 exists


def with_check(first17: str) -> str:
    return first17 + check_digit(first17)


# ---------------------------------------------------------------- check digit


def test_校验码_按ISO7064_MOD11_2计算():
    assert check_digit("11010519491231002") == "X"
    assert check_digit("11010519800101001") == "6"
    assert check_digit("34012219900315123") == "8"


@pytest.mark.parametrize(
    "bad",
    ["", "1101051949123100", "110105194912310021", "1101051949123100X", "１１０１０５１９４９１２３１００２"],
)
def test_校验码_前17位必须是17位半角数字(bad):
    with pytest.raises(IdNumberError):
        check_digit(bad)


# ---------------------------------------------------------------- valid 18-character numbers


def test_有效的18位号码_解析出生日期性别和区划():
    info = parse_id(KNOWN_VALID, today=TODAY)
    assert info == IdInfo(
        id18=KNOWN_VALID,
        birth_date=date(1949, 12, 31),
        sex="女",
        region_prefix="110105",
        disability_category=None,
        disability_grade=None,
        original=KNOWN_VALID,
    )
    assert not info.is_disability_card
    assert info.disability_category_label is None


@pytest.mark.parametrize(
    ("number", "born", "sex", "region"),
    [
        (MALE_1980, date(1980, 1, 1), "男", "110105"),
        (ANHUI_1990, date(1990, 3, 15), "男", "340122"),
        (LEAP_DAY, date(2000, 2, 29), "女", "110105"),
    ],
)
def test_有效的18位号码(number, born, sex, region):
    info = parse_id(number, today=TODAY)
    assert (info.id18, info.birth_date, info.sex, info.region_prefix) == (number, born, sex, region)
    assert is_valid_id(number, today=TODAY)


def test_出生日期可以是今天():
    number = with_check("340122" + TODAY.strftime("%Y%m%d") + "002")
    assert parse_id(number, today=TODAY).birth_date == TODAY


def test_出生日期可以是1890年1月1日():
    assert is_valid_id(with_check("34012218900101001"), today=TODAY)


def test_默认以当天为准():
    assert is_valid_id(KNOWN_VALID)
    tomorrow = date.today() + timedelta(days=1)
    assert not is_valid_id(with_check("340122" + tomorrow.strftime("%Y%m%d") + "001"))


def test_周岁年龄():
    info = parse_id(LEAP_DAY, today=TODAY)
    assert info.age_on(date(2006, 2, 28)) == 5
    assert info.age_on(date(2006, 3, 1)) == 6
    assert info.age_on(date(2008, 2, 29)) == 8


# ---------------------------------------------------------------- invalid numbers


def _error(raw, today=TODAY) -> str:
    with pytest.raises(IdNumberError) as excinfo:
        parse_id(raw, today=today)
    assert not is_valid_id(raw, today=today)
    return str(excinfo.value)


def test_校验码错误():
    assert _error("110105194912310021") == "校验码错误"
    assert _error("110105198001010017") == "校验码错误"


def test_出生日期无效_2月30日():
    assert _error(with_check("11010519900230001")) == "出生日期无效"


@pytest.mark.parametrize("birth", ["19901301", "19900100", "19900431", "19010229", "00000000"])
def test_出生日期无效_不存在的日期(birth):
    assert _error(with_check("110105" + birth + "001")) == "出生日期无效"


def test_出生日期晚于今天():
    assert _error(with_check("11010520260302001")) == "出生日期晚于今天"


def test_出生日期早于1890年():
    assert _error(with_check("11010518891231001")).startswith("出生日期早于1890")


@pytest.mark.parametrize(
    "raw", ["1101051949123100", "1101051949123100211", "12345", "1101051949123100X12", "1" * 21]
)
def test_长度错误(raw):
    assert _error(raw) == "长度应为18位（或15位旧号、20位残疾人证号）"


@pytest.mark.parametrize(
    "raw",
    [
        "11010519491231002Y",
        "1101051949123I002X",
        "11010519491231002X-",
        "ABCDEFGHIJKLMNOPQR",
        "１１０１０５一九四九１２３１００２Ｘ",
    ],
)
def test_含有非法字符(raw):
    assert _error(raw).startswith("含有非法字符")


def test_X只能出现在末位():
    assert _error("1101051949123100X2").startswith("含有非法字符")
    assert _error("11010549123100X").startswith("含有非法字符")


@pytest.mark.parametrize("raw", ["", "   ", "\u3000", None])
def test_空号码(raw):
    assert _error(raw) == "证件号码为空"


def test_错误信息是中文且为ValueError():
    with pytest.raises(ValueError, match="校验码错误"):
        parse_id("110105194912310021", today=TODAY)


# ---------------------------------------------------------------- 15-digit legacy numbers


def test_15位旧号转换为18位():
    assert convert_15_to_18("110105491231002") == KNOWN_VALID
    info = parse_id("110105491231002", today=TODAY)
    assert info.id18 == KNOWN_VALID
    assert info.birth_date == date(1949, 12, 31)
    assert info.sex == "女"
    assert info.original == "110105491231002"


def test_15位旧号出生日期无效():
    assert _error("110105490230001") == "出生日期无效"


def test_15位旧号必须全是数字():
    with pytest.raises(IdNumberError):
        convert_15_to_18("11010549123100X")


def test_表格中的数字单元格():
    assert parse_id(110105491231002, today=TODAY).id18 == KNOWN_VALID


# ---------------------------------------------------------------- 20-character 残疾人证号


def test_20位残疾人证号_解析残疾类别和等级():
    info = parse_id(KNOWN_VALID + "42", today=TODAY)
    assert info.id18 == KNOWN_VALID
    assert info.disability_category == 4
    assert info.disability_grade == 2
    assert info.disability_category_label == "肢体"
    assert info.disability_grade_label == "二级"
    assert info.is_disability_card
    assert info.original == KNOWN_VALID + "42"


@pytest.mark.parametrize("category", range(1, 8))
@pytest.mark.parametrize("grade", range(1, 5))
def test_20位残疾人证号_所有类别和等级(category, grade):
    info = parse_id(f"{MALE_1980}{category}{grade}", today=TODAY)
    assert info.disability_category_label == DISABILITY_CATEGORIES[category]
    assert info.disability_grade == grade


@pytest.mark.parametrize("suffix", ["81", "01", "91"])
def test_20位残疾人证号_残疾类别无效(suffix):
    assert _error(MALE_1980 + suffix).startswith("残疾类别无效")


@pytest.mark.parametrize("suffix", ["15", "10", "79"])
def test_20位残疾人证号_残疾等级无效(suffix):
    assert _error(MALE_1980 + suffix).startswith("残疾等级无效")


def test_20位残疾人证号_前18位校验码错误():
    assert _error("110105194912310021" + "11") == "校验码错误"


def test_20位残疾人证号_后缀不能是X():
    assert _error(MALE_1980 + "1X").startswith("含有非法字符")


# ---------------------------------------------------------------- normalisation


def test_全角数字和小写x归一化():
    assert normalize_id("１１０１０５１９４９１２３１００２ｘ") == KNOWN_VALID
    assert normalize_id("１１０１０５１９４９１２３１００２Ｘ") == KNOWN_VALID
    assert normalize_id("11010519491231002x") == KNOWN_VALID
    assert parse_id("11010519491231002x", today=TODAY).id18 == KNOWN_VALID
    assert parse_id("１１０１０５１９４９１２３１００２ｘ", today=TODAY).original == KNOWN_VALID


def test_去掉空格和全角空格():
    assert normalize_id(" 110105\u300019491231 002X\t\n") == KNOWN_VALID
    assert is_valid_id("110105 19491231 002x", today=TODAY)


# ---------------------------------------------------------------- masking


def test_脱敏显示_前6位和后4位():
    assert mask_id("110105194912310022") == "110105********0022"
    assert mask_id(KNOWN_VALID) == "110105********002X"
    assert mask_id("11010519491231002x") == "110105********002X"


def test_脱敏显示_残疾人证号后缀也遮住():
    assert mask_id(KNOWN_VALID + "42") == "110105********002X**"


def test_脱敏显示_15位旧号():
    assert mask_id("110105491231002") == "110105*****1002"


@pytest.mark.parametrize("raw", ["", "123", "1234567890"])
def test_脱敏显示_过短的值全部遮住(raw):
    assert mask_id(raw) == "*" * len(raw)


# ---------------------------------------------------------------- properties


@given(st.text())
def test_任意文本只会引发IdNumberError(raw):
    try:
        info = parse_id(raw, today=TODAY)
    except IdNumberError as exc:
        assert str(exc)
    else:
        assert len(info.id18) == 18
    assert isinstance(is_valid_id(raw, today=TODAY), bool)
    assert isinstance(mask_id(raw), str)
    assert isinstance(normalize_id(raw), str)


@given(st.text(alphabet="0123456789Xx０１２３４５６７８９ｘＸ \u3000", max_size=22))
def test_近似号码的文本只会引发IdNumberError(raw):
    try:
        parse_id(raw, today=TODAY)
    except IdNumberError as exc:
        assert str(exc)


regions = st.text(alphabet="0123456789", min_size=6, max_size=6)
births = st.dates(min_value=date(1890, 1, 1), max_value=TODAY)
sequences = st.integers(min_value=0, max_value=999)


@given(regions, births, sequences)
def test_17位数字加计算出的校验码总是有效(region, born, seq):
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    number = first17 + check_digit(first17)
    info = parse_id(number, today=TODAY)
    assert info.id18 == number
    assert info.original == number
    assert info.birth_date == born
    assert info.region_prefix == region
    assert info.sex == ("男" if seq % 2 else "女")
    assert parse_id(info.id18, today=TODAY) == info  # round trip
    assert mask_id(number) == region + "********" + number[-4:]


@given(regions, births, sequences, st.sampled_from("0123456789X"))
def test_任何其他校验码都被拒绝(region, born, seq, wrong):
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    if wrong == check_digit(first17):
        return
    assert _error(first17 + wrong) == "校验码错误"


@given(regions, st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)), sequences)
def test_15位旧号转换往返(region, born, seq):
    id15 = f"{region}{born:%y%m%d}{seq:03d}"
    info = parse_id(id15, today=TODAY)
    assert info.id18 == convert_15_to_18(id15)
    assert info.id18[:6] + info.id18[8:17] == id15
    assert info.birth_date == born
    assert parse_id(info.id18, today=TODAY).birth_date == born


@given(regions, births, sequences, st.integers(1, 7), st.integers(1, 4))
def test_残疾人证号往返(region, born, seq, category, grade):
    id18 = with_check(f"{region}{born:%Y%m%d}{seq:03d}")
    info = parse_id(f"{id18}{category}{grade}", today=TODAY)
    assert (info.id18, info.disability_category, info.disability_grade) == (id18, category, grade)
    assert mask_id(info.original) == mask_id(id18) + "**"
