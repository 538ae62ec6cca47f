"""Reads for the policy page: each parameter's effective value for a region and year, and where it comes from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Case, DecimalField, Value, When

from fangfan.core.models import AuditEvent
from fangfan.regions.codes import Level, ancestors_of, code_range, level_of
from fangfan.regions.models import Region

from .models import PolicyValue
from .parameters import PARAMETERS, ParameterSpec
from .services import policy_values


def plain(value: Decimal) -> str:
    """5000.0000 → "5000", 0.9000 → "0.9" (no exponent, no trailing zeros)."""
    text = format(Decimal(value).normalize(), "f")
    return text


@dataclass
class EffectiveValue:
    spec: ParameterSpec
    value: Decimal
    source: PolicyValue | None  # None: the catalogue default

    @property
    def display(self) -> str:
        return plain(self.value)

    @property
    def source_label(self) -> str:
        if self.source is None:
            return "系统默认值"
        return f"{self.source.region.name} {self.source.year}年起"


def effective_values(*, region_code: str, year: int | None = None) -> list[EffectiveValue]:
    """Every catalogue parameter for the region and year, resolved like ``policy_values`` (the nearest ancestor
    region's latest value for a year ≤ ``year``), with the row it came from."""
    year = year or date.today().year
    chain = [*ancestors_of(region_code), region_code]
    depth = {code: i for i, code in enumerate(chain)}
    best: dict[str, PolicyValue] = {}
    # Unscoped: the parameters that apply to a place are its own and its ancestors' (published values).
    for row in (
        PolicyValue.objects.unscoped().filter(region_id__in=chain, year__lte=year).select_related("region")
    ):
        current = best.get(row.key)
        if current is None or (depth[row.region_id], row.year) > (depth[current.region_id], current.year):
            best[row.key] = row
    return [
        EffectiveValue(
            spec=spec, value=best[key].value if key in best else spec.default, source=best.get(key)
        )
        for key, spec in PARAMETERS.items()
    ]


def overrides_in_scope(user):
    """The values set for regions in the user's jurisdiction (newest first)."""
    rows = list(
        PolicyValue.objects.for_user(user, "policy.view")
        .select_related("region", "updated_by")
        .order_by("region_id", "key", "-year")[:500]
    )
    for row in rows:
        spec = PARAMETERS.get(row.key)
        row.label = spec.label if spec else row.key
        row.display = plain(row.value)
    return rows


def editable_regions(user) -> list[tuple[str, str]]:
    """Regions a policy editor may set values for: their own region and the regions under it down to towns."""
    span = user.jurisdiction_range()
    if span is None or not user.region_id:
        return []
    regions = Region.objects.filter(code__gte=span[0], code__lt=span[1], level__lte=Level.TOWN).order_by(
        "code"
    )
    return [(r.code, f"{r.name}（{r.code}）") for r in regions]


@dataclass
class PolicyChange:
    at: object
    actor: str
    label: str
    region: str
    year: str
    before: str
    after: str
    note: str


def policy_history(user, *, limit: int = 50) -> list[PolicyChange]:
    """Changes of policy values in the user's jurisdiction, newest first, from the audit log."""
    span = user.jurisdiction_range()
    if span is None:
        return []
    lo, hi = span
    events = list(
        AuditEvent.objects.filter(action="policy.set", region_code__gte=lo, region_code__lt=hi).order_by(
            "-id"
        )[:limit]
    )
    names = dict(Region.objects.filter(code__in={e.region_code for e in events}).values_list("code", "name"))
    changes = []
    for event in events:
        key, _, rest = event.object_label.partition("@")
        _code, _, year = rest.partition("/")
        spec = PARAMETERS.get(key)
        changes.append(
            PolicyChange(
                at=event.at,
                actor=event.actor_username,
                label=spec.label if spec else key,
                region=names.get(event.region_code, event.region_code),
                year=year,
                before=_plain_text((event.before or {}).get("value", "")),
                after=_plain_text((event.after or {}).get("value", "")),
                note=(event.after or {}).get("note", "") or event.note,
            )
        )
    return changes


def _plain_text(value) -> str:
    try:
        return plain(Decimal(str(value)))
    except Exception:
        return str(value or "")


def monitoring_line_expression(region_code: str, year: int | None = None):
    """The monitoring line in force for each household's village: one value when no region inside the scope
    overrides it, else a CASE over the overriding subtrees, deepest first (nearest ancestor wins). Returns
    (expression, the line of ``region_code`` itself, the highest line anywhere in the scope)."""
    line = policy_values(region_code=region_code, year=year)["monitoring_line"]
    lo, hi = code_range(region_code)
    inside = set(
        # Unscoped: the parameters that apply to a place are its own and its ancestors' (published values).
        PolicyValue.objects.unscoped()
        .filter(key="monitoring_line", region_id__gte=lo, region_id__lt=hi)
        .exclude(region_id=region_code)
        .values_list("region_id", flat=True)
    )
    money = DecimalField(max_digits=14, decimal_places=2)
    if not inside:
        return Value(line, output_field=money), line, line
    whens, highest = [], line
    for code in sorted(inside, key=lambda c: (-level_of(c), c)):
        sub_lo, sub_hi = code_range(code)
        value = policy_values(region_code=code, year=year)["monitoring_line"]
        highest = max(highest, value)
        whens.append(When(region_id__gte=sub_lo, region_id__lt=sub_hi, then=Value(value, output_field=money)))
    return Case(*whens, default=Value(line, output_field=money), output_field=money), line, highest
