"""Forms of the 帮扶措施 pages. They parse input only; the rules live in ``services``."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from fangfan.accounts.roles import Department
from fangfan.monitoring.choices import RiskType
from fangfan.monitoring.forms import RISK_CHOICES

from .choices import Category, ExceptionCause, ExceptionProblem, Kind, MeasureState
from .models import MeasureType
from .selectors import DOUBTS
from .services import REGISTER_CHANNELS


def _style(form: forms.Form) -> None:
    for f in form.fields.values():
        widget = f.widget
        if isinstance(widget, forms.CheckboxInput | forms.RadioSelect | forms.CheckboxSelectMultiple):
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            continue
        widget.attrs.setdefault(
            "class", "form-select" if isinstance(widget, forms.Select) else "form-control"
        )


def _date(**kwargs) -> forms.DateField:
    return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **kwargs)


class MeasureFilterForm(forms.Form):
    state = forms.ChoiceField(label="状态", required=False)
    category = forms.ChoiceField(label="类别", required=False)
    department = forms.ChoiceField(label="责任部门", required=False)
    village = forms.ChoiceField(label="村", required=False)
    overdue = forms.BooleanField(label="仅已过计划日期未落实", required=False)
    doubt = forms.ChoiceField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, villages: list[tuple[str, str]], department_user: bool = False, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [
            ("", "全部状态"),
            ("pending", "待落实（计划、落实中）"),
            *MeasureState.choices,
        ]
        self.fields["category"].choices = [("", "全部类别"), *Category.choices]
        self.fields["department"].choices = [("", "全部部门"), *Department.choices]
        self.fields["village"].choices = [("", "全部村"), *villages]
        self.fields["doubt"].choices = [("", ""), *DOUBTS.items()]
        if department_user:
            del self.fields["department"]
        _style(self)

    def values(self) -> dict:
        if not self.is_bound:
            return {}
        self.is_valid()
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "", False)}


class MeasureForm(forms.Form):
    measure = forms.ModelChoiceField(label="措施", queryset=MeasureType.objects.none(), empty_label="请选择")
    risk = forms.TypedChoiceField(label="针对风险点", required=False, coerce=int, empty_value=None)
    department = forms.ChoiceField(label="责任部门", required=False)
    responsible = forms.CharField(
        label="责任人", required=False, max_length=50, help_text="姓名或单位，如 民政办 王某"
    )
    planned_on = _date(label="计划日期")
    amount = forms.DecimalField(
        label="金额（元）", required=False, min_value=0, decimal_places=2, max_digits=14
    )

    def __init__(self, *args, risks, catalogue, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["measure"].queryset = catalogue
        self.fields["measure"].label_from_instance = lambda mt: (
            f"{mt.name}（{mt.get_category_display()}·{mt.get_kind_display()}）"
        )
        labels = dict(RiskType.choices)
        self.fields["risk"].choices = [("", "整户（不针对某个风险点）")] + [
            (r.pk, f"{labels.get(r.risk_type, r.risk_type)}（发现 {r.found_on:%Y-%m-%d}）") for r in risks
        ]
        self.fields["department"].choices = [
            ("", "按措施目录（默认）"),
            ("none", "无（村或镇落实）"),
            *Department.choices,
        ]
        self.fields["planned_on"].initial = timezone.localdate()
        _style(self)


class ProgressForm(forms.Form):
    state = forms.ChoiceField(label="落实情况")
    done_on = _date(label="落实日期", required=False, help_text="已落实时填写，默认今天")
    note = forms.CharField(label="说明", required=False, max_length=500, help_text="未落实时须说明原因")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [c for c in MeasureState.choices if c[0] != MeasureState.PLANNED]
        _style(self)


class EvidenceForm(forms.Form):
    file = forms.FileField(label="佐证材料", help_text="照片（JPG、PNG）或 PDF，不超过 10 MB")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs.update(
            {"accept": ".jpg,.jpeg,.png,.pdf,image/jpeg,image/png,application/pdf"}
        )
        _style(self)


class RiskRegisterForm(forms.Form):
    risk_type = forms.ChoiceField(label="风险类型", choices=RISK_CHOICES)
    channel = forms.ChoiceField(label="来源")
    found_on = _date(label="发现日期")
    description = forms.CharField(label="风险说明", max_length=500, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        from fangfan.monitoring.choices import Channel

        self.fields["channel"].choices = [c for c in Channel.choices if c[0] in REGISTER_CHANNELS]
        self.fields["channel"].initial = Channel.INSPECTION
        self.fields["found_on"].initial = timezone.localdate()
        _style(self)


class RiskCloseForm(forms.Form):
    closed_on = _date(label="消除日期")
    note = forms.CharField(label="消除情况说明", max_length=500, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["closed_on"].initial = timezone.localdate()
        _style(self)


class DecisionForm(forms.Form):
    """Approve or return (a risk point's close request, an M8 exception)."""

    decision = forms.ChoiceField(choices=[("approve", "同意"), ("return", "退回")])
    note = forms.CharField(label="意见", required=False, max_length=300)


class ExceptionForm(forms.Form):
    cause = forms.ChoiceField(label="原因类别", choices=ExceptionCause.choices)
    problem = forms.ChoiceField(label="导致无力解决的问题", choices=ExceptionProblem.choices)
    reason = forms.CharField(
        label="情况说明",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="灾害或变故的经过、损失，本户为何无力解决",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        _style(self)


class CatalogueForm(forms.Form):
    code = forms.SlugField(
        label="编码", max_length=40, help_text="英文字母、数字或下划线，如 town_patch_2026"
    )
    name = forms.CharField(label="措施名称", max_length=50)
    category = forms.ChoiceField(label="类别", choices=Category.choices)
    kind = forms.ChoiceField(label="性质", choices=Kind.choices)
    department = forms.ChoiceField(label="责任部门", required=False)
    risk_types = forms.MultipleChoiceField(
        label="适用风险类型", required=False, choices=RISK_CHOICES, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [("", "无（村或镇落实）"), *Department.choices]
        _style(self)
