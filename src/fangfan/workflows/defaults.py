"""The processes the system ships with (version 1 of each), written by migration ``0002_default_processes``.

Each step: (name, role, level, limit in days, data schema, attachment kinds[, enabled]). Sources: DOMAIN.md §5
(identification: 入户核查 3 days, 信息比对 5 days, 公示 ≥ 5 days, clue to decision ≤ 15 days), the plan's M2
(marginal households), M6 (elimination chains) and M7 (classes of exited households). A province or county that
works otherwise adds a version; open cases keep theirs.
"""

from __future__ import annotations

V, T, C, P = "village", "town", "county", "province"

PROCESSES: list[dict] = [
    {
        "code": "identify",
        "name": "纳入监测",
        "limit_days": 15,
        "steps": [
            ("入户核查", "village_clerk", V, 3, "入户核查", []),
            ("承诺授权", "village_clerk", V, 2, "承诺授权", ["consent"]),
            ("信息比对", "town_station", T, 5, "", []),
            ("民主评议", "village_clerk", V, 2, "民主评议", []),
            ("村内公示", "village_clerk", V, 7, "村内公示", []),
            ("乡镇审核", "town_station", T, 3, "", []),
            ("县级审定", "county_review", C, 3, "", []),
        ],
    },
    {
        "code": "identify_edge",
        "name": "边缘户核查认定",
        "limit_days": 15,
        "steps": [
            ('村"两委"+工作队研究', "village_clerk", V, 5, "民主评议", []),
            ("镇领导小组审核", "town_leader", T, 5, "", []),
            ("确认", "town_station", T, 3, "", []),
            ("镇扶贫工作站报市级备案", "county_review", C, 5, "", []),
        ],
    },
    {
        "code": "reclassify",
        "name": "脱贫户分类调整",
        "limit_days": 15,
        "steps": [
            ("村级核实上报", "village_clerk", V, 5, "入户核查", []),
            ("镇审核", "town_station", T, 5, "", []),
            # Where the county reviews too: a new version with this step enabled.
            ("县级审核", "county_review", C, 5, "", [], False),
        ],
    },
    {
        "code": "eliminate_unstable",
        "name": "风险消除（脱贫不稳定户）",
        "limit_days": 30,
        "steps": [
            ("村级填报", "village_clerk", V, 10, "村级填报", []),
            ("镇审查", "town_station", T, 5, "", []),
            ("市县审核", "county_review", C, 10, "", []),
            ("省级备案", "province_record", P, 5, "", []),
        ],
    },
    {
        "code": "eliminate_edge",
        "name": "风险消除（边缘易致贫户、突发严重困难户）",
        "limit_days": 20,
        "steps": [
            ("镇审查并汇总填报", "town_station", T, 10, "村级填报", []),
            ("市县审核", "county_review", C, 10, "", []),
        ],
    },
    {
        "code": "revert",
        "name": "风险消除回退",
        "limit_days": 15,
        "steps": [
            ("村级核实上报", "village_clerk", V, 5, "入户核查", []),
            ("镇审核", "town_station", T, 5, "", []),
            ("县级审定", "county_review", C, 5, "", []),
        ],
    },
]


def install(Process, Step) -> None:  # noqa: N803 - the migration's historical models
    """Write version 1 of every process that has none yet (idempotent)."""
    for spec in PROCESSES:
        if Process.objects.filter(code=spec["code"]).exists():
            continue
        process = Process.objects.create(
            code=spec["code"], version=1, name=spec["name"], limit_days=spec["limit_days"], active=True
        )
        for order, step in enumerate(spec["steps"], start=1):
            name, role, level, days, schema, kinds, *rest = step
            Step.objects.create(
                process=process,
                order=order,
                name=name,
                role=role,
                level=level,
                limit_days=days,
                data_schema=schema,
                attachment_kinds=kinds,
                enabled=rest[0] if rest else True,
            )
