"""Forms of the early-warning pages. They parse input only; the rules live in ``services``."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from fangfan.core.throttle import challenge_answer, challenge_new
from fangfan.registry.idnumber import IdNumberError, parse_id

from .choices import Channel, RiskType
from .models import EarlyWarning
from .services import CONFIRM, EXCLUDE, MANUAL_CHANNELS, VISIT_WAYS

# The session key under which a contact that found a risk (``assistance.contact_views``) leaves its text for the
# warning form (``views.warning_report`` reads it once): {"household": pk, "description": text, "channel": "cadre"}.
WARNING_DRAFT_KEY = "contact_warning_draft"

RISK_CHOICES = [(v, label) for v, label in RiskType.choices if v != RiskType.DOUBT]
MANUAL_CHANNEL_CHOICES = [(v, label) for v, label in Channel.choices if v in MANUAL_CHANNELS]


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput | forms.RadioSelect):
            continue
        if isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# --- the warnings list ------------------------------------------------------------------------------------------


class WarningFilterForm(forms.Form):
    state = forms.ChoiceField(label="状态", required=False)
    risk_type = forms.ChoiceField(label="风险类型", required=False)
    channel = forms.ChoiceField(label="来源", required=False)
    rule = forms.ChoiceField(label="规则", required=False)
    village = forms.ChoiceField(label="村", required=False)
    date_from = forms.DateField(label="产生日期起", required=False, widget=_date_widget())
    date_to = forms.DateField(label="产生日期止", required=False, widget=_date_widget())
    overdue = forms.BooleanField(label="仅逾期未认定", required=False)

    def __init__(self, *args, villages: list[tuple[str, str]], rules: list[tuple[str, str]], **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", "全部状态"), ("open", "未办结（待核查、核查中）")] + list(
            EarlyWarning.State.choices
        )
        self.fields["risk_type"].choices = [("", "全部风险类型")] + list(RiskType.choices)
        self.fields["channel"].choices = [("", "全部来源")] + list(Channel.choices)
        self.fields["rule"].choices = [("", "全部规则")] + rules
        self.fields["village"].choices = [("", "全部村")] + villages
        _style(self)
        self.fields["overdue"].widget.attrs["class"] = "form-check-input"

    def values(self) -> dict:
        """The valid filters (an invalid one is dropped and shown with its error, the others still apply)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "", False)}


class RiskFilterForm(forms.Form):
    village = forms.ChoiceField(label="村", required=False)
    risk_type = forms.ChoiceField(label="风险类型", required=False)
    overdue = forms.BooleanField(label="仅已过期限", required=False)
    household = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, villages: list[tuple[str, str]], **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["village"].choices = [("", "全部村")] + villages
        self.fields["risk_type"].choices = [("", "全部风险类型")] + list(RiskType.choices)
        _style(self)
        self.fields["overdue"].widget.attrs["class"] = "form-check-input"

    def values(self) -> dict:
        """The valid filters (an invalid one is dropped and shown with its error, the others still apply)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "", False)}


# --- the verification visit ---------------------------------------------------------------------------------------

DECISION_CHOICES = [(CONFIRM, "确认风险"), (EXCLUDE, "排除")]


class VerificationForm(forms.Form):
    """One visit: the date and way, what was found, and for every warning of the task confirm or exclude (an
    exclusion needs a reason)."""

    visited_on = forms.DateField(label="核查日期", widget=_date_widget())
    visit_way = forms.ChoiceField(
        label="核查方式", choices=[(w, w) for w in VISIT_WAYS], widget=forms.RadioSelect
    )
    finding = forms.CharField(
        label="核查情况",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "入户看到、了解到的情况"}),
    )

    def __init__(self, *args, warnings: list[EarlyWarning], **kwargs):
        kwargs.setdefault("initial", {"visited_on": timezone.localdate(), "visit_way": VISIT_WAYS[0]})
        super().__init__(*args, **kwargs)
        self.warnings = warnings
        for w in warnings:
            self.fields[f"decision_{w.pk}"] = forms.ChoiceField(
                label="核查结论",
                choices=DECISION_CHOICES,
                widget=forms.RadioSelect,
                error_messages={"required": "请选择确认或排除"},
            )
            self.fields[f"reason_{w.pk}"] = forms.CharField(
                label="排除理由",
                required=False,
                max_length=300,
                widget=forms.Textarea(
                    attrs={"rows": 2, "placeholder": "排除时必填，如：已有稳定收入、数据有误"}
                ),
            )
        _style(self)

    def rows(self) -> list[dict]:
        """Each warning with its two bound fields, for the template."""
        return [{"warning": w, "decision": self[f"decision_{w.pk}"], "reason": self[f"reason_{w.pk}"]}
                for w in self.warnings]  # fmt: skip

    def clean(self):
        data = super().clean()
        for w in self.warnings:
            if data.get(f"decision_{w.pk}") == EXCLUDE and not (data.get(f"reason_{w.pk}") or "").strip():
                self.add_error(f"reason_{w.pk}", "排除预警必须填写排除理由")
        return data

    def decisions(self) -> dict[int, tuple[str, str | None]]:
        data = self.cleaned_data
        return {
            w.pk: (
                data[f"decision_{w.pk}"],
                (data.get(f"reason_{w.pk}") or "").strip() if data[f"decision_{w.pk}"] == EXCLUDE else None,
            )
            for w in self.warnings
        }


# --- warnings people raise -----------------------------------------------------------------------------------------


class WarningReportForm(forms.Form):
    channel = forms.ChoiceField(label="预警来源", choices=MANUAL_CHANNEL_CHOICES)
    risk_type = forms.ChoiceField(label="风险类型", choices=[("", "请选择风险类型")] + RISK_CHOICES)
    description = forms.CharField(
        label="情况说明",
        max_length=500,
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": "农户反映或排查发现的情况，如：户主住院，自付医疗费约3万元"}
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class ClueLinkForm(forms.Form):
    household_number = forms.CharField(label="户编号", max_length=40)
    risk_type = forms.ChoiceField(label="风险类型", choices=RISK_CHOICES, initial=RiskType.OTHER)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class ClueCloseForm(forms.Form):
    reason = forms.CharField(
        label="办结说明",
        max_length=300,
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": "如：非本镇农户，已转交；已电话回访，情况不属实"}
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


# --- the public self-report page ------------------------------------------------------------------------------------

CAPTCHA_PURPOSE = "public-report"


def new_challenge() -> tuple[str, str]:
    """A small sum to solve: (the question, an opaque single-use token; the answer is not readable from it)."""
    return challenge_new(CAPTCHA_PURPOSE)


class PublicReportForm(forms.Form):
    """农户自主申报: only what is needed to find and call back the person. ``website`` is a trap for robots
    (hidden from people); ``answer`` solves a small sum whose encrypted, single-use token travels in
    ``challenge``."""

    village = forms.ChoiceField(label="所在村（社区）")
    name = forms.CharField(label="姓名", max_length=50)
    id_number = forms.CharField(
        label="身份证号码", max_length=25, required=False, help_text="可不填；填写后便于工作人员核实"
    )
    phone = forms.RegexField(
        label="联系电话",
        regex=r"^[0-9+\- ]{7,20}$",
        max_length=20,
        error_messages={"invalid": "请填写正确的手机或固定电话号码"},
    )
    description = forms.CharField(
        label="遇到的困难",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": "如：家人生病住院花费较大、受灾、失业返乡等"}),
    )
    answer = forms.IntegerField(label="验证：请计算", error_messages={"invalid": "请填写计算结果（数字）"})
    challenge = forms.CharField(widget=forms.HiddenInput)
    website = forms.CharField(label="网址（请勿填写）", required=False)

    def __init__(self, *args, villages: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].choices = [("", "请选择所在村（社区）")] + villages
        # Every showing of the form (also after an error) asks a fresh sum: the template writes ``token`` into
        # the hidden ``challenge`` input and leaves the answer empty.
        self.question, self.token = new_challenge()
        _style(self)
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["phone"].widget.attrs.update({"autocomplete": "tel", "inputmode": "tel"})
        self.fields["answer"].widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})
        self.fields["id_number"].widget.attrs["autocomplete"] = "off"
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    @property
    def is_robot(self) -> bool:
        return bool((self.data.get("website") or "").strip())

    def clean_id_number(self) -> str:
        raw = (self.cleaned_data.get("id_number") or "").strip()
        if raw:
            try:
                parse_id(raw)
            except IdNumberError:
                raise forms.ValidationError("身份证号码格式不正确，请核对") from None
        return raw

    def clean(self):
        data = super().clean()
        # The token is spent by this answer, right or wrong: each showing of the form asks a fresh sum.
        if "answer" in data and not challenge_answer(
            self.data.get("challenge", ""), data["answer"], CAPTCHA_PURPOSE
        ):
            self.add_error("answer", "计算结果不对，请重新计算")
        return data
