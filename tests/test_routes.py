"""The route decision and the situation reader are pure functions: table tests."""
from __future__ import annotations

import pytest

from bot.advisor.routes import bottlenecks_for, decide_routes
from bot.advisor.situation import merge, read_profile
from bot.advisor.types import Profile
from bot.cards import Card, CardError, card_from_front_matter


def card(id: str, **fields) -> Card:
    base = dict(id=id, kind="program", title=id.upper(), source_url="u", last_verified="2026-10-01",
                confidence="high", status="open", eligible=("any",), regions=("any",), apply="apply")
    base.update(fields)
    return Card(**base)


CARDS = {c.id: c for c in [
    card("cyber", domains=("cyber",), grants=("fewer-safeguards",), addresses=("safeguards",),
         aliases=("CVP",)),
    card("credits", domains=("any",), grants=("credits",), addresses=("costs-rate-limits",),
         eligible=("academic", "nonprofit")),
    card("ndif", domains=("interpretability",), grants=("internals", "open-weights"),
         addresses=("elicitation",)),
    card("ft", domains=("any",), grants=("fine-tuning",), addresses=("elicitation",),
         status="closed", status_note="no new jobs from 2027-01-06", alternative=("ndif",)),
    card("eu", kind="policy", domains=("any",), grants=("fewer-safeguards", "pre-deployment"),
         addresses=("safeguards",), eligible=("evaluator",), regions=("eu",)),
    card("safeguards", kind="bottleneck", rank=3),
]}


@pytest.mark.parametrize("profile, expected", [
    (Profile(domains=("cyber",), needs=("fewer-safeguards",), bottlenecks=("safeguards",)), ["cyber"]),
    (Profile(kinds=("academic",), needs=("credits",), bottlenecks=("costs-rate-limits",)), ["credits"]),
    (Profile(kinds=("academic",), domains=("interpretability",), needs=("internals",)), ["ndif"]),
    (Profile(kinds=("evaluator",), needs=("fewer-safeguards", "pre-deployment"),
             regions=("eu",)), ["eu"]),  # no cyber work said: the cyber program stays out
    (Profile(kinds=("journalist",), needs=("credits",)), []),
    (Profile(), []),
])
def test_routes_fit_the_profile(profile, expected):
    fits, _ = decide_routes(profile, CARDS, {})
    assert [r.card_id for r in fits] == expected


def test_every_fitting_route_says_why():
    fits, _ = decide_routes(Profile(domains=("cyber",), needs=("fewer-safeguards",)), CARDS, {})
    assert "reduced safeguards" in fits[0].why and "cyber work" in fits[0].why
    assert fits[0].apply == "apply"


def test_a_domain_specific_route_is_ruled_out_for_other_work_with_the_reason():
    profile = Profile(domains=("bio",), needs=("fewer-safeguards",), mentioned=())
    fits, ruled = decide_routes(profile, CARDS, {"cyber": 1.0})
    assert "cyber" not in [r.card_id for r in fits]
    assert any(r.card_id == "cyber" and "only covers cyber work" in r.why for r in ruled)


def test_a_closed_route_is_explained_with_its_alternative_not_offered():
    fits, ruled = decide_routes(Profile(needs=("fine-tuning",), mentioned=("ft",)), CARDS, {})
    assert "ft" not in [r.card_id for r in fits]
    closed = next(r for r in ruled if r.card_id == "ft")
    assert "closed" in closed.why and "2027-01-06" in closed.why and "NDIF" in closed.why


def test_ineligible_asker_is_told_who_the_program_is_for():
    fits, ruled = decide_routes(Profile(kinds=("company",), needs=("credits",),
                                        mentioned=("credits",)), CARDS, {})
    assert not fits
    assert "only open to academics and nonprofits" in ruled[0].why


def test_retrieval_evidence_alone_never_makes_a_route_fit():
    fits, _ = decide_routes(Profile(), CARDS, {c: 1.0 for c in CARDS})
    assert fits == []


def test_bottlenecks_come_from_the_question_or_the_top_route():
    assert bottlenecks_for(Profile(bottlenecks=("elicitation", "safeguards")), [], CARDS) == \
        ["safeguards", "elicitation"]
    fits, _ = decide_routes(Profile(domains=("cyber",), needs=("fewer-safeguards",)), CARDS, {})
    assert bottlenecks_for(Profile(domains=("cyber",)), fits, CARDS) == ["safeguards"]


@pytest.mark.parametrize("text, field, value", [
    ("Fable's cyber safeguards keep refusing our AI control experiments", "needs", "fewer-safeguards"),
    ("Fable's cyber safeguards keep refusing our AI control experiments", "domains", "cyber"),
    ("we're a 4 person eval org in Berlin", "kinds", "evaluator"),
    ("we're a 4 person eval org in Berlin", "regions", "eu"),
    ("PhD student at a university in London", "kinds", "academic"),
    ("PhD student at a university in London", "regions", "uk"),
    ("we need activations and gradients from a 70B model", "needs", "internals"),
    ("can we still finetune o4-mini with RFT?", "needs", "fine-tuning"),
    ("prefill stopped working on Opus 4.6", "needs", "prefill"),
    ("API costs are eating our grant", "bottlenecks", "costs-rate-limits"),
    ("Mythos isn't available to us at all", "bottlenecks", "non-release"),
    ("I'm an independent researcher", "kinds", "independent"),
    ("I write for a newspaper", "kinds", "journalist"),
])
def test_situation_reader(text, field, value):
    assert value in getattr(read_profile(text), field)


@pytest.mark.parametrize("text", ["Fable keeps refusing us", "thanks, that helps us a lot"])
def test_the_word_us_is_not_the_united_states(text):
    assert "us" not in read_profile(text).regions


def test_named_programs_are_recognised_by_alias():
    assert read_profile("how long does the CVP take?", CARDS.values()).mentioned == ("cyber",)


def test_follow_up_keeps_earlier_context_and_overrides_region():
    first = read_profile("we're a nonprofit in the US doing cyber evals, refusals block us")
    later = read_profile("and if we're in the EU?")
    merged = merge(first, later)
    assert merged.regions == ("eu",) and "cyber" in merged.domains and "nonprofit" in merged.kinds


def test_card_schema_lists_every_problem_at_once():
    with pytest.raises(CardError) as err:
        card_from_front_matter({"id": "Bad Id", "kind": "program", "title": "x",
                                "source_url": "u", "last_verified": "yesterday",
                                "confidence": "sure", "grants": ["magic"]})
    message = str(err.value)
    for fragment in ("id 'Bad Id'", "last_verified", "confidence 'sure'", "'grants' has unknown value",
                     "program cards need 'status'"):
        assert fragment in message
