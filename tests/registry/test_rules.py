"""registry.rules: the household and member rules every writer applies (importer, forms, services), as pure
functions. The writers' own tests check each applies them (test_import_errors, test_views_edit, test_services)."""

from __future__ import annotations

import pytest

from fangfan.registry import rules
from fangfan.registry.rules import RuleProblem, household_cleared, household_problems


@pytest.mark.parametrize(
    ("values", "problems"),
    [
        ({"household_type": ""}, [("household_type", "必填，应为 一般农户 或 脱贫户")]),
        ({"household_type": "exited", "exit_year": 2016}, []),
        ({"household_type": "exited", "exit_year": None}, [("exit_year", "脱贫户须填写脱贫年度")]),
        # A 脱贫户 must have its year even when the writer does not know the field (a file without the column).
        ({"household_type": "exited"}, [("exit_year", "脱贫户须填写脱贫年度")]),
        (
            {"household_type": "general", "exit_year": 2016, "exited_class": "enjoying"},
            [("exit_year", "一般农户不填写脱贫年度"), ("exited_class", "只有脱贫户才填写脱贫户分类")],
        ),
        ({"household_type": "general", "exit_year": None, "exited_class": ""}, []),
        # Fields the writer does not know are not checked.
        ({"household_type": "general"}, []),
        (
            {"monitoring_state": "monitoring", "monitoring_type": ""},
            [("monitoring_state", "填写监测状态时须填写监测对象类型")],
        ),
        ({"monitoring_state": "monitoring"}, []),
        (
            {"identified_month": "202405", "eliminated_month": "202403"},
            [("eliminated_month", "风险消除时间早于识别监测时间")],
        ),
        ({"identified_month": "202405", "eliminated_month": ""}, []),
        ({"identified_month": "202405", "eliminated_month": "202405"}, []),
    ],
)
def test_household_problems(values, problems):
    assert household_problems(values) == [RuleProblem(f, m) for f, m in problems]


def test_a_general_household_clears_the_exited_fields_the_writer_did_not_give():
    stored = {"household_type": "general", "exit_year": 2016, "exited_class": "enjoying"}
    assert household_cleared(stored, given={"household_type", "exit_year"}) == {"exited_class": ""}
    assert household_cleared(stored, given={"household_type"}) == {"exit_year": None, "exited_class": ""}
    assert household_cleared({**stored, "household_type": "exited"}, given={"household_type"}) == {}
    assert (
        household_cleared({"household_type": "general", "exit_year": None, "exited_class": ""}, given=())
        == {}
    )


def test_one_head_per_household():
    assert rules.heads_problem(1) is None
    assert rules.heads_problem(0) == "该户没有户主"
    assert rules.heads_problem(2) == "每户只能有一个户主"
