"""The store module against chromadb's real limits."""
from __future__ import annotations

import numpy as np
import pytest

from bot import store

pytestmark = pytest.mark.slow


def test_read_all_returns_more_rows_than_sqlite_allows_variables(settings, embeddings):
    """A single get of 33k documents fails in the embedded store ('too many SQL
    variables'); the index must still load past that size (the 100k-chunk benchmark)."""
    collection = store.create_collection(store.open_client(settings), settings, embeddings)
    vectors = np.random.default_rng(7).random((33_000, 384), dtype=np.float32)
    n = len(vectors)
    for start in range(0, n, 5000):
        ids = [f"doc-{i}#intro" for i in range(start, min(n, start + 5000))]
        collection.add(ids=ids, documents=[f"text {i}" for i in ids],
                       metadatas=[{store.DOC_ID: i, store.V_FROM: 1, store.V_TO: 0} for i in ids],
                       embeddings=vectors[start:start + len(ids)])
    got = store.read_all(collection, store.in_version(1), ["documents", "metadatas"])
    assert len(got["ids"]) == len(got["documents"]) == len(got["metadatas"]) == n
    assert got["documents"][0] == f"text {got['ids'][0]}"
