"""Read the asker's situation from the question: who they are, what they work on, what
access they need, where they are, and which mechanism of the access gap blocks them.

Pure functions over text. The lexicons are deliberately plain regular expressions so a
maintainer can see why a question was read the way it was, and extend them.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from bot.advisor.types import Profile
from bot.cards import Card

_KINDS = {
    "academic": r"universit\w*|academi\w*|ph\.?d|professor|postdoc|faculty|grad(uate)? student"
                r"|student|lecturer|phd student|my (lab|supervisor|advisor)|college",
    "independent": r"independent|unaffiliated|solo|on my own|by myself|freelanc\w*|hobbyist"
                   r"|not (at|with|part of) (an?|any) (org|organi[sz]ation|lab|company)",
    "nonprofit": r"non-?profit|charity|ngo|foundation|think[- ]?tank|research (org|institute)",
    "evaluator": r"eval(uation)? (org|team|shop|company|outfit)|evaluators?|third[- ]party"
                 r"|auditor|audit(ing)? (firm|org)|red[- ]?team(ers|ing)? (org|firm|company)"
                 r"|dangerous[- ]capabilit\w* eval\w*|metr\b|apollo research",
    "company": r"start-?up|company|enterprise|corporat\w*|our (firm|business|product)"
               r"|security vendor|consultancy",
    "government": r"government|ministry|agency|regulator|civil serv\w*|aisi|caisi"
                  r"|public sector|department of",
    "journalist": r"journalist|reporter|newspaper|newsroom|magazine|press\b",
}
_DOMAINS = {
    "cyber": r"cyber\w*|pen-?test\w*|penetration test\w*|exploit\w*|malware|vulnerab\w*"
             r"|ctf|offensive (security|tooling)|red[- ]?team\w*|infosec|security research"
             r"|reverse[- ]engineer\w*|fuzz\w*|ransomware|vulns?\b|defensive security"
             r"|security tool\w*|appsec|secops|threat intel\w*|incident response",
    "bio": r"bio\w*|virolog\w*|pathogen\w*|life[- ]science\w*|genom\w*|protein\w*|wet[- ]lab"
           r"|chem\w*",
    "ai-rnd": r"ai r&d|ai r and d|ml research|pre-?train\w*|training runs?|architectur\w*"
              r"|automated (ai )?research|research automation|ml engineering|scaling laws",
    "interpretability": r"interp\w*|mech(anistic)? interp\w*|activation\w*|sae\b|saes\b"
                        r"|sparse autoencoder\w*|circuit\w*|probing|probes?\b|steering"
                        r"|neurons?|residual stream|logit lens",
    "alignment": r"alignment|ai control|control (work|experiments?|evals?|research)|scheming"
                 r"|deceptive|oversight|model organisms?|sandbagging|reward hacking"
                 r"|safety research|misalignment",
    "policy": r"polic(y|ies)|governance|strategy research|macrostrategy|regulat\w*|legislat\w*"
              r"|conceptual research|forecasting|lobby\w*",
}
_NEEDS = {
    "credits": r"credits?|afford\w*|expensive|cost(s|ly)?\b|pric(e|es|ey|ing)|budget|funding"
               r"|free (api|access|tokens)|pay for|grant money|money",
    "rate-limits": r"rate[- ]?limit\w*|throughput|quota\w*|tokens per minute|tpm\b|rpm\b"
                   r"|throttl\w*",
    "fine-tuning": r"fine[- ]?tun\w*|finetun\w*|\brft\b|reinforcement fine|rl training|\brl\b"
                   r"|training jobs?|lora|custom training|train (the|a) model",
    "internals": r"internals|activations?|gradients?|logits?|white[- ]box|model weights"
                 r"|hidden states?|residual stream|steering vectors?|attention heads?",
    "prefill": r"pre-?fill\w*|partial[- ]turn",
    "fewer-safeguards": r"refus\w*|safeguards?|block(ed|s|ing)?\b|classifiers?|helpful[- ]only"
                        r"|rail-?free|jailbreak\w*|false positives?|filter\w*|guardrails?"
                        r"|won'?t (answer|help)|flagged|safety (training|mitigations)"
                        r"|unfiltered|without (the )?safeguards",
    "pre-deployment": r"pre-?deployment|pre-?release|before (it'?s |they )?(public|release\w*|launch)"
                      r"|early (checkpoints?|access)|checkpoints?",
    "unreleased": r"unreleased|not (been )?released|never released|withheld|internal models?"
                  r"|mythos|glasswing|not available to the public|isn'?t (publicly )?available",
    "retired-models": r"retired|deprecated models?|old(er)? models?|sunset\w*|opus 3\b"
                      r"|discontinued|legacy models?",
    "open-weights": r"open[- ]weights?|open[- ]source models?|llama|gemma|self[- ]host\w*",
    "compute": r"\bcompute\b|gpus?\b|clusters?",
}
_REGIONS = {
    "eu": r"\beu\b|european|europe|eu ai act|germany|german|berlin|munich|france|french|paris"
          r"|netherlands|amsterdam|spain|madrid|italy|rome|sweden|stockholm|poland|warsaw"
          r"|austria|vienna|belgium|brussels|ireland|dublin|denmark|copenhagen|finland"
          r"|helsinki|portugal|lisbon|czech|prague|zurich",
    "us": r"(?-i:US|USA)\b|u\.s\.|united states|america\w*|california|san francisco|\bsf\b"
          r"|bay area|new york|boston|washington|seattle|berkeley",
    "uk": r"\buk\b|u\.k\.|united kingdom|brit\w*|england|london|oxford|cambridge|edinburgh"
          r"|scotland",
}
# Labs, recognised from their names and their models' names.
_PROVIDERS = {
    "openai": r"openai|chatgpt|gpt[- ]?\d|gpt\b|o[134](-mini)?\b|codex",
    "anthropic": r"anthropic|claude|opus|sonnet|haiku|fable|mythos",
    "google": r"google|gemini|gemma|deepmind",
    "meta": r"\bmeta\b|llama|muse spark",
}
# Requests for access in general: a vague one gets a clarifying question, not a refusal.
ACCESS_REQUEST = re.compile(
    r"\b(access|acess|program(me)?s?|apply|application|eligib\w*|qualify|routes?|options"
    r"|credits?|models?)\b", re.I)
# Words that put a question in AccessBot's field at all (used for borderline relevance).
ACCESS_CONTEXT = re.compile(
    r"\b(access|acess|api|apis|program(me)?s?|apply|labs?|safeguards?|refus\w*|credits?|weights"
    r"|evaluat\w*|evals?|safety|alignment|interp\w*|researchers?|frontier|model access"
    r"|outsiders?|insiders?|release\w*)\b", re.I)
# How needs map onto the five mechanisms of the access gap.
NEED_TO_BOTTLENECK = {
    "credits": "costs-rate-limits", "rate-limits": "costs-rate-limits", "compute": "costs-rate-limits",
    "fine-tuning": "elicitation", "internals": "elicitation", "prefill": "elicitation",
    "fewer-safeguards": "safeguards", "unreleased": "non-release",
    "pre-deployment": "deployment-lag", "retired-models": "non-release",
}
_BOTTLENECK_WORDS = {
    "non-release": r"non-?release|not released|never released|withheld|no public release",
    "deployment-lag": r"deployment lag|months? (late|later|behind|after|before)|release lag"
                      r"|lags? behind|weeks? (late|later|behind|before)|released late"
                      r"|internal(ly)? (use|deploy\w*)",
    "safeguards": r"safeguards?|refus\w*|classifiers?|blocked",
    "costs-rate-limits": r"costs?\b|rate[- ]?limits?|expensive|afford\w*|pric\w*",
    "elicitation": r"elicitation|scaffold\w*|fine[- ]?tun\w*",
}


def _compile(table: dict[str, str]) -> dict[str, re.Pattern[str]]:
    return {key: re.compile(rf"(?<![\w-])(?:{pattern})", re.I) for key, pattern in table.items()}


KIND_PATTERNS = _compile(_KINDS)
DOMAIN_PATTERNS = _compile(_DOMAINS)
NEED_PATTERNS = _compile(_NEEDS)
REGION_PATTERNS = _compile(_REGIONS)
BOTTLENECK_PATTERNS = _compile(_BOTTLENECK_WORDS)
PROVIDER_PATTERNS = _compile(_PROVIDERS)


def _matches(patterns: dict[str, re.Pattern[str]], text: str) -> tuple[str, ...]:
    return tuple(key for key, pattern in patterns.items() if pattern.search(text))


@functools.lru_cache(maxsize=4096)
def _name_patterns(card: Card) -> list[re.Pattern[str]]:
    # Aliases count as names only when they look like one (CVP, NDIF, Glasswing), not
    # common words a card lists for retrieval (helpful-only, credits).
    proper = [a for a in card.aliases if any(ch.isupper() or ch.isdigit() for ch in a)]
    names = [card.title, re.sub(r"\s*\(.*?\)", "", card.title), *proper]
    return [re.compile(rf"(?<!\w){re.escape(n.strip())}(?!\w)", re.I)
            for n in names if len(n.strip()) >= 3]


def mentioned_cards(text: str, cards: Iterable[Card]) -> tuple[str, ...]:
    """Curated cards the question names by title or alias (e.g. 'CVP', 'NDIF'). Loose
    posts are left out: there can be thousands, and their titles are file names."""
    return tuple(c.id for c in cards
                 if c.kind != "post" and any(p.search(text) for p in _name_patterns(c)))


def read_profile(text: str, cards: Iterable[Card] = ()) -> Profile:
    needs = _matches(NEED_PATTERNS, text)
    bottlenecks = set(_matches(BOTTLENECK_PATTERNS, text))
    bottlenecks.update(NEED_TO_BOTTLENECK[n] for n in needs if n in NEED_TO_BOTTLENECK)
    kinds = _matches(KIND_PATTERNS, text)
    if "independent" in kinds and len(kinds) > 1 and re.search(r"independent (eval|audit)", text, re.I):
        kinds = tuple(k for k in kinds if k != "independent")
    return Profile(
        kinds=kinds,
        domains=_matches(DOMAIN_PATTERNS, text),
        needs=needs,
        regions=_matches(REGION_PATTERNS, text),
        bottlenecks=tuple(b for b in ("non-release", "deployment-lag", "safeguards",
                                      "costs-rate-limits", "elicitation") if b in bottlenecks),
        mentioned=mentioned_cards(text, cards),
        providers=_matches(PROVIDER_PATTERNS, text),
    )


def card_providers(card: Card) -> tuple[str, ...]:
    """The labs a card's program belongs to, from its provider field."""
    return _matches(PROVIDER_PATTERNS, card.provider)


def merge(earlier: Profile, later: Profile) -> Profile:
    """A follow-up keeps what the earlier turn said unless it says otherwise."""

    def pick(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
        return b or a

    def union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a + b))

    return Profile(
        kinds=pick(earlier.kinds, later.kinds),
        domains=pick(earlier.domains, later.domains),
        needs=union(earlier.needs, later.needs),
        regions=pick(earlier.regions, later.regions),
        bottlenecks=union(earlier.bottlenecks, later.bottlenecks),
        mentioned=union(earlier.mentioned, later.mentioned),
        providers=pick(earlier.providers, later.providers),
    )
