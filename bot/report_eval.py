"""`accessbot report --export-eval`: knowledge gaps as draft eval cases.

A declined or not-helpful question is exactly the case the eval set lacks. The drafts use
eval/questions.yaml's format (bot.evaluation.load_cases reads them as they are) with the
expectations left blank for a maintainer to decide from the sources, and what AccessBot
answered under `answered:` (load_cases ignores it) so nobody copies the bot's own answer in.
"""
from __future__ import annotations

import json

import yaml

from bot.report import Gap, Report

HEADER = """\
# Draft eval cases from `accessbot report --export-eval`, questions {since} to {until}.
# Each is a question AccessBot declined or a researcher voted Not helpful. Decide from the
# sources what a good answer must do, fill in routes / bottlenecks / cite (or decline: true),
# then move the case into eval/questions.yaml. `answered:` is what AccessBot gave; blank
# expectations check nothing.
"""
EXPECTATIONS = """\
  routes:        # route card ids a good answer must offer
  bottlenecks:   # exactly the bottlenecks the asker hits (leave blank if ambiguous)
  cite:          # any one of these cards must be cited
  decline:       # true if the knowledge base should not answer this
"""


def draft_case(gap: Gap) -> str:
    """One case as YAML text; json.dumps quoting is valid YAML and survives any text."""
    answered = {"grounded": gap.why != "declined", "routes": gap.routes,
                "bottlenecks": gap.bottlenecks, "cited": gap.cited,
                "votes": {"helpful": gap.helpful, "not_helpful": gap.not_helpful}}
    answered_yaml = yaml.safe_dump({"answered": answered}, sort_keys=False,
                                   default_flow_style=None).rstrip("\n")
    return (f"# {gap.why}, asked {gap.at} on {gap.platform}\n"
            f"- id: gap-{gap.answer_id}\n"
            f"  question: {json.dumps(gap.text, ensure_ascii=False)}\n"
            + "".join(f"  {line}\n" for line in answered_yaml.splitlines())
            + EXPECTATIONS)


def draft_cases(report: Report) -> tuple[str, int, int]:
    """(YAML text, cases written, gaps skipped because their text was not kept)."""
    usable = [g for g in report.gaps if g.text]
    body = "\n".join(draft_case(g) for g in usable)
    header = HEADER.format(since=report.since[:10], until=report.until[:10])
    return header + ("\n" + body if body else "[]\n"), len(usable), len(report.gaps) - len(usable)
