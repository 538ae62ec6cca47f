"""The policy page: the parameters in force for the user's region and a year, and — for editors — setting a value
for a region of theirs. After a change the households of that region are recomputed (in the background for
large regions), so suggestions follow the new monitoring line."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from fangfan.core.errors import DomainError
from fangfan.core.permissions import requires

from . import hooks, selectors
from .forms import PolicyValueForm
from .services import policy_set


def _year(raw) -> int:
    try:
        year = int(raw)
    except (TypeError, ValueError):
        return date.today().year
    return year if 2000 <= year <= 2100 else date.today().year


@requires("policy.view")
@require_http_methods(["GET", "HEAD", "POST"])
def parameter_list(request):
    user = request.user
    year = _year(request.GET.get("year"))
    can_edit = user.can("policy.edit")
    form = None
    if can_edit:
        form = PolicyValueForm(
            request.POST if request.method == "POST" else None,
            regions=selectors.editable_regions(user),
            initial={"region": user.region_id, "year": year},
        )
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("policy.edit")
        if form.is_valid():
            data = form.cleaned_data
            try:
                policy_set(
                    actor=user,
                    key=data["key"],
                    region_code=data["region"],
                    year=data["year"],
                    value=data["value"],
                    note=data["note"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "已保存政策参数。")
                hooks.value_saved(request, region_code=data["region"], year=data["year"])
                return redirect(f"{reverse('policy:parameter_list')}?year={data['year']}")
    this_year = date.today().year
    context = {
        "year": year,
        "years": list(range(this_year - 3, this_year + 2)),
        "values": selectors.effective_values(region_code=user.region_id, year=year) if user.region_id else [],
        "overrides": selectors.overrides_in_scope(user) if can_edit else [],
        "history": selectors.policy_history(user) if can_edit else [],
        "form": form,
        "can_edit": can_edit,
    }
    return render(request, "policy/parameter_list.html", context)
