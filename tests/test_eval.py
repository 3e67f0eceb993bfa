"""The eval set in eval/ against the real knowledge base: CI fails when a score drops
below its threshold. The figures are printed so every CI log shows them."""
from __future__ import annotations

import pytest

from bot import evaluation
from tests.conftest import ROOT

CASES = ROOT / "eval" / "questions.yaml"
THRESHOLDS = ROOT / "eval" / "thresholds.yaml"


def test_eval_set_is_big_and_varied_enough():
    cases = evaluation.load_cases(CASES)
    assert len(cases) >= 80
    assert sum(c.decline for c in cases) >= 10
    assert sum(bool(c.history) for c in cases) >= 5


@pytest.mark.slow
def test_scores_stay_above_thresholds(advisor, capsys):
    results = [evaluation.run_case(advisor, case) for case in evaluation.load_cases(CASES)]
    scores = evaluation.score(results)
    thresholds = evaluation.load_thresholds(THRESHOLDS)
    with capsys.disabled():
        print("\n" + "\n".join(evaluation.report_lines(scores, thresholds, results, verbose=True)))
    assert set(thresholds) == set(evaluation.METRICS)
    assert evaluation.below(scores, thresholds) == []
