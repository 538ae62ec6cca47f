"""Forms of the household pages: plain Django forms that validate in Chinese and hand clean values to the
services. Yes/no indicators are a three-way choice (是 / 否 / 未核实): "not yet verified" is not "no"."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django import forms

from fangfan.core.cells import phone as clean_phone
from fangfan.core.masking import mask_phone

from . import rules
from .choices import (
    DISABILITY_CATEGORIES,
    DISABILITY_GRADES,
    EDUCATION_LEVELS,
    HEALTH_STATES,
    JOIN_REASONS,
    LABOUR_SKILLS,
    LEAVE_REASONS,
    RELATIONS,
    SCHOOL_STATUSES,
    HouseholdType,
    HousingGrade,
)
from .formats import clean_household_number, number_taken
from .models import HelperAssignment, Household, Member
from .services import MEMBER_EDITABLE

REQUIRED = {"required": "请填写此项"}
MONEY_ERRORS = {
    **REQUIRED,
    "invalid": "请输入金额（元），例如 12000 或 3500.50",
    "min_value": "金额不能为负数",
    "max_decimal_places": "金额最多保留两位小数",
    "max_digits": "金额过大",
    "max_whole_digits": "金额过大",
}
TRI_CHOICES = [("", "未核实"), ("1", "是"), ("0", "否")]


def _blank(choices: list[str], label: str = "（未填）") -> list[tuple[str, str]]:
    return [("", label), *((c, c) for c in choices)]


class TriStateField(forms.TypedChoiceField):
    """是 / 否 / 未核实 → True / False / None."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(choices=TRI_CHOICES, coerce=lambda v: v == "1", empty_value=None, **kwargs)

    def prepare_value(self, value):
        if value is None or value == "":
            return ""
        if isinstance(value, bool):
            return "1" if value else "0"
        return value


class MoneyField(forms.DecimalField):
    """Yuan: a number ≥ 0 with at most two decimals (DATA-FORMATS common rules)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", True)
        super().__init__(
            max_digits=14,
            decimal_places=2,
            min_value=Decimal(0),
            error_messages=MONEY_ERRORS,
            widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
            **kwargs,
        )

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().replace(",", "").replace("，", "").replace("元", "")
        return super().to_python(value)


class DayField(forms.DateField):
    def __init__(self, **kwargs):
        super().__init__(
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            error_messages={**REQUIRED, "invalid": "请输入日期，例如 2025-03-01"},
            **kwargs,
        )

    def validate(self, value):
        super().validate(value)
        if value and value > date.today():
            raise forms.ValidationError("日期不能晚于今天")


class PhoneField(forms.CharField):
    """联系电话 by the import template's rule (``formats.clean_phone``): blanks removed, digits and "-"."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        attrs = {"inputmode": "tel", "autocomplete": "off"}
        super().__init__(max_length=30, widget=forms.TextInput(attrs=attrs), **kwargs)

    def clean(self, value):
        try:
            return clean_phone(super().clean(value))
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


class IdNumberField(forms.CharField):
    """证件号码 as a new member's: checked by ``idnumber.parse_id`` (its reason shown in Chinese), kept as typed."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "证件号码")
        kwargs.setdefault("help_text", "18位身份证号（15位旧号、20位残疾人证号也可）")
        widget = forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"})
        super().__init__(max_length=24, error_messages=REQUIRED, widget=widget, **kwargs)

    def clean(self, value):
        from .idnumber import IdNumberError, parse_id

        raw = super().clean(value)
        try:
            parse_id(raw)
        except IdNumberError as exc:
            raise forms.ValidationError(f"证件号码无效：{exc}") from None
        return raw


class EditVersion(forms.Form):
    """The ``services.edit_version`` of the record the form was filled from, sent back with the form."""

    seen = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)


class PhoneChange:
    """For a form that changes a stored phone without showing it: the number on record never reaches the page
    (the detail page shows it masked too). The field starts empty and empty keeps the number; a box clears it."""

    def setup_phone(self, current: str) -> None:
        if current:
            self.fields["phone"].help_text = f"已登记 {mask_phone(current)}；不修改请留空"
        else:
            self.fields["phone"].help_text = "尚未登记"
            del self.fields["phone_clear"]

    def clean_phone_change(self, data: dict) -> None:
        if data.get("phone") and data.get("phone_clear"):
            self.add_error("phone_clear", "已填写新的联系电话，不能同时清除")

    def phone_change(self) -> dict:
        """{"phone": new}, {"phone": ""} to clear, or {} to keep the stored number."""
        if self.cleaned_data.get("phone"):
            return {"phone": self.cleaned_data["phone"]}
        return {"phone": ""} if self.cleaned_data.get("phone_clear") else {}


class StyledForm(forms.Form):
    """Tabler classes on every widget, so templates can render ``{{ field }}`` as it is."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple | forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")


# --- household -------------------------------------------------------------------------------------------------

INCOME_FIELDS = ["wage_income", "business_income", "business_expense", "property_income", "transfer_income"]


class HouseholdForm(PhoneChange, StyledForm, EditVersion):
    household_type = forms.ChoiceField(label="户类型", choices=HouseholdType.choices, error_messages=REQUIRED)
    exit_year = forms.IntegerField(
        label="脱贫年度",
        required=False,
        min_value=2013,
        max_value=date.today().year,
        error_messages={
            "invalid": "请输入四位年份",
            "min_value": "脱贫年度不早于2013年",
            "max_value": "脱贫年度不能晚于今年",
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    grade = forms.CharField(label="分类定级", max_length=30, required=False)
    phone = PhoneField(label="联系电话")
    phone_clear = forms.BooleanField(label="清除已登记的联系电话", required=False)
    wage_income = MoneyField(label="工资性收入（元/年）")
    business_income = MoneyField(label="生产经营性收入（元/年）")
    business_expense = MoneyField(label="生产经营性支出（元/年）")
    property_income = MoneyField(label="财产性收入（元/年）")
    transfer_income = MoneyField(label="转移性收入（元/年）")
    compliant_self_paid = MoneyField(
        label="合规自付支出（元/年）", help_text="医疗、教育等报销后的个人自付部分；不计入家庭纯收入"
    )
    food_clothing_secure = TriStateField(label="吃穿不愁")
    housing_grade = forms.ChoiceField(
        label="住房安全等级", required=False, choices=[("", "未鉴定"), *HousingGrade.choices]
    )
    water_safe = TriStateField(label="饮水安全")
    note = forms.CharField(label="修改说明", max_length=200, required=False, help_text="例如：入户核实后更新")

    FIELDS = [
        "household_type",
        "exit_year",
        "grade",
        *INCOME_FIELDS,
        "compliant_self_paid",
        "food_clothing_secure",
        "housing_grade",
        "water_safe",
    ]

    def __init__(self, *args, current_phone: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_phone(current_phone)

    @classmethod
    def initial_for(cls, household: Household) -> dict:
        return {name: getattr(household, name) for name in cls.FIELDS}

    def clean(self):
        data = super().clean()
        # The rules every writer applies (registry.rules), over the fields this form has and that are valid.
        known = {f: data[f] for f in rules.HOUSEHOLD_RULE_FIELDS if f in self.fields and f in data}
        for problem in rules.household_problems(known):
            self.add_error(problem.field if problem.field in self.fields else None, problem.message)
        self.clean_phone_change(data)
        return data

    def changes(self) -> dict:
        return {**{name: self.cleaned_data[name] for name in self.FIELDS}, **self.phone_change()}


# The reasons a household enters the register through this form (a split has its own form).
CREATE_REASONS = [("迁入", "迁入"), ("其他", "其他（如此前漏登）")]


class HouseholdCreateForm(HouseholdForm):
    """A new household and its head; the other members are added on its page afterwards."""

    number = forms.CharField(
        label="户编号", max_length=40, error_messages=REQUIRED, help_text="全系统唯一，一般为村代码加户序号"
    )
    village = forms.ChoiceField(label="所在村（社区）", error_messages=REQUIRED)
    head_name = forms.CharField(label="户主姓名", max_length=50, error_messages=REQUIRED)
    head_id_number = IdNumberField(label="户主证件号码")
    reason = forms.ChoiceField(label="建档原因", choices=CREATE_REASONS)
    on = DayField(label="建档日期")

    def __init__(self, *args, villages: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["seen"]  # nothing stored yet
        self.fields["village"].choices = [("", "请选择"), *villages.items()]
        if len(villages) == 1:
            self.fields["village"].initial = next(iter(villages))
        self.fields["phone"].help_text = "本户联系电话，可不填"
        for name in [*INCOME_FIELDS, "compliant_self_paid"]:
            self.fields[name].initial = 0
        self.fields["note"].label = "说明"
        self.fields["note"].help_text = "例如：由外县迁入，已入户核实"

    def clean_number(self):
        number = _household_number(self.cleaned_data["number"])
        # Unscoped: 户编号 is unique in the whole system (the message says nothing about where).
        if Household.objects.unscoped().filter(number=number).exists():
            raise forms.ValidationError(number_taken(number))
        return number

    def head(self) -> dict:
        return {"name": self.cleaned_data["head_name"], "id_number": self.cleaned_data["head_id_number"]}


# --- members ---------------------------------------------------------------------------------------------------


class MemberForm(PhoneChange, StyledForm, EditVersion):
    name = forms.CharField(label="姓名", max_length=50, error_messages=REQUIRED)
    relation = forms.ChoiceField(label="与户主关系", choices=[(r, r) for r in RELATIONS if r != "户主"])
    education = forms.ChoiceField(label="文化程度", required=False, choices=_blank(EDUCATION_LEVELS))
    school_status = forms.ChoiceField(label="在校生状况", required=False, choices=_blank(SCHOOL_STATUSES))
    not_in_school_reason = forms.CharField(
        label="义务教育阶段未上学原因", max_length=100, required=False, help_text="如：送教上门、重度残疾"
    )
    health = forms.MultipleChoiceField(
        label="健康状况",
        required=False,
        choices=[(h, h) for h in HEALTH_STATES],
        widget=forms.CheckboxSelectMultiple,
    )
    disability_category = forms.ChoiceField(
        label="残疾类别", required=False, choices=_blank(DISABILITY_CATEGORIES)
    )
    disability_grade = forms.ChoiceField(label="残疾等级", required=False, choices=_blank(DISABILITY_GRADES))
    labour_skill = forms.ChoiceField(label="劳动技能", required=False, choices=_blank(LABOUR_SKILLS))
    migrant_months = forms.IntegerField(
        label="务工时间（月）",
        required=False,
        min_value=0,
        max_value=12,
        error_messages={"invalid": "请输入0–12的整数", "min_value": "应为0–12", "max_value": "应为0–12"},
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    migrant_place = forms.CharField(label="务工地", max_length=100, required=False)
    resident_medical = TriStateField(label="参加城乡居民基本医疗保险")
    employee_medical = TriStateField(label="参加职工基本医疗保险")
    resident_pension = TriStateField(label="参加城乡居民基本养老保险")
    dibao = TriStateField(label="享受低保")
    tekun = TriStateField(label="特困供养")
    phone = PhoneField(label="联系电话")
    phone_clear = forms.BooleanField(label="清除已登记的联系电话", required=False)

    FIELDS = [f for f in MEMBER_EDITABLE if f != "phone"]  # the phone: ``PhoneChange``

    def __init__(self, *args, is_head: bool = False, current_phone: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.is_head = is_head
        self.setup_phone(current_phone)
        if is_head:
            field = self.fields["relation"]
            field.choices = [("户主", "户主")]
            field.disabled = True
            field.initial = "户主"
            field.help_text = "变更户主请使用“变更户主”"

    @classmethod
    def initial_for(cls, member: Member) -> dict:
        initial = {name: getattr(member, name) for name in cls.FIELDS}
        initial["health"] = [h for h in (member.health or "").split("、") if h]
        return initial

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("请填写姓名")
        return name

    def clean_health(self):
        states = self.cleaned_data["health"]
        if "健康" in states and len(states) > 1:
            raise forms.ValidationError("“健康”不能与其他健康状况同时选择")
        return "、".join(h for h in HEALTH_STATES if h in states)

    def clean(self):
        data = super().clean()
        disabled = "残疾" in (data.get("health") or "")
        if data.get("disability_category") and not disabled:
            self.add_error("health", "填写了残疾类别，请在健康状况中勾选“残疾”")
        self.clean_phone_change(data)
        return data

    def changes(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.FIELDS}
        if self.is_head:
            data.pop("relation")
        return {**data, **self.phone_change()}


class MemberAddForm(MemberForm):
    id_number = IdNumberField()
    reason = forms.ChoiceField(label="增加原因", choices=[(r, r) for r in JOIN_REASONS])
    on = DayField(label="增加日期")

    field_order = ["name", "id_number", "relation", "reason", "on"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].help_text = "成员本人电话，可不填"
        del self.fields["seen"]  # a new member: nothing stored to have changed


class MemberRemoveForm(StyledForm):
    reason = forms.ChoiceField(label="减少原因", choices=[(r, r) for r in LEAVE_REASONS])
    on = DayField(label="减少日期")


def _household_number(raw: str) -> str:
    try:
        return clean_household_number(raw)
    except ValueError as exc:
        raise forms.ValidationError(str(exc)) from None


def _member_label(member: Member) -> str:
    return f"{member.name}（{member.relation}，{member.id_masked}）"


class HeadChangeForm(StyledForm):
    new_head = forms.TypedChoiceField(label="新户主", coerce=int, error_messages=REQUIRED)
    old_head_relation = forms.ChoiceField(
        label="原户主改为",
        choices=[(r, r) for r in RELATIONS if r != "户主"],
        initial="其他",
        help_text="原户主已减少（如去世）时此项不使用",
    )
    on = DayField(label="变更日期")

    def __init__(self, *args, members: list[Member], **kwargs):
        super().__init__(*args, **kwargs)
        self.members = {m.pk: m for m in members if not m.is_head}
        self.fields["new_head"].choices = [
            ("", "请选择"),
            *((pk, _member_label(m)) for pk, m in self.members.items()),
        ]

    def clean_new_head(self):
        member = self.members.get(self.cleaned_data["new_head"])
        if member is None:
            raise forms.ValidationError("请选择本户在册成员")
        return member


class SplitForm(StyledForm):
    new_number = forms.CharField(
        label="新户编号", max_length=40, error_messages=REQUIRED, help_text="已填本村下一个户编号，可修改"
    )
    new_head = forms.TypedChoiceField(label="新户户主", coerce=int, error_messages=REQUIRED)
    others = forms.TypedMultipleChoiceField(
        label="随新户分出的其他成员", coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    remaining_head = forms.TypedChoiceField(
        label="原户的新户主",
        coerce=int,
        required=False,
        empty_value=None,
        help_text="户主随新户分出时必选：留在原户的哪位成员任户主",
    )
    on = DayField(label="分户日期")

    def __init__(self, *args, members: list[Member], **kwargs):
        super().__init__(*args, **kwargs)
        self.members = {m.pk: m for m in members}
        choices = [(pk, _member_label(m)) for pk, m in self.members.items()]
        self.fields["new_head"].choices = [("", "请选择"), *choices]
        self.fields["others"].choices = choices
        self.fields["remaining_head"].choices = [("", "户主留在原户，不用选"), *choices]

    def clean_new_number(self):
        number = _household_number(self.cleaned_data["new_number"])
        # Unscoped: 户编号 is unique in the whole system (the message says nothing about where).
        if Household.objects.unscoped().filter(number=number).exists():
            raise forms.ValidationError(number_taken(number))
        return number

    def clean(self):
        data = super().clean()
        head = data.get("new_head")
        if head is not None and head not in self.members:
            self.add_error("new_head", "请选择本户在册成员")
            return data
        others = [pk for pk in data.get("others") or [] if pk != head]
        if head is None:
            return data
        leaving = [head, *others]
        data["split_members"] = [self.members[pk] for pk in leaving]
        data["remaining_head_member"] = None
        if any(self.members[pk].is_head for pk in leaving):
            chosen = data.get("remaining_head")
            if chosen is None:
                self.add_error("remaining_head", "户主随新户分出，请选择原户的新户主")
            elif chosen in leaving or chosen not in self.members:
                self.add_error("remaining_head", "原户的新户主须是留在原户的成员")
            else:
                data["remaining_head_member"] = self.members[chosen]
        return data


class MergeForm(StyledForm):
    target_number = forms.CharField(
        label="并入的农户（户编号）",
        max_length=40,
        error_messages=REQUIRED,
        help_text="本户在册成员全部并入该户，本户注销",
    )
    on = DayField(label="合户日期")
    # The household the user was shown and confirmed (the first valid post shows it; a second post merges).
    # Text, not a number: a garbled value is simply "not confirmed" (the household is shown again), never a hidden
    # field's error the page cannot show.
    confirmed = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)

    def __init__(self, *args, household: Household, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.household = household
        self.user = user

    def needs_confirmation(self) -> bool:
        """Whether the household to merge into has not been shown to the user yet (it is, and this form is
        marked to merge into it when posted again)."""
        target = self.cleaned_data["target_number"]
        if self.cleaned_data.get("confirmed") == str(target.pk):
            return False
        self.data = self.data.copy()
        self.data["confirmed"] = str(target.pk)
        return True

    def clean_target_number(self):
        number = self.cleaned_data["target_number"].strip()
        target = (
            Household.objects.for_user(self.user, "household.edit")
            .filter(number=number, cancelled=False)
            .defer("phone")
            .first()
        )
        if target is None:
            raise forms.ValidationError("在您的管辖范围内没有这个户编号的在册农户")
        if target.pk == self.household.pk:
            raise forms.ValidationError("不能与本户合户")
        return target


_END_REASONS = [
    (value, label)
    for value, label in HelperAssignment.EndReason.choices
    if value != HelperAssignment.EndReason.CANCELLED  # the system's own, when a household is cancelled
]


def _helper_label(user) -> str:
    place = user.region.name if user.region_id else ""
    return f"{user.full_name or user.username}（{user.username}{'，' + place if place else ''}）"


class HelperAssignForm(StyledForm):
    """Name the 帮扶责任人/联系人 of one or more households; the reason is asked when one is replaced."""

    helper = forms.TypedChoiceField(label="帮扶责任人/联系人", coerce=int, error_messages=REQUIRED)
    on = DayField(label="起始日期", initial=date.today)
    reason = forms.ChoiceField(
        label="更换原因",
        choices=[("", "请选择"), *_END_REASONS],
        required=False,
        help_text="原帮扶责任人/联系人为何不再负责",
        error_messages={"required": "更换帮扶责任人须选择原因"},
    )

    def __init__(self, *args, candidates, replacing: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates = {u.pk: u for u in candidates}
        self.replacing = replacing
        self.fields["helper"].choices = [
            ("", "请选择" if self.candidates else "本村（镇）没有在用的帮扶责任人/联系人账号"),
            *((pk, _helper_label(u)) for pk, u in self.candidates.items()),
        ]
        if replacing:
            self.fields["reason"].required = True
        else:
            del self.fields["reason"]

    def clean_helper(self):
        helper = self.candidates.get(self.cleaned_data["helper"])
        if helper is None:
            raise forms.ValidationError("请从列表中选择")
        return helper


class HelperReleaseForm(StyledForm):
    """Release a household's 帮扶责任人/联系人 without naming another."""

    release_reason = forms.ChoiceField(
        label="解除原因", choices=[("", "请选择"), *_END_REASONS], error_messages=REQUIRED
    )
    release_on = DayField(label="解除日期", initial=date.today)
