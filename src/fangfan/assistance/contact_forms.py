"""Forms of the contact page (plan 四(二)2, M14): the contact itself and 本次了解到的变化, whose fields are the
household and member edit forms' own (``registry.forms``). Moved from ``registry`` with the contacts (issue 17)."""

from __future__ import annotations

import copy
from datetime import date

from django import forms

from fangfan.registry.choices import HEALTH_STATES
from fangfan.registry.forms import (
    INCOME_FIELDS,
    REQUIRED,
    DayField,
    HouseholdForm,
    MemberForm,
    StyledForm,
)
from fangfan.registry.models import Household, Member
from fangfan.registry.services import edit_version

from .models import ContactRecord


def _notes(label: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=500,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": "最多 %(limit_value)d 字（现有 %(show_value)d 字）"},
    )


class ContactForm(StyledForm):
    """One contact with a household (plan 四(二)2): when, how, and what was learned."""

    on = DayField(label="联系日期", initial=date.today)
    way = forms.ChoiceField(label="联系方式", choices=ContactRecord.Way.choices, error_messages=REQUIRED)
    living = _notes("生活状况", "收入、就业、就医、就学、住房饮水等近况")
    risks = _notes("风险隐患", "如大病、重残、失业、灾情、家庭变故，或没有发现")
    needs = _notes("帮扶需求", "农户提出的困难和希望得到的帮助")
    risk_found = forms.BooleanField(label="发现返贫致贫风险（保存后登记预警，进入核查）", required=False)

    def clean(self):
        data = super().clean()
        if not any((data.get(k) or "").strip() for k in ("living", "risks", "needs")):
            raise forms.ValidationError("请至少填写了解到的生活状况、风险隐患或帮扶需求之一")
        return data


class VisitChangesForm(StyledForm):
    """本次了解到的变化: the income items and indicators with the values on record, and for each member health,
    school status, labour skill and work months. Only fields the contact changed are handed on (``changes``);
    each part carries the ``edit_version`` it was filled from. Prefixed ``chg`` so it sits beside ``ContactForm``."""

    def __init__(self, *args, household: Household, members: list[Member], **kwargs):
        kwargs.setdefault("prefix", "chg")
        initial = {name: getattr(household, name) for name in HOUSEHOLD_VISIT_FIELDS}
        initial["seen_household"] = edit_version(household)
        for m in members:
            initial.update(
                {
                    f"m{m.pk}_health": [h for h in (m.health or "").split("、") if h],
                    f"m{m.pk}_school_status": m.school_status,
                    f"m{m.pk}_labour_skill": m.labour_skill,
                    f"m{m.pk}_migrant_months": m.migrant_months,
                    f"m{m.pk}_seen": edit_version(m),
                }
            )
        kwargs["initial"] = {**initial, **kwargs.get("initial", {})}
        super().__init__(*args, **kwargs)
        # A post without this part (another client, an older page) changes nothing: each part counts only when
        # its version travelled with it.
        self.present = not self.is_bound or self.add_prefix("seen_household") in self.data
        if self.is_bound:
            members = [m for m in members if self.add_prefix(f"m{m.pk}_seen") in self.data]
        self.household, self.members = household, members
        base = HouseholdForm.base_fields
        self.fields["seen_household"] = forms.CharField(
            widget=forms.HiddenInput, required=False, max_length=64
        )
        for name in HOUSEHOLD_VISIT_FIELDS:
            self.fields[name] = copy.deepcopy(base[name])
            self.fields[name].required = False
            self.fields[name].help_text = ""
        member_base = MemberForm.base_fields
        self.member_parts = []
        for m in members:
            names = []
            for name in ("health", "school_status", "labour_skill", "migrant_months"):
                key = f"m{m.pk}_{name}"
                self.fields[key] = copy.deepcopy(member_base[name])
                self.fields[key].required = False
                names.append(key)
            self.fields[f"m{m.pk}_seen"] = forms.CharField(
                widget=forms.HiddenInput, required=False, max_length=64
            )
            self.member_parts.append((m, names))
        # StyledForm styled the fields it saw at construction: style the ones added since.
        for f in self.fields.values():
            widget = f.widget
            if isinstance(widget, forms.CheckboxSelectMultiple):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            elif not isinstance(widget, forms.HiddenInput):
                widget.attrs.setdefault("class", "form-control")

    def is_valid(self) -> bool:
        return True if not self.present else super().is_valid()

    def household_bound(self):
        return [self[name] for name in HOUSEHOLD_VISIT_FIELDS]

    def member_bound(self):
        return [(m, [self[name] for name in names]) for m, names in self.member_parts]

    def clean(self):
        data = super().clean()
        for name in HOUSEHOLD_VISIT_FIELDS:
            if (
                name in INCOME_FIELDS + ["compliant_self_paid"]
                and data.get(name) is None
                and name in self.changed_data
            ):
                self.add_error(name, "请填写金额；没有此项收入请填 0")
        for m, _names in self.member_parts:
            key = f"m{m.pk}_health"
            if key in data:
                states = data[key] or []
                if "健康" in states and len(states) > 1:
                    self.add_error(key, "“健康”不能与其他健康状况同时选择")
                data[key] = "、".join(h for h in HEALTH_STATES if h in states)
        return data

    def changes(self) -> tuple[dict, dict, dict]:
        """(household changes, {member id: changes}, seen versions) of the fields the contact changed."""
        if not self.present:
            return {}, {}, {}
        data, changed = self.cleaned_data, set(self.changed_data)
        household = {n: data[n] for n in HOUSEHOLD_VISIT_FIELDS if n in changed}
        members: dict[int, dict] = {}
        for m, names in self.member_parts:
            part = {n.split("_", 1)[1]: data[n] for n in names if n in changed}
            if part:
                members[m.pk] = part
        seen = {"household": data.get("seen_household") or None}
        seen.update({m.pk: data.get(f"m{m.pk}_seen") or None for m, _n in self.member_parts})
        return household, members, seen


HOUSEHOLD_VISIT_FIELDS = [
    *INCOME_FIELDS,
    "compliant_self_paid",
    "food_clothing_secure",
    "housing_grade",
    "water_safe",
]
