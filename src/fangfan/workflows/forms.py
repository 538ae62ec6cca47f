"""Forms of the approval pages. They parse input only; the rules live in ``services``."""

from __future__ import annotations

from django import forms

from fangfan.monitoring.choices import RiskType
from fangfan.registry.choices import ExitedClass, MonitoringType

from .choices import Action, AttachmentKind, EliminationWay, Kind, Source

RISKS = [c for c in RiskType.choices if c[0] != RiskType.DOUBT]


def _style(form: forms.Form) -> None:
    for f in form.fields.values():
        widget = f.widget
        if isinstance(widget, forms.CheckboxSelectMultiple | forms.CheckboxInput):
            continue
        widget.attrs.setdefault(
            "class", "form-select" if isinstance(widget, forms.Select) else "form-control"
        )


def _date(**kwargs) -> forms.DateField:
    return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **kwargs)


class StartForm(forms.Form):
    process = forms.ChoiceField(label="事项")
    reason = forms.CharField(label="事由", max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    monitoring_type = forms.ChoiceField(
        label="拟认定监测对象类型", required=False, choices=[("", "—"), *MonitoringType.choices]
    )
    risk_types = forms.MultipleChoiceField(
        label="风险类型（纳入监测）", required=False, choices=RISKS, widget=forms.CheckboxSelectMultiple
    )
    source = forms.ChoiceField(
        label="线索来源（纳入监测）", required=False, choices=[("", "—"), *Source.choices]
    )
    exited_class = forms.ChoiceField(
        label="调整后的分类（分类调整）", required=False, choices=[("", "—"), *ExitedClass.choices]
    )
    elimination_way = forms.ChoiceField(
        label="消除方式（风险消除）",
        required=False,
        choices=[("", "按是否有已落实措施判定"), *EliminationWay.choices],
    )

    def __init__(self, *args, processes: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["process"].choices = processes
        _style(self)


def process_choices(household) -> list[tuple[str, str]]:
    """The decisions a household's state allows (the service checks again)."""
    choices = []
    if household.monitoring_state != "monitoring" or not household.monitoring_type:
        choices.append((Kind.IDENTIFY, "纳入监测"))
        if household.household_type == "general":
            choices.append(("identify_edge", "边缘户核查认定（方案 二(二)）"))
    if household.monitoring_type and household.monitoring_state == "monitoring":
        choices.append((Kind.ELIMINATE, "风险消除（销号）"))
    if household.monitoring_state == "eliminated":
        choices.append((Kind.REVERT, "风险消除回退"))
    if household.household_type == "exited":
        choices.append((Kind.RECLASSIFY, "脱贫户分类调整"))
    return choices


class ActForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in Action.values if a != Action.SUBMIT])
    version = forms.IntegerField()
    comment = forms.CharField(required=False, max_length=500)
    override_reason = forms.CharField(required=False, max_length=500)


class AttachForm(forms.Form):
    kind = forms.ChoiceField(label="材料类型", choices=AttachmentKind.choices)
    file = forms.FileField(label="文件（JPG、PNG 或 PDF，不超过 10 MB）")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class BatchForm(forms.Form):
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=[])
    action = forms.ChoiceField(
        choices=[(Action.APPROVE, "通过"), (Action.RETURN, "退回"), (Action.REJECT, "驳回")]
    )
    comment = forms.CharField(required=False, max_length=500)

    def clean_ids(self):
        return self.cleaned_data["ids"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ids"].valid_value = lambda value: str(value).isdigit()


class NoticeForm(forms.Form):
    ids = forms.CharField()
    notice_from = _date(label="公示开始日期")
    notice_to = _date(label="公示结束日期")

    def id_list(self) -> list[int]:
        return [int(x) for x in self.cleaned_data["ids"].split(",") if x.strip().isdigit()][:500]
