"""`accessbot eval`: how well the advisor answers the researcher questions in eval/.

Each case names the routes that should be offered, the bottlenecks, a card that must be
cited, or `decline: true`. Scores are fractions in [0, 1]; thresholds (eval/thresholds.yaml)
sit just under what was measured, so a regression fails CI.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.advisor import Advisor, Answer, Question, Turn

METRICS = ("recall_at_5", "mrr", "route_precision", "route_recall", "bottleneck_accuracy",
           "citation_accuracy", "decline_accuracy")


@dataclass(frozen=True)
class Case:
    id: str
    question: str
    history: tuple[str, ...] = ()
    routes: tuple[str, ...] = ()
    bottlenecks: tuple[str, ...] | None = None
    cite: tuple[str, ...] = ()
    decline: bool = False


@dataclass
class CaseResult:
    case: Case
    answer: Answer
    retrieved: list[str]
    failures: list[str] = field(default_factory=list)


def load_cases(path: Path) -> list[Case]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    cases = []
    for item in raw:
        def many(key: str) -> tuple[str, ...]:
            value = item.get(key) or ()
            return (value,) if isinstance(value, str) else tuple(value)
        cases.append(Case(
            id=str(item["id"]), question=str(item["question"]), history=many("history"),
            routes=many("routes"),
            bottlenecks=tuple(item["bottlenecks"]) if item.get("bottlenecks") is not None else None,
            cite=many("cite"), decline=bool(item.get("decline", False)),
        ))
    return cases


def _ask(advisor: Advisor, case: Case) -> tuple[Answer, list[str]]:
    history: list[Turn] = []
    for earlier in case.history:
        history.append(Turn(earlier, advisor.answer(Question(earlier, tuple(history))).text))
    question = Question(case.question, tuple(history))
    answer = advisor.answer(question)
    query, _ = advisor.read(question, advisor.snapshot)
    ranked = list(dict.fromkeys(p.doc_id for p in advisor.snapshot.search(query, k=10)))
    return answer, ranked


def run_case(advisor: Advisor, case: Case) -> CaseResult:
    answer, ranked = _ask(advisor, case)
    result = CaseResult(case, answer, ranked)
    if case.decline != (not answer.grounded):
        result.failures.append("declined" if not answer.grounded else "should have declined")
    got_routes = {r.card_id for r in answer.routes}
    if set(case.routes) - got_routes:
        result.failures.append(f"missing routes {sorted(set(case.routes) - got_routes)}")
    if case.cite and not set(case.cite) & {c.card_id for c in answer.citations}:
        result.failures.append(f"did not cite {list(case.cite)}")
    if case.bottlenecks is not None and set(case.bottlenecks) != set(answer.bottlenecks):
        result.failures.append(f"bottlenecks {answer.bottlenecks} != {list(case.bottlenecks)}")
    return result


def score(results: Iterable[CaseResult]) -> dict[str, float]:
    results = list(results)
    grounded = [r for r in results if not r.case.decline]
    with_cite = [r for r in grounded if r.case.cite]
    recall = [any(c in r.retrieved[:5] for c in r.case.cite) for r in with_cite]
    mrr = []
    for r in with_cite:
        ranks = [r.retrieved.index(c) + 1 for c in r.case.cite if c in r.retrieved]
        mrr.append(1.0 / min(ranks) if ranks else 0.0)
    offered = [(set(r.case.routes), {x.card_id for x in r.answer.routes}) for r in grounded]
    tp = sum(len(want & got) for want, got in offered)
    n_got = sum(len(got) for _, got in offered)
    n_want = sum(len(want) for want, _ in offered)
    with_b = [r for r in grounded if r.case.bottlenecks is not None]

    def mean(values: list[Any]) -> float:
        return round(sum(values) / len(values), 3) if values else 1.0

    return {
        "recall_at_5": mean(recall),
        "mrr": mean(mrr),
        "route_precision": round(tp / n_got, 3) if n_got else 1.0,
        "route_recall": round(tp / n_want, 3) if n_want else 1.0,
        "bottleneck_accuracy": mean([set(r.case.bottlenecks) == set(r.answer.bottlenecks)
                                     for r in with_b]),
        "citation_accuracy": mean([bool(set(r.case.cite) & {c.card_id for c in r.answer.citations})
                                   for r in with_cite]),
        "decline_accuracy": mean([r.case.decline == (not r.answer.grounded) for r in results]),
    }


def load_thresholds(path: Path) -> dict[str, float]:
    if not path.exists():
        return {}
    return {k: float(v) for k, v in (yaml.safe_load(path.read_text()) or {}).items()}


def below(scores: dict[str, float], thresholds: dict[str, float]) -> list[str]:
    return [f"{m} {scores[m]:.3f} < {thresholds[m]:.3f}" for m in METRICS
            if m in thresholds and scores[m] < thresholds[m]]


def report_lines(scores: dict[str, float], thresholds: dict[str, float],
                 results: list[CaseResult], verbose: bool) -> list[str]:
    lines = [f"{'metric':<22}{'score':>8}{'threshold':>11}"]
    for metric in METRICS:
        floor = thresholds.get(metric)
        lines.append(f"{metric:<22}{scores[metric]:>8.3f}{floor if floor is not None else '-':>11}")
    failing = [r for r in results if r.failures]
    lines.append(f"cases: {len(results)}, with a problem: {len(failing)}")
    if verbose:
        lines += [f"  {r.case.id}: {'; '.join(r.failures)}  <- {r.case.question[:70]!r}"
                  for r in failing]
    return lines


def ingest_gate(settings: Any, embeddings: Any, cases_path: Path, thresholds_path: Path):
    """A gate for run_ingest: score the unpublished version; problems block publishing."""
    from bot.advisor.advisor import Advisor

    def gate(collection: Any, version: int) -> list[str]:
        advisor = Advisor.pinned(settings, embeddings, collection, version)
        results = [run_case(advisor, case) for case in load_cases(cases_path)]
        failed = below(score(results), load_thresholds(thresholds_path))
        if failed:
            regressed = [f"{r.case.id}: {'; '.join(r.failures)}" for r in results if r.failures]
            failed += [f"failing question {line}" for line in regressed[:10]]
        return failed

    return gate
