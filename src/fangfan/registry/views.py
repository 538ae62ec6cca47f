"""Household pages: the list (filter, search, sort, page; one view serves the page and its htmx fragment), the
household page, and the edit forms a village clerk uses. Thin: parse, call a selector or a service, render.

Every household is fetched through ``for_user``: outside the user's jurisdiction it answers 404.
"""

from __future__ import annotations

from functools import partial

from django.contrib import messages
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from fangfan.core.errors import DomainError
from fangfan.core.masking import mask_phone
from fangfan.core.permissions import requires
from fangfan.core.scoping import get_for_user_or_404
from fangfan.policy.services import policy_values
from fangfan.regions.codes import prefix_of
from fangfan.regions.selectors import region_full_name, region_name

from . import filters, history, selectors, services
from .choices import ExitedClass, HouseholdType, MonitoringState, MonitoringType, Suggestion
from .forms import (
    HeadChangeForm,
    HouseholdCreateForm,
    HouseholdForm,
    MemberAddForm,
    MemberForm,
    MemberRemoveForm,
    MergeForm,
    SplitForm,
)
from .models import Household, Member

FILTERS = [
    ("household_type", "户类型", HouseholdType.choices),
    ("exited_class", "脱贫户分类", ExitedClass.choices),
    ("monitoring_type", "监测对象类型", MonitoringType.choices),
    ("monitoring_state", "监测状态", MonitoringState.choices),
    ("suggestion", "系统建议分类", Suggestion.choices),
]
SORTS = [("number", "户编号"), ("per_capita_income", "年人均纯收入"), ("size", "家庭人口")]


def _is_htmx(request) -> bool:
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def _list_queryset(request, *, for_count: bool = False):
    return filters.household_list(request.user, filters.list_params(request), for_count=for_count)


@requires("household.view")
@require_http_methods(["GET", "HEAD", "POST"])
def household_list(request):
    """The list. The filter form is posted (its search box may hold a name or ID digits): the search text goes
    into the session and the address carries a token (``filters.remember_search``); a typed ``?q=`` address is
    turned into such an address too."""
    if request.method == "POST" or "q" in request.GET:
        source = request.POST if request.method == "POST" else request.GET
        address, _searched = filters.address_params(request, source)
        query = selectors.query_without(address, "page")
        url = request.path + (f"?{query}" if query else "")
        if request.method == "POST" and _is_htmx(request):
            return _list_response(request, QueryDict(query), push=url)
        response = redirect(url)
        if request.method == "POST":
            response.status_code = 303  # See Other: the list is fetched again with GET
        return response
    return _list_response(request, request.GET)


def _list_response(request, address, *, push: str | None = None):
    """The list page (or, for htmx, its results) for the address parameters ``address`` (``s=`` token, no text)."""
    villages = selectors.village_names(request.user)
    qs, cleaned = filters.household_list(request.user, filters.list_params(request, address))
    page = selectors.list_page(request.user, qs, cleaned, page=address.get("page"))
    sort = cleaned.get("sort") or "number"
    context = {
        "page": page,
        "cleaned": cleaned,
        "villages": villages,
        "village_options": [
            (code, name, code == cleaned.get("village"))
            for code, name in villages.items()
            if not cleaned.get("area") or code.startswith(prefix_of(cleaned["area"]))  # a town: its villages
        ],
        "q": cleaned.get("q", ""),
        "search_lost": bool(address.get("s")) and not cleaned.get("q"),
        "query": selectors.query_without(address, "page"),
        "sort_query": selectors.query_without(address, "page", "sort"),
        "count_query": selectors.query_without(address, "page"),
        "sort": sort,
        "sort_links": [
            {
                "key": key,
                "label": label,
                "active": sort.lstrip("-") == key,
                "descending": sort == f"-{key}",
                "next": f"-{key}" if sort == key else key,
            }
            for key, label in SORTS
        ],
        "filter_fields": [
            {
                "name": name,
                "label": label,
                "choices": [(value, text, str(cleaned.get(name) or "") == value) for value, text in choices],
            }
            for name, label, choices in FILTERS
        ],
        "can_export": request.user.can("household.export"),
        "can_create": request.user.can("household.edit"),
        "extra_filters": _extra_filters(request, address, cleaned),
    }
    for row in page.rows:
        row.village_name = villages.get(row.region_id, row.region_id)
    filters.mark_matches(page.rows, cleaned.get("q", ""))
    if not _is_htmx(request):
        return render(request, "registry/household_list.html", context)
    response = render(request, "registry/household_list.html#results", context)
    # The address bar shows the filters in force, not every empty field of the form.
    if push is None:
        query = selectors.query_without(address)
        push = request.path + (f"?{query}" if query else "")
    response["HX-Push-Url"] = push
    return response


def _extra_filters(request, address, cleaned: dict) -> list[dict]:
    """Filters the form has no field for — a place above the village, a category of the statistics, 建议不一致 (the
    dashboard's figures), cancelled households — each shown with a link that drops it, and kept by the form."""
    shown = []
    if cleaned.get("area"):
        shown.append(("area", f"范围：{region_name(cleaned['area'])}"))
    if cleaned.get("category"):
        shown.append(("category", f"统计分类：{filters.CATEGORY_LABELS[cleaned['category']]}"))
    if cleaned.get("at_risk"):
        shown.append(("at_risk", "监测对象（风险未消除）"))
    if cleaned.get("below_line"):
        shown.append(("below_line", "年人均纯收入低于监测收入标准"))
    if cleaned.get("differs"):
        shown.append(("differs", "系统建议与现分类不一致"))
    if cleaned.get("helper"):
        shown.append(
            ("helper", f"帮扶责任人/联系人：{selectors.helper_name(cleaned['helper'], request.user)}")
        )
    if cleaned.get("needs_helper"):
        shown.append(("needs_helper", "须落实帮扶责任人/联系人（脱贫户及未消除风险的监测对象）"))
    if cleaned.get("no_helper"):
        shown.append(("no_helper", "未落实帮扶责任人/联系人"))
    if cleaned.get("cancelled"):
        shown.append(("cancelled", "已注销农户"))
    out = []
    for name, label in shown:
        query = selectors.query_without(address, name, "page")
        out.append(
            {
                "name": name,
                "value": cleaned[name],
                "label": label,
                "drop": request.path + (f"?{query}" if query else ""),
            }
        )
    return out


@requires("household.view")
@require_http_methods(["GET", "HEAD"])
def household_count(request):
    """The exact total of a large filtered list or a broad search, loaded after the page (htmx)."""
    qs, cleaned = _list_queryset(request, for_count=True)
    count = selectors.household_count(qs, user=request.user, params=cleaned)
    return render(request, "registry/household_list.html#exact_count", {"exact_count": count})


@requires("household.view")
@require_http_methods(["GET", "HEAD"])
def household_detail(request, pk: int):
    household = get_for_user_or_404(
        Household.objects.select_related("region"), request.user, "household.view", pk=pk
    )
    active, removed = selectors.household_members(household)
    selectors.member_phones_masked(active)
    changes = selectors.household_changes(household, request.user)
    helper = selectors.current_helpers([household]).get(household.pk)
    context = {
        "household": household,
        "members": active,
        "removed_members": removed,
        "changes": changes,
        "merged_into": selectors.merged_into(household, changes),
        "history": selectors.household_history(household, [*active, *removed]),
        "income_lines": selectors.income_lines(household),
        "indicators": selectors.indicator_rows(household),
        "phone_masked": mask_phone(household.phone),
        "region_full_name": region_full_name(household.region_id),
        "helper": helper,
        # An account moved to another place no longer sees the household (the lists still count it as covered).
        "helper_moved": helper is not None and not selectors.helper_covers(helper.helper, household),
        "income_chart": _income_chart(household),
        "needs_helper": selectors.needs_helper(household),
        "can_edit": request.user.can("household.edit") and not household.cancelled,
        "can_view_id": request.user.can("household.view_id"),
        "can_view_phone": request.user.can("household.view_phone"),
    }
    return render(request, "registry/household_detail.html", context)


def _income_chart(household: Household) -> dict | None:
    """The household's 年人均纯收入 over its last twelve months on record, or None before the first month is kept."""
    rows = history.income_months(household)
    if not rows:
        return None
    line = policy_values(region_code=household.region_id)["monitoring_line"]
    return history.income_chart(rows, line=line)


def _shown_once(request, template: str, reveal, name: str, **context):
    """A value seen whole (an ID number, a phone): the service ``reveal()`` checks the permission and records the
    view; nothing of it is cached. A refusal (nothing registered) is a 404."""
    try:
        value = reveal()
    except DomainError as exc:
        raise Http404(exc.message) from None
    response = render(request, template, {name: value, **context})
    response["Cache-Control"] = "no-store"
    return response


@requires("household.view_id")
@require_POST
@never_cache
def member_reveal_id(request, pk: int):
    """Show one member's ID number whole, once; the service records that it was seen."""
    member = get_for_user_or_404(
        Member.objects.select_related("household"), request.user, "household.view_id", pk=pk
    )
    reveal = partial(services.member_reveal_id, member=member, actor=request.user)
    return _shown_once(request, "registry/_id_revealed.html", reveal, "number", member=member)


@requires("household.view_phone")
@require_POST
@never_cache
def member_reveal_phone(request, pk: int):
    """Show a member's own phone whole, once, as a link that dials it; the service records that it was seen."""
    member = get_for_user_or_404(
        Member.objects.select_related("household"), request.user, "household.view_phone", pk=pk
    )
    reveal = partial(services.member_reveal_phone, member=member, actor=request.user)
    return _shown_once(request, "registry/_phone_revealed.html", reveal, "phone")


@requires("household.view_phone")
@require_POST
@never_cache
def household_reveal_phone(request, pk: int):
    """Show the household's phone whole, once, as a link that dials it; the service records that it was seen."""
    household = get_for_user_or_404(Household.objects, request.user, "household.view_phone", pk=pk)
    reveal = partial(services.household_reveal_phone, household=household, actor=request.user)
    return _shown_once(request, "registry/_phone_revealed.html", reveal, "phone")


# --- edits -------------------------------------------------------------------------------------------------------


def _editable(request, pk: int) -> Household:
    household = get_for_user_or_404(
        Household.objects.select_related("region"), request.user, "household.edit", pk=pk
    )
    if household.cancelled:
        raise Http404("该户已注销")
    return household


def _render_form(
    request, household, form, *, title: str, template: str = "registry/household_form.html", **extra
):
    return render(request, template, {"household": household, "form": form, "title": title, **extra})


def _done(request, household: Household, message: str):
    messages.success(request, message)
    return redirect("registry:household_detail", pk=household.pk)


@requires("household.edit")
@require_http_methods(["GET", "HEAD", "POST"])
def household_create(request):
    """A household the register does not hold yet, with its head; members are added on its page afterwards."""
    villages = selectors.village_names(request.user)
    # One village (a village clerk): its next 户编号 is offered; with several, the clerk picks the village first.
    initial = {"number": selectors.next_household_number(next(iter(villages)))} if len(villages) == 1 else {}
    form = HouseholdCreateForm(request.POST or None, villages=villages, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            household = services.household_create(
                actor=request.user,
                region_code=form.cleaned_data["village"],
                number=form.cleaned_data["number"],
                data=form.changes(),
                head=form.head(),
                reason=form.cleaned_data["reason"],
                on=form.cleaned_data["on"],
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return _done(
                request, household, f"已建立农户档案 {household.number}。请增加其他家庭成员并核实各项信息。"
            )
    line = selectors.monitoring_line(next(iter(villages))) if len(villages) == 1 else ""
    return render(
        request, "registry/household_edit.html", {"form": form, "creating": True, "monitoring_line": line}
    )


@requires("household.edit")
@require_http_methods(["GET", "HEAD", "POST"])
def household_edit(request, pk: int):
    household = _editable(request, pk)

    def blank_form(data=None):
        initial = {**HouseholdForm.initial_for(household), "seen": services.edit_version(household)}
        return HouseholdForm(data, initial=initial, current_phone=household.phone)

    form = blank_form(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.household_update(
                household=household,
                actor=request.user,
                data=form.changes(),
                note=form.cleaned_data["note"],
                seen=form.cleaned_data["seen"],
            )
        except services.StaleEdit as exc:
            messages.warning(request, exc.message)
            household = _editable(request, pk)  # as stored now
            form = blank_form()
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            income = household.per_capita_income
            shown = f"{income:,.2f} 元" if income is not None else "—（无在册成员）"
            return _done(request, household, f"已保存。年人均纯收入 {shown}。")
    return _render_form(
        request,
        household,
        form,
        title="修改农户信息",
        template="registry/household_edit.html",
        monitoring_line=selectors.monitoring_line(household.region_id),
    )


def _member(household: Household, pk: int, *, active: bool = True) -> Member:
    qs = household.members.defer("id_number", "phone")
    if active:
        qs = qs.filter(status=Member.Status.ACTIVE)
    member = get_object_or_404(qs, pk=pk)
    member.household = household
    return member


@requires("household.edit")
@require_http_methods(["GET", "HEAD", "POST"])
def member_edit(request, pk: int, member_pk: int):
    household = _editable(request, pk)
    member = _member(household, member_pk)

    def blank_form(data=None):
        initial = {**MemberForm.initial_for(member), "seen": services.edit_version(member)}
        return MemberForm(data, initial=initial, is_head=member.is_head, current_phone=member.phone)

    form = blank_form(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_update(
                member=member, actor=request.user, data=form.changes(), seen=form.cleaned_data["seen"]
            )
        except services.StaleEdit as exc:
            messages.warning(request, exc.message)
            member = _member(household, member_pk)  # as stored now
            form = blank_form()
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return _done(request, household, f"已保存成员 {member.name} 的信息。")
    return _render_form(request, household, form, title=f"修改成员信息：{member.name}", member=member)


@requires("household.edit")
@require_http_methods(["GET", "HEAD", "POST"])
def member_add(request, pk: int):
    household = _editable(request, pk)
    form = MemberAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.changes()
        data["id_number"] = form.cleaned_data["id_number"]
        try:
            member = services.member_add(
                household=household,
                actor=request.user,
                data=data,
                reason=form.cleaned_data["reason"],
                on=form.cleaned_data["on"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return _done(request, household, f"已增加成员 {member.name}（{member.joined_reason}）。")
    return _render_form(request, household, form, title="增加成员")


@requires("household.edit")
@require_http_methods(["GET", "HEAD", "POST"])
def member_remove(request, pk: int, member_pk: int):
    household = _editable(request, pk)
    member = _member(household, member_pk)
    form = MemberRemoveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_remove(
                member=member,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                on=form.cleaned_data["on"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            done = f"已减少成员 {member.name}（{member.left_reason}），其历史记录保留。"
            if household.cancelled:
                done += "本户已无在册成员，已注销；档案与历史记录保留备查。"
            return _done(request, household, done)
    last = selectors.is_last_member(member)
    return _render_form(
        request,
        household,
        form,
        title=f"减少成员：{member.name}",
        member=member,
        notice="这是本户最后一名在册成员：减少后本户将注销（整户减少），档案与历史记录保留备查。"
        if last
        else "",
    )


@requires("household.edit")
@require_http_methods(["GET", "HEAD", "POST"])
def head_change(request, pk: int):
    household = _editable(request, pk)
    active, _removed = selectors.household_members(household)
    form = HeadChangeForm(request.POST or None, members=active)
    if request.method == "POST" and form.is_valid():
        new_head = form.cleaned_data["new_head"]
        new_head.household = household
        try:
            services.head_change(
                household=household,
                new_head=new_head,
                actor=request.user,
                on=form.cleaned_data["on"],
                old_head_relation=form.cleaned_data["old_head_relation"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return _done(request, household, f"户主已变更为 {new_head.name}。")
    return _render_form(request, household, form, title="变更户主")


@requires("household.edit")
@require_http_methods(["GET", "HEAD", "POST"])
def household_split(request, pk: int):
    household = _editable(request, pk)
    active, _removed = selectors.household_members(household)
    form = SplitForm(
        request.POST or None,
        members=active,
        initial={"new_number": selectors.next_household_number(household.region_id)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            new = services.household_split(
                household=household,
                members=form.cleaned_data["split_members"],
                new_number=form.cleaned_data["new_number"],
                actor=request.user,
                on=form.cleaned_data["on"],
                remaining_head=form.cleaned_data["remaining_head_member"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return _done(
                request,
                household,
                f"已分户：新户 {new.number}，{new.size} 人。请核对两户成员的“与户主关系”。",
            )
    return _render_form(request, household, form, title="分户")


@requires("household.edit")
@require_http_methods(["GET", "HEAD", "POST"])
def household_merge(request, pk: int):
    household = _editable(request, pk)
    form = MergeForm(request.POST or None, household=household, user=request.user)
    if request.method == "POST" and form.is_valid():
        target = form.cleaned_data["target_number"]
        if form.needs_confirmation():  # irreversible: name the household first
            return _render_form(
                request,
                household,
                form,
                title="合户",
                confirm=selectors.merge_preview(household, target),
                submit_label="确认合户",
            )
        try:
            services.household_merge(
                source=household, target=target, actor=request.user, on=form.cleaned_data["on"]
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return _done(request, target, f"户 {household.number} 已并入本户，原户已注销。")
    return _render_form(request, household, form, title="合户")


# --- 帮扶责任人 / 联系人 -------------------------------------------------------------------------------------------
