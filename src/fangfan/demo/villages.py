"""The demo's first stage: the villages households go to — the region fixture's, plus made-up villages and towns
of the county when more households are asked for than the fixture's villages hold at a realistic size."""

from __future__ import annotations

import csv
import random
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fangfan.regions.codes import Level, level_of, parent_of
from fangfan.regions.models import Region
from fangfan.regions.services import regions_import

from . import names

if TYPE_CHECKING:
    from fangfan.accounts.models import User

COUNTY_CODE = "341523000000"
FIXTURE_TOWNS = ("341523104000", "341523105000")  # 桃溪镇, 千人桥镇
HOUSEHOLDS_PER_VILLAGE = 800
VILLAGES_PER_TOWN = 20


@dataclass
class _Village:
    code: str
    name: str
    town_code: str
    weight: float
    surnames: list[str] = field(default_factory=list)


def _plan_villages(households: int, rng: random.Random, actor: User) -> list[_Village]:
    """The villages households go to: the fixture's, plus made-up ones (…村) in the fixture's towns and in
    made-up towns of the county when the fixture's villages would hold more than a realistic village does."""
    fixture = list(
        Region.objects.filter(level=Level.VILLAGE, parent_id__in=FIXTURE_TOWNS)
        .order_by("code")
        .values_list("code", "name")
    )
    needed = -(-households // HOUSEHOLDS_PER_VILLAGE)
    existing_names = set(Region.objects.values_list("name", flat=True))
    new_rows: list[tuple[str, str]] = []
    chosen = list(fixture)
    if needed > len(fixture):
        village_names = [
            f"{a}{b}村"
            for a in names.VILLAGE_FIRST
            for b in names.VILLAGE_SECOND
            if a != b and f"{a}{b}村" not in existing_names
        ]
        rng.shuffle(village_names)
        town_names = [n for n in names.EXTRA_TOWNS if n not in existing_names]
        used_codes = set(Region.objects.values_list("code", flat=True))

        def add_villages(town_code: str, count: int) -> None:
            number = 201
            while count > 0 and number <= 299 and village_names and len(chosen) < needed:
                code = town_code[:9] + f"{number:03d}"
                number += 1
                if code in used_codes:
                    continue
                name = village_names.pop()
                new_rows.append((code, name))
                chosen.append((code, name))
                used_codes.add(code)
                count -= 1

        for town in FIXTURE_TOWNS:
            have = sum(1 for code, _ in fixture if code.startswith(town[:9]))
            add_villages(town, VILLAGES_PER_TOWN - have)
        numbers = {"镇": iter(range(100, 200)), "乡": iter(range(200, 300))}
        while len(chosen) < needed and town_names:
            name = town_names.pop(0)
            town_code = next(
                (c for n in numbers[name[-1]] if (c := f"{COUNTY_CODE[:6]}{n:03d}000") not in used_codes),
                None,
            )
            if town_code is None:
                continue
            new_rows.append((town_code, name))
            used_codes.add(town_code)
            add_villages(town_code, VILLAGES_PER_TOWN + rng.randint(-4, 4))
        if new_rows:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "demo_extra_regions.csv"
                with path.open("w", newline="", encoding="utf-8") as fh:
                    writer = csv.writer(fh)
                    writer.writerow(["区划代码", "名称"])
                    writer.writerows(new_rows)
                regions_import(path=path, actor=actor, display_name="演示数据扩展区划")
    surnames, weights = zip(*names.SURNAMES, strict=True)
    villages = []
    for code, name in chosen:
        town = parent_of(code)
        assert town is not None and level_of(town) == Level.TOWN
        weight = 0.4 if name.endswith("社区") else rng.uniform(0.7, 1.3)
        clans = []
        while len(clans) < 3:
            s = rng.choices(surnames, weights)[0]
            if s not in clans:
                clans.append(s)
        villages.append(_Village(code=code, name=name, town_code=town, weight=weight, surnames=clans))
    return villages


def _split(total: int, weights: list[float]) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainder), summing exactly to ``total``."""
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    counts = [int(s) for s in shares]
    order = sorted(range(len(weights)), key=lambda i: shares[i] - counts[i], reverse=True)
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts
