"""Hybrid retrieval over one snapshot of the index: Chroma dense search plus BM25 over the
same chunks, fused by reciprocal rank.

Dense search finds paraphrases ("the model keeps saying no" ~ refusals); BM25 finds exact
names and acronyms the small embedding model blurs (CVP, NDIF, Art. 92). The snapshot also
holds the cards, so the route decision needs no further I/O.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import bm25s
import Stemmer
from chromadb.api.models.Collection import Collection

from bot import store
from bot.advisor.types import Passage
from bot.cards import Card
from bot.embeddings import AccessBotEmbeddings

RRF_K = 60
CURATED_BOOST = 1.15
_STEMMER = Stemmer.Stemmer("english")


def _tokenize(texts: list[str]) -> bm25s.tokenization.Tokenized:
    return bm25s.tokenize(texts, stopwords="en", stemmer=_STEMMER, show_progress=False)


class _Stopwatch:
    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, stage: str) -> None:
        if self.timings is not None:
            now = time.perf_counter()
            self.timings[stage] = self.timings.get(stage, 0.0) + now - self.last
            self.last = now


@dataclass(frozen=True)
class _Chunk:
    id: str
    text: str
    meta: dict


class Snapshot:
    """Everything the advisor reads from one version of the index, loaded once."""

    def __init__(self, collection: Collection, embeddings: AccessBotEmbeddings,
                 version: int | None = None) -> None:
        self.collection = collection
        self.embeddings = embeddings
        self.version = version if version is not None else store.index_info(collection).version
        self._where = store.in_version(self.version)
        got = store.read_all(collection, self._where, ["documents", "metadatas"])
        self.chunks = [_Chunk(i, d, m) for i, d, m in
                       zip(got["ids"], got["documents"], got["metadatas"])]
        self.by_id = {c.id: c for c in self.chunks}
        self.by_doc: dict[str, list[_Chunk]] = {}
        for chunk in sorted(self.chunks, key=lambda c: c.meta.get(store.CHUNK_INDEX, 0)):
            self.by_doc.setdefault(chunk.meta[store.DOC_ID], []).append(chunk)
        self.cards: dict[str, Card] = {
            c.meta[store.DOC_ID]: Card.from_json(c.meta[store.CARD_JSON])
            for c in self.chunks if c.meta.get(store.CARD_JSON)
        }
        self._bm25 = bm25s.BM25()
        self._bm25.index(_tokenize([c.text for c in self.chunks]), show_progress=False)
        self._lock = threading.Lock()  # bm25s retrieval is not documented as thread-safe

    def dense(self, vector: list[float], k: int) -> list[tuple[str, float]]:
        # No `where` filter: Chroma evaluates it in SQLite over every chunk (~0.5 s at 100k
        # chunks). Over-fetch by the chunks of other versions (usually a few: the last
        # ingest's retired ones) and keep this snapshot's own.
        others = max(0, self.collection.count() - len(self.chunks))
        result = self.collection.query(query_embeddings=[vector],
                                       n_results=min(k, len(self.chunks)) + others,
                                       include=["distances"])
        return [(cid, 1.0 - dist) for cid, dist in zip(result["ids"][0], result["distances"][0])
                if cid in self.by_id][:k]

    def lexical(self, query: str, k: int) -> list[tuple[str, float]]:
        with self._lock:
            docs, scores = self._bm25.retrieve(_tokenize([query]), k=min(k, len(self.chunks)),
                                               show_progress=False)
        return [(self.chunks[int(i)].id, float(s)) for i, s in zip(docs[0], scores[0]) if s > 0]

    def search(self, query: str, k: int, timings: dict[str, float] | None = None) -> list[Passage]:
        """Top-k passages by fused rank; each keeps its dense similarity for the decline test.

        `timings`, when given, receives seconds spent per stage (for the benchmarks).
        """
        clock = _Stopwatch(timings)
        vector = self.embeddings.embed_one(query)
        clock.lap("embed")
        pool = max(k * 4, 20)
        dense = self.dense(vector, pool)
        clock.lap("dense")
        lexical = self.lexical(query, pool)
        clock.lap("lexical")
        fused: dict[str, float] = {}
        for ranking in (dense, lexical):
            for rank, (cid, _) in enumerate(ranking):
                fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
        for cid in fused:  # curated cards beat loose posts that match about as well
            if self.by_id[cid].meta.get(store.KIND) != "post":
                fused[cid] *= CURATED_BOOST
        similarity = dict(dense)
        best = sorted(fused, key=fused.get, reverse=True)[:k]
        return [self._passage(cid, similarity.get(cid, 0.0), fused[cid]) for cid in best]

    def _passage(self, chunk_id: str, dense: float, score: float) -> Passage:
        chunk = self.by_id[chunk_id]
        meta = chunk.meta
        return Passage(
            chunk_id=chunk_id, doc_id=meta[store.DOC_ID], text=chunk.text,
            title=meta.get(store.TITLE, ""), heading=meta.get(store.HEADING, ""),
            source_url=meta.get(store.SOURCE_URL, ""),
            last_verified=meta.get(store.LAST_VERIFIED, ""), kind=meta.get(store.KIND, ""),
            confidence=meta.get(store.CONFIDENCE, ""), dense=dense, score=score,
        )

    def card_passages(self, doc_id: str) -> list[Passage]:
        """All chunks of one card in order, for citing a route's own card."""
        return [self._passage(c.id, 0.0, 0.0) for c in self.by_doc.get(doc_id, [])]
