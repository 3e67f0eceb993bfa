"""Synthetic corpora for the scale benchmarks: generated, never downloaded.

`write_corpus` writes Markdown posts (YAML front matter, `##` sections of 60-130 words)
whose words follow a Zipf law over a vocabulary made of knowledge/'s own words plus
generated pseudo-words, with a per-post topic so posts differ from each other. Every
section becomes exactly one chunk (the chunker splits at 170 words).

`bulk_load` fills an index with such a corpus without running the embedding model over
100k chunks (about an hour on 2 cores): it parses and chunks every file with the real
ingest code (same chunk ids, hashes, paths and metadata as `run_ingest` would write, via
ingest.pipeline's own `_metadata` and `_publish`), gives the synthetic chunks cheap
embeddings (a normalised sum of fixed random word vectors) and the real knowledge cards
their real embeddings, and publishes version 1 through bot/store.py's collection. A later
`run_ingest` over the same folder therefore sees every document as unchanged, and the
Advisor reads the index exactly as it reads a real one.
"""
from __future__ import annotations

import re
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from common import KNOWLEDGE

SECTIONS_PER_POST = 10
DIM = 384
_WORD = re.compile(r"[a-z][a-z0-9'-]+")
_SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]


def vocabulary(size: int, seed: int) -> list[str]:
    """knowledge/'s words, most frequent first, then pseudo-words up to `size`."""
    counts: Counter[str] = Counter()
    for path in KNOWLEDGE.rglob("*.md"):
        counts.update(_WORD.findall(path.read_text(encoding="utf-8").lower()))
    words = [w for w, _ in counts.most_common()]
    seen = set(words)
    rng = np.random.default_rng(seed)
    while len(words) < size:
        word = "".join(rng.choice(_SYLLABLES, size=int(rng.integers(2, 5))))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words[:size]


def _sentences(words: list[str], rng: np.random.Generator) -> str:
    out, i = [], 0
    while i < len(words):
        n = int(rng.integers(8, 19))
        piece = words[i:i + n]
        out.append(" ".join([piece[0].capitalize(), *piece[1:]]) + ".")
        i += n
    return " ".join(out)


def write_corpus(folder: Path, chunks: int, seed: int = 7, vocab_size: int = 60_000) -> int:
    """Write about `chunks` synthetic sections as posts under folder; returns posts written."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    vocab = np.array(vocabulary(vocab_size, seed))
    ranks = np.arange(1, len(vocab) + 1)
    zipf = 1.0 / (ranks + 2.7)
    zipf /= zipf.sum()
    posts = max(1, chunks // SECTIONS_PER_POST)
    lengths = rng.integers(60, 131, size=posts * SECTIONS_PER_POST)
    background = rng.choice(len(vocab), size=int(lengths.sum()), p=zipf)
    topical = rng.random(size=background.size) < 0.2
    cursor = 0
    for post in range(posts):
        topic = rng.choice(len(vocab), size=40)  # words this post keeps coming back to
        title = " ".join(vocab[rng.choice(topic, size=4)]).capitalize()
        parts = [
            "---", f"id: synthetic-{seed}-{post:06d}", "kind: post",
            f'title: "Synthetic post {post}: {title}"',
            f"source_url: https://example.invalid/synthetic/{seed}/{post}",
            "last_verified: 2026-11-01", "confidence: medium", "---", "",
        ]
        for section in range(SECTIONS_PER_POST):
            n = int(lengths[post * SECTIONS_PER_POST + section])
            ids = background[cursor:cursor + n].copy()
            mask = topical[cursor:cursor + n]
            ids[mask] = rng.choice(topic, size=int(mask.sum()))
            cursor += n
            heading = " ".join(vocab[rng.choice(topic, size=3)]).capitalize()
            parts += [f"## {section + 1}. {heading}", "", _sentences(list(vocab[ids]), rng), ""]
        (folder / f"post-{post:06d}.md").write_text("\n".join(parts), encoding="utf-8")
    return posts


def make_corpus(root: Path, synthetic_chunks: int, seed: int = 7) -> Path:
    """root/knowledge (a copy of the real cards) + root/synthetic (generated posts)."""
    shutil.copytree(KNOWLEDGE, root / "knowledge")
    if synthetic_chunks:
        write_corpus(root / "synthetic", synthetic_chunks, seed)
    return root


class CheapEmbedder:
    """Fixed random unit vector per word, chunk = normalised sum: clustered like text,
    computed in microseconds instead of tens of milliseconds."""

    def __init__(self, seed: int = 11, buckets: int = 1 << 16) -> None:
        rng = np.random.default_rng(seed)
        self.table = rng.standard_normal((buckets, DIM)).astype(np.float32)
        self.buckets = buckets

    def __call__(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            ids = [hash(w) % self.buckets for w in _WORD.findall(text.lower())]
            if ids:
                out[i] = self.table[ids].sum(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)


def bulk_load(root: Path, settings, embeddings, real_vectors: dict[str, list[float]],
              progress: Callable[[str], None] = lambda s: None) -> int:
    """Publish the corpus under root as index version 1; returns the number of chunks.

    `real_vectors` caches the knowledge cards' real embeddings by chunk id across calls.
    """
    from bot import store
    from ingest.chunking import chunk_document
    from ingest.documents import discover, load_document
    from ingest.pipeline import _metadata, _publish, display_path

    client = store.open_client(settings)
    collection = store.create_collection(client, settings, embeddings)
    batch = min(5000, client.get_max_batch_size())
    cheap = CheapEmbedder()
    docs = [load_document(p, display_path(p), settings.max_document_bytes)
            for p in discover([root])]
    pending = [(d, c) for d in docs for c in chunk_document(d)]
    real = [c for d, c in pending if not d.card.id.startswith("synthetic-")
            and c.id not in real_vectors]
    if real:
        for chunk, vector in zip(real, embeddings([c.text for c in real])):
            real_vectors[chunk.id] = list(map(float, vector))
    progress(f"{len(docs)} documents parsed, {len(pending)} chunks")
    for start in range(0, len(pending), batch):
        part = pending[start:start + batch]
        vectors = cheap([c.text for _, c in part])
        rows = [real_vectors[c.id] if c.id in real_vectors else vectors[i].tolist()
                for i, (_, c) in enumerate(part)]
        collection.add(ids=[c.id for _, c in part], documents=[c.text for _, c in part],
                       metadatas=[_metadata(d, c, 1) for d, c in part], embeddings=rows)
    _publish(collection, 1, embeddings.model_name, len(docs))
    return len(pending)
