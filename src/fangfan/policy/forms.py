"""The form that sets a policy parameter for a region and year."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django import forms

from .parameters import PARAMETERS


class PolicyValueForm(forms.Form):
    key = forms.ChoiceField(label="参数", error_messages={"required": "请选择参数"})
    region = forms.ChoiceField(
        label="适用区划",
        error_messages={"required": "请选择区划"},
        help_text="下辖各级未单独设置的，按此值执行",
    )
    year = forms.IntegerField(
        label="自年度起",
        min_value=2000,
        max_value=2100,
        error_messages={
            "required": "请填写年度",
            "invalid": "请输入四位年份",
            "min_value": "请输入四位年份",
            "max_value": "请输入四位年份",
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    value = forms.DecimalField(
        label="数值",
        min_value=Decimal(0),
        max_digits=14,
        decimal_places=4,
        error_messages={
            "required": "请填写数值",
            "invalid": "请输入数字",
            "min_value": "数值不能为负数",
            "max_decimal_places": "最多保留四位小数",
            "max_digits": "数值过大",
            "max_whole_digits": "数值过大",
        },
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    note = forms.CharField(label="依据", max_length=200, required=False, help_text="如文件名称、文号")

    def __init__(self, *args, regions: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key"].choices = [(k, f"{p.label}（{p.unit}）") for k, p in PARAMETERS.items()]
        self.fields["region"].choices = regions
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)
        self.fields["year"].initial = date.today().year
