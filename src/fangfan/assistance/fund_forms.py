"""Forms of the 资金 and 消费帮扶 pages. They parse input only; the rules live in ``funds`` and ``consumption``."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from .choices import EntryKind, FundKind, ProductCategory, RequestState, SalesChannel
from .forms import _date, _style

MONEY = {"min_value": 0, "decimal_places": 2, "max_digits": 14}


class _Form(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            if isinstance(f, forms.DateField) and f.initial is None and f.required:
                f.initial = timezone.localdate
        _style(self)


class FundForm(_Form):
    name = forms.CharField(label="基金名称", max_length=60, help_text="如 桃溪镇慈善关爱基金")
    kind = forms.ChoiceField(label="类别", choices=FundKind.choices)
    region = forms.ChoiceField(label="所属", help_text="本镇，或本镇的一个村")
    note = forms.CharField(label="说明", required=False, max_length=300)

    def __init__(self, *args, places: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = places


class ReceiptForm(_Form):
    amount = forms.DecimalField(label="金额（元）", **MONEY)
    day = _date(label="收款日期")
    voucher = forms.CharField(label="凭证号", max_length=40)
    source = forms.CharField(
        label="来源/捐赠方", max_length=100, help_text="如 县慈善总会、某企业捐赠、财政拨付"
    )
    summary = forms.CharField(label="摘要", required=False, max_length=300)


class RequestForm(_Form):
    fund = forms.TypedChoiceField(label="基金", coerce=int)
    measure = forms.TypedChoiceField(label="对应帮扶措施", coerce=int, required=False, empty_value=None)
    amount = forms.DecimalField(label="金额（元）", **MONEY)
    reason = forms.CharField(
        label="申请事由",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="困难情况与救助用途",
    )

    def __init__(self, *args, funds, measures, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fund"].choices = [(f.pk, f"{f.name}（余额 {f.balance:,.2f} 元）") for f in funds]
        self.fields["measure"].choices = [("", "整户（不对应某项措施）")] + [
            (m.pk, f"{m.measure_type.name}（{m.get_state_display()}，计划 {m.planned_on:%Y-%m-%d}）")
            for m in measures
        ]


class PayForm(_Form):
    day = _date(label="支付日期")
    voucher = forms.CharField(label="凭证号", max_length=40)


class ReverseForm(_Form):
    day = _date(label="冲正日期")
    voucher = forms.CharField(label="凭证号", max_length=40)
    reason = forms.CharField(label="冲正原因", max_length=200)


class LedgerFilterForm(_Form):
    date_from = _date(label="起始日期", required=False)
    date_to = _date(label="截止日期", required=False)
    kind = forms.ChoiceField(label="类型", required=False, choices=[("", "全部"), *EntryKind.choices])

    def values(self) -> dict:
        if not self.is_bound or not self.is_valid():
            return {}
        return self.cleaned_data


class RequestFilterForm(_Form):
    state = forms.ChoiceField(
        label="状态",
        required=False,
        choices=[("", "全部"), ("open", "待审批、待支付"), *RequestState.choices],
    )


class ProductForm(_Form):
    category = forms.ChoiceField(label="品类", choices=ProductCategory.choices)
    name = forms.CharField(label="产品名称", max_length=50, help_text="如 舒城小兰花、高山大米")
    unit = forms.CharField(label="单位", max_length=10, help_text="如 斤、箱、枚")
    available = forms.DecimalField(label="可供数量", min_value=0, decimal_places=2, max_digits=12)
    season = forms.CharField(label="上市季节", required=False, max_length=30, help_text="如 4—5月、全年")


class SaleForm(_Form):
    channel = forms.ChoiceField(label="渠道", choices=SalesChannel.choices)
    buyer = forms.CharField(label="购买方", required=False, max_length=100, help_text="单位或平台名称")
    quantity = forms.DecimalField(label="数量", min_value=0, decimal_places=2, max_digits=12)
    amount = forms.DecimalField(label="金额（元）", **MONEY)
    day = _date(label="销售日期")


class ConsumptionFilterForm(_Form):
    village = forms.ChoiceField(label="村", required=False)
    month = forms.CharField(
        label="月份", required=False, widget=forms.DateInput(attrs={"type": "month"}), help_text="不选为全部"
    )

    def __init__(self, *args, villages, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].choices = [("", "全部村"), *villages]

    def clean_month(self):
        value = (self.cleaned_data.get("month") or "").strip()
        if not value:
            return ""
        parts = value.split("-")
        if len(parts) != 2 or not all(p.isdigit() for p in parts) or not 1 <= int(parts[1]) <= 12:
            raise forms.ValidationError("月份格式应为 2026-03")
        return value

    def values(self) -> dict:
        if not self.is_bound or not self.is_valid():
            return {}
        return self.cleaned_data
