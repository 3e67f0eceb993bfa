"""`accessbot report`: what researchers are blocked on, and where the knowledge base falls short.

Built from the question log (bot/records.py) alone, so it runs without the index or the
embedding model. The numbers are pure functions over log entries; rendering to text,
JSON, HTML (bot/report_html.py) and draft eval cases happens at the edges.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bot.cards import BOTTLENECKS
from bot.records import CardSeen, Entry, QuestionLog, open_log, split_user, utc_now
from bot.settings import Settings

SITUATION = ("kinds", "domains", "needs", "regions")


@dataclass(frozen=True)
class Period:
    since: dt.datetime
    until: dt.datetime

    @property
    def days(self) -> int:
        return max(1, round((self.until - self.since) / dt.timedelta(days=1)))


@dataclass
class Week:
    start: dt.date  # the Monday
    questions: int = 0
    declined: int = 0
    not_helpful: int = 0
    bottlenecks: dict[str, int] = field(default_factory=dict)


@dataclass
class Gap:
    answer_id: str
    at: str
    platform: str
    why: str  # "declined" or "not helpful"
    text: str | None  # None when the policy did not keep it
    routes: list[str]
    bottlenecks: list[str]
    cited: list[str]
    helpful: int
    not_helpful: int


@dataclass
class StaleCard:
    card_id: str
    title: str
    last_verified: str
    citations: int


@dataclass
class Report:
    since: str
    until: str
    questions: int
    declined: int
    clarifying: int
    helpful: int
    not_helpful: int
    unlinked_helpful: int
    unlinked_not_helpful: int
    bottlenecks: list[tuple[str, int]]
    routes: list[tuple[str, int]]
    situation: dict[str, list[tuple[str, int]]]
    weeks: list[Week]
    gaps: list[Gap]
    stale_cards: list[StaleCard]
    titles: dict[str, str]

    def to_dict(self) -> dict:
        data = asdict(self)
        for key in ("bottlenecks", "routes"):
            data[key] = dict(getattr(self, key))
        data["situation"] = {k: dict(v) for k, v in self.situation.items()}
        data["weeks"] = [{**asdict(w), "start": w.start.isoformat()} for w in self.weeks]
        return data


def period_for(since: dt.date | None, days: int, now: dt.datetime) -> Period:
    """From `since` (a UTC date) or the last `days` days, up to now."""
    if since is not None:
        start = dt.datetime.combine(since, dt.time(), dt.timezone.utc)
        return Period(start, now)
    return Period(now - dt.timedelta(days=days), now)


def ranked(counter: Counter, keep: tuple[str, ...] = ()) -> list[tuple[str, int]]:
    """Most frequent first; names in `keep` are listed even at zero, so a chart always
    shows the five bottlenecks."""
    for name in keep:
        counter.setdefault(name, 0)
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))


def count(entries: list[Entry], attribute: str) -> Counter:
    return Counter(value for e in entries for value in getattr(e, attribute))


def weeks_of(entries: list[Entry], period: Period) -> list[Week]:
    """One row per Monday-started week in the period, empty weeks included."""
    first = period.since.date() - dt.timedelta(days=period.since.weekday())
    weeks: dict[dt.date, Week] = {}
    day = first
    while day <= period.until.date():
        weeks[day] = Week(day)
        day += dt.timedelta(days=7)
    for e in entries:
        monday = e.at.date() - dt.timedelta(days=e.at.weekday())
        week = weeks.setdefault(monday, Week(monday))
        week.questions += 1
        week.declined += not e.grounded
        week.not_helpful += bool(e.grounded and e.not_helpful)
        for b in e.bottlenecks:
            week.bottlenecks[b] = week.bottlenecks.get(b, 0) + 1
    return [weeks[k] for k in sorted(weeks)]


def gaps_of(entries: list[Entry]) -> list[Gap]:
    """Declined and not-helpful questions, newest first: what maintainers should fill."""
    return [Gap(e.answer_id, e.at.isoformat(timespec="minutes"), e.platform, e.gap, e.text,
                list(e.routes), list(e.bottlenecks), list(e.cited), e.helpful, e.not_helpful)
            for e in reversed(entries) if e.gap]


def is_stale(card: CardSeen | None, flagged: bool, today: dt.date, review_age_days: int) -> bool:
    """Stale by the card's latest known verification date; the answer-time flag when the
    date is unreadable."""
    try:
        verified = dt.date.fromisoformat(card.last_verified[:10]) if card else None
    except ValueError:
        verified = None
    return (today - verified).days > review_age_days if verified else flagged


def stale_cards(entries: list[Entry], cards: dict[str, CardSeen], today: dt.date,
                review_age_days: int) -> list[StaleCard]:
    """Stale cards ranked by how often answers in the period cited them."""
    cited = count(entries, "cited")
    flagged = set(count(entries, "stale_cited"))
    return [StaleCard(cid, cards[cid].title if cid in cards else cid,
                      cards[cid].last_verified if cid in cards else "", n)
            for cid, n in ranked(cited)
            if is_stale(cards.get(cid), cid in flagged, today, review_age_days)]


def build_report(entries: list[Entry], cards: dict[str, CardSeen], period: Period,
                 review_age_days: int, unlinked: tuple[int, int] = (0, 0)) -> Report:
    return Report(
        since=period.since.isoformat(timespec="seconds"),
        until=period.until.isoformat(timespec="seconds"),
        questions=len(entries),
        declined=sum(not e.grounded for e in entries),
        clarifying=sum(e.clarifying for e in entries),
        helpful=sum(e.helpful for e in entries),
        not_helpful=sum(e.not_helpful for e in entries),
        unlinked_helpful=unlinked[0], unlinked_not_helpful=unlinked[1],
        bottlenecks=ranked(count(entries, "bottlenecks"), BOTTLENECKS),
        routes=ranked(count(entries, "routes")),
        situation={name: ranked(count(entries, name)) for name in SITUATION},
        weeks=weeks_of(entries, period),
        gaps=gaps_of(entries),
        stale_cards=stale_cards(entries, cards, period.until.date(), review_age_days),
        titles={cid: c.title for cid, c in cards.items()},
    )


def report_from_log(question_log: QuestionLog, period: Period, review_age_days: int) -> Report:
    return build_report(question_log.entries(period.since, period.until), question_log.cards(),
                        period, review_age_days,
                        question_log.unlinked_votes(period.since, period.until))


def text_lines(report: Report) -> list[str]:
    """The terminal version: the same sections as the HTML page, as plain columns."""
    lines = [f"AccessBot gap report {report.since[:10]} to {report.until[:10]}",
             f"questions {report.questions}, declined {report.declined}, asked to clarify "
             f"{report.clarifying}; votes {report.helpful} helpful, {report.not_helpful} not "
             f"helpful (+{report.unlinked_helpful}/{report.unlinked_not_helpful} not linked "
             f"to a question)", ""]
    for title, rows in (("Questions per bottleneck", report.bottlenecks),
                        ("Routes offered", report.routes)):
        lines += [title] + [f"  {name:<40}{n:>6}" for name, n in rows] + [""]
    lines.append("By week (Monday)      questions  declined  not helpful")
    lines += [f"  {w.start.isoformat():<20}{w.questions:>9}{w.declined:>10}{w.not_helpful:>13}"
              for w in report.weeks]
    lines += ["", f"Knowledge gaps (declined or not helpful): {len(report.gaps)}"]
    for g in report.gaps:
        offered = f" routes: {', '.join(g.routes)}" if g.routes else ""
        shown = repr(g.text) if g.text is not None else "(text not kept)"
        lines.append(f"  {g.at[:16]} {g.platform:<8} {g.why:<12} {shown}{offered}")
    lines += ["", "Stale cards cited most"]
    lines += [f"  {c.card_id:<40}{c.citations:>4} citations, last verified {c.last_verified}"
              for c in report.stale_cards] or ["  none"]
    return lines


def run(args: argparse.Namespace, settings: Settings) -> int:
    """The `accessbot report` command; opening the log purges expired question text."""
    question_log = open_log(settings)
    try:
        if args.forget:
            return _forget(question_log, args.forget)
        period = period_for(args.since, args.days, utc_now())
        report = report_from_log(question_log, period, settings.review_age_days)
        if args.export_eval:
            _export(report, args.export_eval)
        if args.html:
            from bot.report_html import render_page

            args.html.write_text(render_page(report, settings.keep_question_text), encoding="utf-8")
            print(f"wrote {args.html}", file=sys.stderr)
        if args.json:
            print(json.dumps(report.to_dict()))
        elif not (args.html or args.export_eval):
            print("\n".join(text_lines(report)))
        return 0
    finally:
        question_log.close()


def _forget(question_log: QuestionLog, user: str) -> int:
    try:
        platform, user_id = split_user(user)
    except ValueError as exc:
        print(f"accessbot report --forget: {exc}", file=sys.stderr)
        return 2
    questions, votes = question_log.forget(platform, user_id)
    print(f"forgot {user}: {questions} questions, {votes} feedback votes deleted")
    return 0


def _export(report: Report, path: Path) -> None:
    from bot.report_eval import draft_cases

    text, written, skipped = draft_cases(report)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {written} draft eval cases to {path}"
          + (f" ({skipped} gaps without kept text skipped)" if skipped else ""), file=sys.stderr)
