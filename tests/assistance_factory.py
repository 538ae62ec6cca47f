"""Risk points, measures and evidence for tests, written through the services (as a clerk or the town station would),
plus the objects the permission matrix needs for the 帮扶措施 URLs that take a parameter.

``MATRIX_OBJECT_URLS`` maps each such URL name to a factory(users) → (kwargs, region code, seen_by) in the form of
``tests/core/test_permission_matrix.OBJECT_URLS``: most measures are assigned to 医保 (medical), so that the
department user of the fixtures (医保, 桃溪镇) may open them; those of the progress and evidence URLs to 民政, so that
the matrix sees the department refused another department's measures (``seen_by``: a key of
``tests/permission_table.SEEN_BY``, written by hand — never the model's own door, which is what is tested).
"""

from __future__ import annotations

import io
import itertools

from conftest import VILLAGE
from django.utils import timezone
from factories import measure as new_measure
from factories import risk_point
from registry_factory import make_household

from fangfan.assistance import services

_numbers = itertools.count(1)
# The smallest files whose content is what they claim (the service checks the signature, not the name).
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class Upload(io.BytesIO):
    """A stand-in for Django's UploadedFile: a name, a size, chunks."""

    def __init__(self, data: bytes, name: str = "照片.png"):
        super().__init__(data)
        self.name, self.size = name, len(data)

    def chunks(self, chunk_size: int = 64 * 1024):
        self.seek(0)
        while chunk := self.read(chunk_size):
            yield chunk


def household(village: str = VILLAGE, **fields):
    return make_household(f"{village}{next(_numbers):06d}", village, **fields)


risk = risk_point  # the names the assistance tests use
measure = new_measure


# --- the permission matrix --------------------------------------------------------------------------------------


OTHER_DEPARTMENT = "measure of another department"


def matrix_measure(users):
    hh = household()
    m = measure(hh, users["town_station"], department="medical")
    return {"pk": m.pk}, VILLAGE, ""


def matrix_civil_measure(users):
    """A measure of 民政: not the fixtures' department user's (医保)."""
    m = measure(household(), users["town_station"], code="temporary_aid", department="civil")
    return {"pk": m.pk}, VILLAGE, OTHER_DEPARTMENT


def matrix_evidence(users):
    hh = household()
    m = measure(hh, users["town_station"], department="civil")
    ev = services.measure_evidence_add(measure=m, actor=users["town_station"], upload=Upload(PNG))
    return {"pk": ev.pk}, VILLAGE, OTHER_DEPARTMENT


def matrix_household(users):
    return {"pk": household().pk}, VILLAGE, ""


def matrix_risk(users):
    return {"pk": risk(household(), users["town_station"]).pk}, VILLAGE, ""


def matrix_exception(users):
    hh = household(household_type="exited", exit_year=2019, exited_class="not_enjoying")
    exc = services.exception_request(
        household=hh,
        actor=users["village_clerk"],
        cause="disaster",
        problem="housing",
        reason="暴雨致房屋倒塌",
    )
    return {"pk": exc.pk}, VILLAGE, ""


def matrix_catalogue(users):
    from fangfan.assistance.models import MeasureType

    # The catalogue is not bound to a place ("" for the region): whoever may manage it may open any entry.
    return {"pk": MeasureType.objects.get(code="social_help").pk}, "", ""


MATRIX_OBJECT_URLS = {
    "assistance:measure_detail": matrix_measure,
    "assistance:measure_progress": matrix_civil_measure,
    "assistance:measure_evidence": matrix_civil_measure,
    "assistance:evidence_file": matrix_evidence,
    "assistance:measure_add": matrix_household,
    "assistance:risk_add": matrix_household,
    "assistance:exception_add": matrix_household,
    "assistance:risk_close": matrix_risk,
    "assistance:risk_decide": matrix_risk,
    "assistance:exception_decide": matrix_exception,
    "assistance:catalogue_toggle": matrix_catalogue,
}


# --- 资金 and 消费帮扶 (issue 20) --------------------------------------------------------------------------------


def fund(actor, *, kind: str = "charity", region: str | None = None, name: str = "", balance=None):
    """A fund of 桃溪镇 (or ``region``) set up by the town station, with an opening receipt of ``balance``."""
    from conftest import TOWN

    from fangfan.assistance import funds

    f = funds.fund_create(
        actor=actor, name=name or f"测试基金{next(_numbers)}", kind=kind, region_code=region or TOWN
    )
    if balance:
        funds.fund_receive(
            actor=actor,
            fund=f,
            amount=balance,
            day=timezone.localdate(),
            voucher=f"收{next(_numbers)}",
            source="县慈善总会",
        )
        f.refresh_from_db()
    return f


def fund_request(users, f, hh=None, *, amount="100", approve: bool | None = None, **kwargs):
    from fangfan.assistance import funds

    hh = hh or household(household_type="exited", exit_year=2019, exited_class="enjoying")
    req = funds.fund_request(
        actor=users["village_clerk"], fund=f, household=hh, amount=amount, reason="家庭成员住院", **kwargs
    )
    if approve is not None:
        funds.fund_decide(
            actor=users["town_leader"], request=req, approve=approve, note="" if approve else "不符合"
        )
    return req


def paid_entry(users, f, **kwargs):
    from fangfan.assistance import funds

    req = fund_request(users, f, approve=True, **kwargs)
    return funds.fund_pay(actor=users["town_station"], request=req, day=timezone.localdate(), voucher="付001")


def product(users, hh=None, *, available="100", who: str = "village_clerk"):
    from fangfan.assistance import consumption

    return consumption.product_add(
        actor=users[who],
        household=hh or household(),
        category="tea",
        name="舒城小兰花",
        unit="斤",
        available=available,
        season="4—5月",
    )


def matrix_fund(users):
    from conftest import TOWN

    f = fund(users["town_station"], balance="1000")
    return {"pk": f.pk}, TOWN, ""


def matrix_fund_request(users):
    f = fund(users["town_station"], balance="1000")
    return {"pk": fund_request(users, f).pk}, VILLAGE, ""


def matrix_fund_entry(users):
    f = fund(users["town_station"], balance="1000")
    return {"pk": paid_entry(users, f).pk}, VILLAGE, ""


def matrix_product(users):
    return {"pk": product(users).pk}, VILLAGE, ""


MATRIX_OBJECT_URLS.update(
    {
        "assistance:fund_ledger": matrix_fund,
        "assistance:fund_export": matrix_fund,
        "assistance:fund_receive": matrix_fund,
        "assistance:fund_decide": matrix_fund_request,
        "assistance:fund_pay": matrix_fund_request,
        "assistance:fund_reverse": matrix_fund_entry,
        "assistance:fund_request_add": matrix_household,
        "assistance:product_add": matrix_household,
        "assistance:sale_add": matrix_product,
    }
)
