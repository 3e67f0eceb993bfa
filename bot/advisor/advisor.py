"""The Advisor: the one object every transport calls.

It holds a snapshot of the index and swaps in a new one when an ingest publishes a new
version, so running bots answer from new knowledge without a restart.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import replace

from chromadb.api.models.Collection import Collection

from bot import messages, store
from bot.advisor import compose as composer
from bot.advisor.llm import LLMWriter, build_chat_model
from bot.advisor.retrieval import Snapshot
from bot.advisor.routes import bottlenecks_for, conditional_routes, decide_routes
from bot.advisor.situation import ACCESS_CONTEXT, ACCESS_REQUEST, merge, read_profile
from bot.advisor.types import Answer, Passage, Profile, Question
from bot.embeddings import AccessBotEmbeddings
from bot.settings import Settings

log = logging.getLogger(__name__)
_CONNECTIVE = re.compile(r"^\s*(and|but|also|what if|what about|how about|if|so|ok|okay|then"
                         r"|same|does that|would that|is that|can we|could we)\b", re.I)
_EXPLAIN = re.compile(r"why not|rul(e|ed|es) out|what else|other (options|routes|programs)"
                      r"|alternatives?|doesn'?t (fit|apply)|not eligible", re.I)
EVIDENCE_CEILING = 0.7
NAMED_SIMILARITY = 0.62  # a route card this close to the question is what is being asked about
BORDERLINE = 0.1  # below the floor by at most this, an in-field question is still answered
VAGUE_WORDS = 12
EVIDENCE_MARGIN = 0.12  # a passage is quoted as extra evidence only this far above the floor  # dense similarity at which retrieval evidence counts in full
FOLLOW_UP_WORDS = 12


class QuestionError(ValueError):
    """The question cannot be answered as asked (empty, too long); str() is for the user."""


def is_vague_request(text: str) -> bool:
    """A short request for access in general ("any programs for me?")."""
    return len(text.split()) <= VAGUE_WORDS and bool(ACCESS_REQUEST.search(text))


def is_follow_up(question: Question, own: Profile) -> bool:
    """Whether to read the question with the turns before it; `own` is its own profile."""
    if not question.history:
        return False
    if messages.CLARIFY in question.history[-1].answer:  # it answers our clarifying question
        return True
    if _CONNECTIVE.match(question.text) or len(question.text.split()) <= FOLLOW_UP_WORDS:
        return True
    # says nothing of its own situation: builds on the last turn
    return not (own.needs or own.domains or own.mentioned or own.kinds)


class Advisor:
    def __init__(self, settings: Settings, embeddings: AccessBotEmbeddings,
                 open_collection: Callable[[], Collection] | None = None,
                 today: Callable[[], dt.date] = dt.date.today,
                 refresh_seconds: float = 2.0, writer: LLMWriter | None = None,
                 on_answer: Callable[[Question, Answer], None] | None = None) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self.writer = writer
        self.on_answer = on_answer  # e.g. the question log; called after every answer
        self._open = open_collection or self._default_open
        self._today = today
        self._refresh_seconds = refresh_seconds
        self._snapshot: Snapshot | None = None
        self._retired: object | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    @classmethod
    def pinned(cls, settings: Settings, embeddings: AccessBotEmbeddings,
               collection: Collection, version: int) -> "Advisor":
        """An advisor reading one fixed version, e.g. an unpublished one for the eval gate."""
        advisor = cls(settings, embeddings, open_collection=lambda: collection,
                      refresh_seconds=float("inf"))
        advisor._snapshot = Snapshot(collection, embeddings, version=version)
        advisor._checked_at = time.monotonic()
        return advisor

    @classmethod
    def from_settings(cls, settings: Settings, log_questions: bool = True) -> "Advisor":
        """The advisor the CLI and transports use. Answers go to the question log
        (bot/records.py) unless log_questions is False, as for `accessbot eval`, whose
        test questions are not researchers' gaps."""
        from bot.records import question_log_for  # records imports the advisor's types

        model = build_chat_model(settings)
        writer = LLMWriter(model, settings.llm_timeout) if model is not None else None
        question_log = question_log_for(settings) if log_questions else None
        return cls(settings, AccessBotEmbeddings(settings.embedding_model), writer=writer,
                   on_answer=question_log.record if question_log else None)

    def _default_open(self) -> Collection:
        client = store.open_client(self.settings)
        return store.existing_collection(client, self.settings, self.embeddings)

    @property
    def snapshot(self) -> Snapshot:
        """The current index snapshot, loaded on first use (raises store.IndexMissing)."""
        if self._snapshot is None:
            with self._lock:
                if self._snapshot is None:
                    self._snapshot = Snapshot(self._open(), self.embeddings)
                    self._checked_at = time.monotonic()
        return self._snapshot

    def refresh(self, force: bool = False) -> bool:
        """Swap in a newer index version if one was published; True when it did."""
        if self._snapshot is None:
            self.snapshot
            return True
        if not force and time.monotonic() - self._checked_at < self._refresh_seconds:
            return False
        with self._lock:
            self._checked_at = time.monotonic()
            collection = self._open()
            if store.index_info(collection).version == self._snapshot.version:
                return False
            detached = store.detach_embedded(self.settings)
            if detached is not None:  # published by another process: read it from disk
                collection = self._open()
            self._snapshot = Snapshot(collection, self.embeddings)
            self._retire(detached)
            return True

    def _retire(self, system: object | None) -> None:
        """Stop the embedded Chroma detached two swaps ago: by now no query still uses it."""
        if self._retired is not None:
            try:
                self._retired.stop()
            except Exception:  # stopping a spent system must never cost an answer
                log.debug("stopping a retired Chroma system failed", exc_info=True)
        self._retired = system

    def status(self) -> dict[str, object]:
        """What `accessbot status` shows: the live version, its size, model and stale cards."""
        snap = self.snapshot
        info = store.index_info(snap.collection)
        today = self._today()
        stale = sorted(c.id for c in snap.cards.values() if c.verified_on()
                       and (today - c.verified_on()).days > self.settings.review_age_days)
        return {
            "store": self.settings.chroma_url or str(self.settings.chroma_path),
            "collection": self.settings.collection, "live_version": info.version,
            "ingested_at": info.ingested_at, "documents": len(snap.cards),
            "chunks": len(snap.chunks), "embedding_model": info.embedding_model,
            "llm": self.settings.llm or self.settings.llm_base_url or "none (extractive)",
            "stale_cards": stale,
        }

    def check(self, question: Question) -> str:
        """The cleaned question text, or QuestionError with a message for the user."""
        text = question.text.strip()
        if not text:
            raise QuestionError(messages.EMPTY_QUESTION)
        if len(text) > self.settings.max_question_chars:
            raise QuestionError(messages.TOO_LONG.format(
                length=len(text), limit=self.settings.max_question_chars))
        return text

    def read(self, question: Question, snapshot: Snapshot) -> tuple[str, Profile]:
        """The retrieval query and the asker's profile, folding in the earlier turn."""
        text = question.text.strip()
        cards = snapshot.cards.values()
        profile = read_profile(text, cards)
        if not is_follow_up(question, profile):
            return text, profile
        earlier = Profile()
        for turn in question.history[-3:]:
            earlier = merge(earlier, read_profile(turn.question, cards))
        rewritten = self.writer.rewrite(question) if self.writer else None
        query = rewritten or f"{question.history[-1].question} {text}"
        return query, merge(earlier, profile)

    def answer(self, question: Question, timings: dict[str, float] | None = None,
               on_delta: Callable[[str], None] | None = None) -> Answer:
        """Answer one question.

        `timings`, when given, receives seconds per stage; `on_delta` receives the LLM's
        text so far while it streams (transports show it as a growing message).
        """
        answer = self._extractive(question, timings)
        if self.writer is not None and answer.grounded and not answer.clarifying:
            checked = self.writer.write(question, answer, self.snapshot.cards, on_delta)
            if checked.problems:
                log.warning("LLM answer not used (%s); falling back to the extractive answer",
                            "; ".join(checked.problems))
            else:
                answer.text, answer.mode = checked.text, "llm"
        if self.on_answer is not None:
            try:
                self.on_answer(question, answer)
            except Exception:  # the question log must never cost the user their answer
                log.exception("recording the answered question failed")
        return answer

    def _extractive(self, question: Question, timings: dict[str, float] | None) -> Answer:
        text = self.check(question)
        self.refresh()
        snap = self.snapshot
        query, profile = self.read(question, snap)
        passages = snap.search(query, k=max(self.settings.top_k * 2, 10), timings=timings)
        started = time.perf_counter()
        best = max((p.dense for p in passages), default=0.0)
        floor = self.settings.min_relevance
        signal = bool(profile.needs or profile.bottlenecks or profile.mentioned or profile.domains)
        in_field = signal and bool(ACCESS_CONTEXT.search(text))
        if best < floor and not (in_field and best >= floor - BORDERLINE):
            if is_vague_request(text):
                return replace(composer.clarify(text), profile=profile)
            return replace(composer.decline(text), profile=profile)
        evidence = self._evidence(passages)
        profile = self._named_by_paraphrase(profile, passages, snap)
        routes, ruled_out = decide_routes(profile, snap.cards, evidence)
        if not _EXPLAIN.search(text):  # near misses only when asked; closed or named always
            ruled_out = [r for r in ruled_out if r.card_id in profile.mentioned
                         or snap.cards[r.card_id].status in ("closed", "unavailable", "winding-down")]
        if not routes and not signal and not profile.kinds and is_vague_request(text):
            return replace(composer.clarify(text), profile=profile)
        bottlenecks = bottlenecks_for(profile, routes, snap.cards)
        if timings is not None:
            timings["routes"] = time.perf_counter() - started
            started = time.perf_counter()
        citations = composer.Citations(text, snap.cards, self._today(), self.settings.review_age_days)
        candidates = [] if routes else conditional_routes(profile, snap.cards, evidence)
        answer = composer.compose(
            text, routes, ruled_out, bottlenecks,
            route_passages={r.card_id: self._card_passage(snap, r.card_id, passages) for r in routes},
            bottleneck_passages={b: snap.card_passages(b)[0] for b in bottlenecks
                                 if b in snap.by_doc},
            evidence=passages[: self.settings.top_k], citations=citations,
            evidence_floor=self.settings.min_relevance + EVIDENCE_MARGIN,
            lead=self._lead(snap, profile, passages),
            ruled_passages={r.card_id: self._card_passage(snap, r.card_id, passages)
                            for r in ruled_out},
        )
        if candidates:
            answer = composer.clarify_with_candidates(
                answer, candidates,
                {r.card_id: self._card_passage(snap, r.card_id, passages) for _, r in candidates},
                citations)
        if timings is not None:
            timings["compose"] = time.perf_counter() - started
        answer.profile = profile
        return answer

    @staticmethod
    def _named_by_paraphrase(profile: Profile, passages: list[Passage], snap: Snapshot) -> Profile:
        """A route card that matches the question very closely is the program being asked
        about, even when its name is misspelt or paraphrased."""
        top = passages[0] if passages else None
        if top is None or top.dense < NAMED_SIMILARITY or top.doc_id in profile.mentioned:
            return profile
        card = snap.cards.get(top.doc_id)
        if card is None or not card.is_route:
            return profile
        return replace(profile, mentioned=profile.mentioned + (card.id,))

    def _lead(self, snap: Snapshot, profile: Profile, passages: list[Passage]) -> list[Passage]:
        """Passages an answer must quote: the best match, then any card the asker named."""
        lead = passages[:1]
        for card_id in profile.mentioned:
            if snap.cards.get(card_id) and not snap.cards[card_id].is_route:
                lead.append(self._card_passage(snap, card_id, passages))
        return lead

    def _evidence(self, passages: list[Passage]) -> dict[str, float]:
        floor = self.settings.min_relevance
        strength: dict[str, float] = {}
        for p in passages:
            value = max(0.0, min(1.0, (p.dense - floor) / (EVIDENCE_CEILING - floor)))
            strength[p.doc_id] = max(strength.get(p.doc_id, 0.0), value)
        return strength

    @staticmethod
    def _card_passage(snap: Snapshot, card_id: str, passages: list[Passage]) -> Passage:
        """The route card's best retrieved passage, else its first section."""
        for p in passages:
            if p.doc_id == card_id:
                return p
        return snap.card_passages(card_id)[0]
