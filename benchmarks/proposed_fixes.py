"""Fixes the scale benchmark points to, applied as benchmark-side patches so their effect
can be measured before anyone changes the product. None of this is imported by AccessBot.

1. Paged reads (`paged`). chromadb 1.5.9's embedded store fails a `collection.get` that
   returns documents or metadatas for more than SQLite's 32,766 bound variables ("too many
   SQL variables"). Snapshot.__init__ (bot/advisor/retrieval.py) and _live_docs
   (ingest/pipeline.py) read a whole index version in one call, so as shipped neither the
   advisor nor an ingest works past ~32k chunks. Fix: read the ids first (include=[] works
   at any size), then documents/metadatas by id in batches.
2. Cached name patterns (`names`). read_profile -> mentioned_cards compiles every card's
   title/alias regexes on every question (bot/advisor/situation.py, _name_patterns). re's
   own cache holds 512 patterns, enough for knowledge/'s ~45 cards; with thousands of
   documents every question recompiles them all (seconds per answer at 100k chunks).
   Fix: compile once per card (functools.lru_cache on _name_patterns; Card is hashable).
3. Dense search without the version filter (`dense`). Snapshot.dense passes the version
   `where` filter to Chroma, which then evaluates it in SQLite over every chunk (about
   0.5 s per query at 100k chunks; 2 ms without). The snapshot already drops ids that are
   not its own, so: query without `where`, over-fetching by the number of chunks in the
   collection that belong to other versions (usually a few: the last ingest's retired
   chunks), and keep the snapshot's own.
"""
from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

BATCH = 5000
SQLITE_VARIABLES = 32_766
ALL = ("paged", "names", "dense")


class PagedCollection:
    """Delegates everything to a chromadb Collection; large reads go in id batches."""

    def __init__(self, collection: Any) -> None:
        self._collection = collection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)

    def get(self, ids: Any = None, where: Any = None, include: Any = None, **kw: Any) -> dict:
        include = ["metadatas", "documents"] if include is None else list(include)
        if not include or kw:
            return self._collection.get(ids=ids, where=where, include=include, **kw)
        if ids is None:
            ids = self._collection.get(where=where, include=[])["ids"]
            where = None
        out: dict[str, list] = {"ids": [], **{key: [] for key in include}}
        for start in range(0, len(ids), BATCH):
            got = self._collection.get(ids=ids[start:start + BATCH], where=where, include=include)
            out["ids"] += got["ids"]
            for key in include:
                out[key] += list(got[key] or [])
        return out


def _unfiltered_dense(self: Any, vector: list[float], k: int) -> list[tuple[str, float]]:
    """Snapshot.dense without Chroma's metadata filter (fix 3)."""
    others = max(0, self.collection.count() - len(self.chunks))
    n = min(k, len(self.chunks)) + others
    result = self.collection.query(query_embeddings=[vector], n_results=n, include=["distances"])
    return [(cid, 1.0 - dist) for cid, dist in zip(result["ids"][0], result["distances"][0])
            if cid in self.by_id][:k]


@contextlib.contextmanager
def applied(fixes: tuple[str, ...] = ALL) -> Iterator[None]:
    """Patch the named fixes into bot/ for the duration of the block."""
    from bot import store
    from bot.advisor import retrieval, situation

    saved = (store.create_collection, store.existing_collection, situation._name_patterns,
             retrieval.Snapshot.dense)
    if "paged" in fixes:
        store.create_collection = lambda *a, **k: PagedCollection(saved[0](*a, **k))
        store.existing_collection = lambda *a, **k: PagedCollection(saved[1](*a, **k))
    if "names" in fixes:
        situation._name_patterns = functools.lru_cache(maxsize=100_000)(saved[2])
    if "dense" in fixes:
        retrieval.Snapshot.dense = _unfiltered_dense
    try:
        yield
    finally:
        (store.create_collection, store.existing_collection, situation._name_patterns,
         retrieval.Snapshot.dense) = saved
