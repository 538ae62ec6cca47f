"""Forms of the administrators' pages. They parse input only; the rules live in ``services``."""

from __future__ import annotations

from django import forms

from fangfan.regions.codes import Level

from .roles import Department
from .selectors import regions_for_admin
from .services import ASSIGNABLE_ROLES

ROLE_CHOICES = [("", "请选择角色")] + [(r.value, r.label) for r in ASSIGNABLE_ROLES]
DEPARTMENT_CHOICES = [("", "（非部门账号不填）")] + list(Department.choices)


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        indent = "\u3000" * max(0, obj.level - int(Level.PROVINCE))
        return f"{indent}{obj.name}（{obj.code}）"


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


class _AccountFields(forms.Form):
    full_name = forms.CharField(label="姓名", max_length=50, required=False)
    phone = forms.CharField(label="联系电话", max_length=20, required=False)
    role = forms.ChoiceField(label="角色", choices=ROLE_CHOICES)
    department = forms.ChoiceField(
        label="所属部门", choices=DEPARTMENT_CHOICES, required=False, help_text="角色为“部门”时必填"
    )
    region = RegionChoiceField(
        label="所属区划", queryset=None, to_field_name="code", empty_label="请选择区划"
    )

    def __init__(self, *args, admin, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions_for_admin(admin)
        self.fields[
            "region"
        ].help_text = "村级经办绑定到村；镇扶贫工作站、镇领导小组绑定到乡镇；市县审核绑定到县或市"
        _style(self)


class _NewPassword(forms.Form):
    password1 = forms.CharField(
        label="密码",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="至少 10 位，包含大写字母、小写字母、数字、符号中的至少三类",
    )
    password2 = forms.CharField(
        label="再次输入密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", "两次输入的密码不一致")
        return data


class UserCreateForm(_AccountFields, _NewPassword):
    username = forms.CharField(label="账号", max_length=150, help_text="登录用，建议用拼音或工号")
    field_order = ["username", "full_name", "phone", "role", "department", "region", "password1", "password2"]

    def __init__(self, *args, admin, **kwargs):
        super().__init__(*args, admin=admin, **kwargs)
        self.order_fields(self.field_order)


class UserEditForm(_AccountFields):
    is_active = forms.BooleanField(label="启用", required=False, help_text="停用后该账号不能登录，记录保留")


class PasswordResetForm(_NewPassword):
    """安全管理员 resets another account's password (the person changes it at the next sign-in)."""

    username = forms.CharField(label="账号", max_length=150)
    field_order = ["username", "password1", "password2"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(self.field_order)
        self.fields["password1"].label = "临时密码"
        _style(self)


class PasswordChangeForm(_NewPassword):
    """Everybody's own password: the old one first."""

    old_password = forms.CharField(
        label="原密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    field_order = ["old_password", "password1", "password2"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(self.field_order)
        self.fields["password1"].label = "新密码"
        self.fields["password2"].label = "再次输入新密码"
        _style(self)


class UserFilterForm(forms.Form):
    """The filters of the user list; the region choices are the administrator's own subtree (down to towns)."""

    q = forms.CharField(label="搜索", required=False)
    role = forms.ChoiceField(label="角色", required=False, choices=[("", "全部角色")] + ROLE_CHOICES[1:])
    region = forms.ChoiceField(label="区划", required=False)
    active = forms.ChoiceField(
        label="状态", required=False, choices=[("", "全部状态"), ("1", "启用"), ("0", "停用")]
    )

    def __init__(self, *args, admin, **kwargs):
        super().__init__(*args, **kwargs)
        regions = regions_for_admin(admin).filter(level__lte=int(Level.TOWN))
        self.fields["region"].choices = [("", "全部区划")] + [
            (r.code, "\u3000" * max(0, r.level - int(Level.PROVINCE)) + r.name) for r in regions
        ]
        self.fields["q"].widget.attrs["placeholder"] = "账号或姓名"
        _style(self)


class TokenIssueForm(forms.Form):
    """A personal API token asked for on one's own account page (``tokens.personal_token_issue`` checks the rest)."""

    name = forms.CharField(
        label="令牌名称", max_length=100, required=False, help_text="用在哪里，如：县数据平台同步脚本"
    )
    days = forms.IntegerField(label="有效天数", min_value=1, max_value=365, initial=90)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class SecondFactorForm(forms.Form):
    """The code after the password: 6 digits from the authenticator app, or a recovery code (xxxx-xxxx)."""

    token = forms.CharField(
        label="验证码",
        max_length=20,
        help_text="身份验证器上当前显示的 6 位数字；手机不在身边时，可输入一个恢复码（每个只能用一次）。",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "text",
                "autofocus": True,
                "spellcheck": "false",
            }
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class EnrolForm(forms.Form):
    token = forms.CharField(
        label="验证码",
        max_length=10,
        help_text="扫码或输入密钥后，身份验证器上显示的 6 位数字。",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class SecondFactorResetForm(forms.Form):
    username = forms.CharField(label="账号", max_length=150)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)
