"""Forms of the region pages: parsing only."""

from __future__ import annotations

from pathlib import Path

from django import forms

from .codes import LEVEL_LABELS

ALLOWED_SUFFIXES = (".xlsx", ".csv")


class RegionImportForm(forms.Form):
    file = forms.FileField(
        label="区划代码表",
        help_text="Excel（.xlsx）或 CSV 文件，含“区划代码”“名称”两列，区划代码为 12 位文本",
    )
    dry_run = forms.BooleanField(label="只检查，不写入", required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs.update(
            {"class": "form-control", "accept": ",".join(ALLOWED_SUFFIXES)}
        )
        self.fields["dry_run"].widget.attrs.update({"class": "form-check-input"})

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in ALLOWED_SUFFIXES:
            raise forms.ValidationError("只支持 .xlsx 或 .csv 文件")
        return upload


class RegionFilterForm(forms.Form):
    q = forms.CharField(label="搜索", required=False, max_length=100)
    level = forms.TypedChoiceField(
        label="级别",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "全部级别")] + [(int(k), v) for k, v in LEVEL_LABELS.items()],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update({"class": "form-control", "placeholder": "名称或代码"})
        self.fields["level"].widget.attrs.update({"class": "form-select"})
