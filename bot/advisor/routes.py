"""The route decision: which programs fit the asker, each with a reason, and which were
ruled out and why. A pure function over a Profile, the cards and retrieval evidence.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.advisor.situation import card_providers
from bot.advisor.types import Profile, RouteDecision
from bot.cards import BOTTLENECKS, Card

ACCESS_LABELS = {
    "credits": "API credits", "rate-limits": "higher rate limits", "fine-tuning": "fine-tuning",
    "internals": "access to model internals", "prefill": "prefill",
    "fewer-safeguards": "reduced safeguards for verified work",
    "pre-deployment": "pre-deployment access", "unreleased": "access to unreleased models",
    "retired-models": "access to retired models", "open-weights": "open weights",
    "compute": "compute",
}
DOMAIN_LABELS = {
    "cyber": "cyber", "bio": "biology", "ai-rnd": "AI R&D", "interpretability": "interpretability",
    "alignment": "alignment", "policy": "policy and strategy",
}
KIND_LABELS = {
    "academic": "academics", "independent": "independent researchers", "nonprofit": "nonprofits",
    "evaluator": "evaluators", "company": "companies", "government": "government bodies",
    "journalist": "journalists",
}
BOTTLENECK_LABELS = {
    "non-release": "non-release", "deployment-lag": "deployment lag", "safeguards": "safeguards",
    "costs-rate-limits": "costs and rate limits", "elicitation": "elicitation (fine-tuning, internals)",
}
PROVIDER_LABELS = {"openai": "OpenAI", "anthropic": "Anthropic", "google": "Google",
                   "meta": "Meta"}
FIT_THRESHOLD = 2.5
MAX_ROUTES = 3
MAX_RULED_OUT = 2
ROUTE_MARGIN = 2.0
NOTE_CHARS = 120  # longer status notes stay on the card; the answer cites it  # routes scoring this far below the best one are left out


@dataclass
class _Tally:
    score: float = 0.0
    signal: bool = False  # matched something the asker said, not just retrieval evidence
    reasons: list[str] | None = None
    against: str = ""

    def add(self, points: float, reason: str = "", signal: bool = True) -> None:
        self.score += points
        self.signal = self.signal or signal
        if reason:
            (self.reasons if self.reasons is not None else []).append(reason)


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _narrowness(allowed: tuple[str, ...]) -> float:
    """How much an unknown field or kind of asker counts against a restricted program:
    a program for one group is a long shot, one for three or more groups barely restricted."""
    return {1: 1.5, 2: 0.75}.get(len(allowed), 0.0)


def _closed_note(card: Card, cards: Mapping[str, Card], detail: bool = True) -> str:
    alternatives = [cards[a].title for a in card.alternative if a in cards]
    note = f"it is {card.status.replace('-', ' ')}"
    if detail and card.status_note and len(card.status_note) <= NOTE_CHARS:
        note += f" ({card.status_note.rstrip('.')})"
    if alternatives:
        note += f"; try {_join(alternatives)} instead"
    return note


def score_route(card: Card, profile: Profile, evidence: float,
                cards: Mapping[str, Card]) -> RouteDecision:
    """Score one route card against the profile; `evidence` is its retrieval strength 0..1."""
    tally = _Tally(reasons=[])
    if card.id in profile.mentioned:
        tally.add(3.0, "you asked about it")
    replaced = [cards[m].title for m in profile.mentioned if m in cards and card.id in
                cards[m].alternative and cards[m].status in ("closed", "unavailable", "winding-down")]
    if replaced:
        tally.add(1.5, f"it is an alternative to {_join(replaced)}")
    granted = [g for g in card.grants if g in profile.needs]
    if granted:
        tally.add(2.0 * len(granted), f"it offers {_join([ACCESS_LABELS[g] for g in granted])}")
    eased = [b for b in card.addresses if b in profile.bottlenecks]
    if eased:
        tally.add(1.0, f"it eases the {_join([BOTTLENECK_LABELS[b] for b in eased])} bottleneck")
    specific = [d for d in card.domains if d != "any"]
    if specific and profile.domains:
        shared = [d for d in specific if d in profile.domains]
        if shared:
            tally.add(1.5, f"it is meant for {_join([DOMAIN_LABELS[d] for d in shared])} work")
        elif card.id not in profile.mentioned:
            tally.against = (f"it only covers {_join([DOMAIN_LABELS[d] for d in specific])} work, "
                             f"and you described {_join([DOMAIN_LABELS[d] for d in profile.domains])}")
    elif specific:  # the asker did not say their field: a narrow program is a long shot
        tally.add(-_narrowness(specific), f"if your work is {_join([DOMAIN_LABELS[d] for d in specific])}",
                  signal=False)
    if card.eligible and "any" not in card.eligible:
        groups = _join([KIND_LABELS[k] for k in card.eligible])
        if not profile.kinds:
            tally.add(-_narrowness(card.eligible), f"it is only open to {groups}", signal=False)
        elif any(k in card.eligible for k in profile.kinds):
            tally.add(0.5, "you are among the eligible groups", signal=False)
        elif not tally.against:
            tally.against = f"it is only open to {groups}"
    regional = [r for r in card.regions if r != "any"]
    if regional and profile.regions:
        shared_regions = [r for r in regional if r in profile.regions]
        if shared_regions:
            tally.add(1.0, f"it applies in the {_join([r.upper() for r in shared_regions])}",
                      signal=False)
        elif "any" not in card.regions:
            tally.add(-1.0, signal=False)
    labs = card_providers(card)
    if labs and profile.providers:
        if any(lab in profile.providers for lab in labs):
            tally.add(1.0, signal=False)
        elif card.id not in profile.mentioned:
            tally.add(-2.0, f"it is for {_join([PROVIDER_LABELS.get(l, l) for l in labs])} models",
                      signal=False)
    tally.add(2.0 * evidence, signal=False)
    if card.is_closed:
        tally.against = _closed_note(card, cards)
    elif card.status == "winding-down":
        tally.add(-2.0, f"note: {_closed_note(card, cards, detail=False)}", signal=False)
    elif card.status == "invite-only":
        tally.add(-1.0, "it is invite-only", signal=False)
    if card.confidence == "low":
        tally.reasons.append("unconfirmed: the sources on it are weak, check before relying on it")
    fits = not tally.against and tally.signal and tally.score >= FIT_THRESHOLD
    why = tally.against if tally.against else "; ".join(tally.reasons) or "related passages mention it"
    return RouteDecision(card_id=card.id, name=card.title, score=round(tally.score, 3),
                         why=_sentence(why), apply=card.apply, fits=fits, status=card.status)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def decide_routes(profile: Profile, cards: Mapping[str, Card],
                  evidence: Mapping[str, float]) -> tuple[list[RouteDecision], list[RouteDecision]]:
    """Ranked fitting routes (at most MAX_ROUTES) and the relevant ones ruled out, with reasons."""
    decisions = [score_route(c, profile, evidence.get(c.id, 0.0), cards)
                 for c in cards.values() if c.is_route]
    decisions.sort(key=lambda d: (-d.score, d.card_id))
    fits = [d for d in decisions if d.fits]
    fits = [d for d in fits if d.score >= fits[0].score - ROUTE_MARGIN][:MAX_ROUTES]
    ruled_out = [d for d in decisions if not d.fits and d.why and
                 (d.card_id in profile.mentioned or (d.score >= FIT_THRESHOLD and
                                                     cards[d.card_id].is_closed)
                  or (d.score >= FIT_THRESHOLD and ("only covers" in d.why
                                                     or "only open to" in d.why)))][:MAX_RULED_OUT]
    return fits, ruled_out


def conditional_routes(profile: Profile, cards: Mapping[str, Card],
                       evidence: Mapping[str, float]) -> list[tuple[str, RouteDecision]]:
    """Routes that would fit if the asker's field or kind of organisation, which the
    question leaves open, matched the program: (condition, decision) pairs, best first."""
    found: list[tuple[str, RouteDecision]] = []
    for card in cards.values():
        if not card.is_route or card.is_closed:
            continue
        conditions, domains, kinds = [], profile.domains, profile.kinds
        specific = tuple(d for d in card.domains if d != "any")
        if not domains and specific:
            domains = specific
            conditions.append(f"{_join([DOMAIN_LABELS[d] for d in specific])} work")
        eligible = tuple(k for k in card.eligible if k != "any")
        if not kinds and eligible and "any" not in card.eligible:
            kinds = eligible
            conditions.append(f"for {_join([KIND_LABELS[k] for k in eligible])}")
        if not conditions:
            continue
        trial = Profile(kinds=kinds, domains=domains, needs=profile.needs, regions=profile.regions,
                        bottlenecks=profile.bottlenecks, mentioned=profile.mentioned)
        decision = score_route(card, trial, evidence.get(card.id, 0.0), cards)
        if decision.fits:
            found.append((", ".join(conditions), decision))
    found.sort(key=lambda pair: (-pair[1].score, pair[1].card_id))
    per_condition: dict[str, int] = {}
    varied = [pair for pair in found  # at most two per condition, so the options differ
              if per_condition.setdefault(pair[0], 0) < 2 and not per_condition.update(
                  {pair[0]: per_condition[pair[0]] + 1})]
    return varied[:5]


def bottlenecks_for(profile: Profile, routes: list[RouteDecision],
                    cards: Mapping[str, Card]) -> list[str]:
    """The mechanisms of the access gap this asker is hitting, most severe first."""
    named = list(profile.bottlenecks)
    if not named:
        for route in routes[:1]:
            named.extend(cards[route.card_id].addresses)
    return [b for b in BOTTLENECKS if b in named]
