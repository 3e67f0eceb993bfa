"""Bring the index in line with the documents: embed only what changed, remove what left.

Idempotent by construction: each document carries its content hash and each chunk its
text hash, so a second run over unchanged files writes nothing. A file that fails to
parse is reported and its previously ingested chunks are kept, so one bad edit never
removes knowledge that was there.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chromadb.api.models.Collection import Collection

from bot import store
from bot.embeddings import AccessBotEmbeddings
from bot.settings import PROJECT_ROOT, Settings
from ingest.chunking import Chunk, chunk_document
from ingest.documents import Document, DocumentError, discover, load_document

BATCH = 64


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    chunks_written: int = 0
    chunks_deleted: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.chunks_written or self.chunks_deleted)

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added, "updated": self.updated, "removed": self.removed,
            "unchanged": self.unchanged, "errors": self.errors,
            "chunks_written": self.chunks_written, "chunks_deleted": self.chunks_deleted,
        }


def display_path(path: Path) -> str:
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(resolved)


def _absolute(stored: str) -> Path:
    path = Path(stored)
    return path if path.is_absolute() else PROJECT_ROOT / path


def _in_scope(stored: str, roots: list[Path]) -> bool:
    path = _absolute(stored)
    return any(path == root or root in path.parents for root in roots)


def _existing(collection: Collection) -> dict[str, dict[str, Any]]:
    """doc_id -> {hash, path, chunks: {chunk_id: chunk_hash}} for what is in the index."""
    docs: dict[str, dict[str, Any]] = {}
    got = collection.get(include=["metadatas"])
    for chunk_id, meta in zip(got["ids"], got["metadatas"] or []):
        doc = docs.setdefault(meta[store.DOC_ID], {
            "hash": meta.get(store.DOC_HASH), "path": meta.get(store.PATH), "chunks": {},
        })
        doc["chunks"][chunk_id] = meta.get(store.CHUNK_HASH)
    return docs


def _load_all(files: list[Path], settings: Settings, report: IngestReport,
              existing: dict[str, dict[str, Any]]) -> tuple[list[Document], set[str]]:
    docs: list[Document] = []
    failed_paths: set[str] = set()
    owner: dict[str, str] = {}
    for path in files:
        rel = display_path(path)
        try:
            doc = load_document(path, rel, settings.max_document_bytes)
            other = owner.get(doc.card.id)
            if other is None and doc.card.id in existing:
                prior = existing[doc.card.id]["path"]
                other = prior if prior != rel and _absolute(prior).exists() else None
            if other:
                raise DocumentError(f"duplicate id '{doc.card.id}', already used by {other}")
        except DocumentError as exc:
            report.errors.append({"path": rel, "error": str(exc)})
            failed_paths.add(rel)
            continue
        except OSError as exc:
            report.errors.append({"path": rel, "error": f"cannot read file: {exc.strerror}"})
            failed_paths.add(rel)
            continue
        owner[doc.card.id] = rel
        docs.append(doc)
    return docs, failed_paths


def _metadata(doc: Document, chunk: Chunk) -> dict[str, Any]:
    card = doc.card
    meta: dict[str, Any] = {
        store.DOC_ID: card.id, store.DOC_HASH: doc.content_hash, store.CHUNK_HASH: chunk.hash,
        store.CHUNK_INDEX: chunk.index, store.HEADING: chunk.heading, store.PATH: doc.path,
        store.KIND: card.kind, store.TITLE: card.title, store.SOURCE_URL: card.source_url,
        store.LAST_VERIFIED: card.last_verified, store.CONFIDENCE: card.confidence,
    }
    if chunk.index == 0:
        meta[store.CARD_JSON] = card.to_json()
    return meta


def _version(collection: Collection) -> str:
    got = collection.get(include=["metadatas"])
    pairs = sorted(f"{i}:{m.get(store.CHUNK_HASH)}" for i, m in zip(got["ids"], got["metadatas"]))
    return hashlib.sha256("\n".join(pairs).encode()).hexdigest()[:16]


def _write(collection: Collection, pending: list[tuple[Document, Chunk]],
           progress: Callable[[int, int], None] | None) -> None:
    for start in range(0, len(pending), BATCH):
        batch = pending[start:start + BATCH]
        collection.upsert(
            ids=[c.id for _, c in batch],
            documents=[c.text for _, c in batch],
            metadatas=[_metadata(d, c) for d, c in batch],
        )
        if progress:
            progress(min(start + BATCH, len(pending)), len(pending))


def run_ingest(paths: Iterable[Path], settings: Settings, embeddings: AccessBotEmbeddings,
               progress: Callable[[int, int], None] | None = None) -> IngestReport:
    roots = [Path(p).resolve() for p in paths]
    report = IngestReport()
    for root in roots:
        if not root.exists():
            report.errors.append({"path": display_path(root), "error": "no such file or folder"})
    roots = [r for r in roots if r.exists()]
    client = store.open_client(settings)
    collection = store.create_collection(client, settings, embeddings)
    model_in_index = store.index_info(collection).embedding_model
    if model_in_index and model_in_index != embeddings.model_name:
        report.errors.append({"path": str(settings.chroma_path), "error": (
            f"index was built with embedding model {model_in_index!r}, not "
            f"{embeddings.model_name!r}; delete {settings.chroma_path} or use another "
            "ACCESSBOT_COLLECTION")})
        return report
    existing = _existing(collection)
    docs, failed = _load_all(discover(roots), settings, report, existing)

    pending: list[tuple[Document, Chunk]] = []
    retag: list[tuple[Document, Chunk]] = []
    stale_chunks: list[str] = []
    seen: set[str] = set()
    for doc in docs:
        seen.add(doc.card.id)
        before = existing.get(doc.card.id)
        if before and before["hash"] == doc.content_hash and before["path"] == doc.path:
            report.unchanged += 1
            continue
        chunks = chunk_document(doc)
        old = before["chunks"] if before else {}
        # Re-embed only chunks whose text changed; the rest just get fresh metadata
        # (the front matter, e.g. last_verified, may be what changed).
        for chunk in chunks:
            (retag if old.get(chunk.id) == chunk.hash else pending).append((doc, chunk))
        stale_chunks.extend(set(old) - {c.id for c in chunks})
        if before:
            report.updated += 1
        else:
            report.added += 1
    for doc_id, before in existing.items():
        if doc_id in seen or before["path"] in failed or not _in_scope(before["path"], roots):
            continue
        stale_chunks.extend(before["chunks"])
        report.removed += 1

    _write(collection, pending, progress)
    for start in range(0, len(retag), BATCH):
        batch = retag[start:start + BATCH]
        collection.update(ids=[c.id for _, c in batch],
                          metadatas=[_metadata(d, c) for d, c in batch])
    if stale_chunks:
        collection.delete(ids=stale_chunks)
    report.chunks_written, report.chunks_deleted = len(pending), len(stale_chunks)
    if report.changed or retag or not model_in_index:
        collection.modify(metadata={
            store.INDEX_VERSION: _version(collection),
            store.INGESTED_AT: dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            store.EMBEDDING_MODEL: embeddings.model_name,
        })
    return report


def terminal_progress() -> Callable[[int, int], None] | None:
    """A rich progress bar when stderr is a terminal; nothing in pipes and CI logs."""
    if not sys.stderr.isatty():
        return None
    from rich.progress import Progress

    bar = Progress(transient=True)
    task = None

    def update(done: int, total: int) -> None:
        nonlocal task
        if task is None:
            bar.start()
            task = bar.add_task("embedding chunks", total=total)
        bar.update(task, completed=done)
        if done >= total:
            bar.stop()

    return update
