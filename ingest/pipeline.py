"""Bring the index in line with the documents, publishing the result atomically.

Idempotent: chunk ids carry the document's content hash, so a second run over unchanged
files writes nothing, and a changed document re-embeds only its own chunks. An ingest
writes index version live+1 beside the live one (new chunks tagged v_from, removed ones
tagged v_to) and publishes it by bumping the collection's live version once every document
is in. Readers filter by version, so they never see half an index; a crash before the bump
leaves the old version serving, and the next run clears the leftovers. A file that fails
to parse is reported and its previously ingested chunks are kept.
"""
from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chromadb.api.models.Collection import Collection

from bot import store
from bot.embeddings import AccessBotEmbeddings
from bot.settings import PROJECT_ROOT, Settings
from ingest.chunking import Chunk, chunk_document
from ingest.documents import (
    SOURCES_NAMES, Document, DocumentError, discover, load_document,
)
from ingest.remote import fetch_sources
from ingest.lock import ingest_lock

BATCH = 64
Gate = Callable[[Collection, int], list[str]]  # (collection, candidate version) -> problems


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    chunks_written: int = 0
    chunks_deleted: int = 0
    version: int = 0
    published: bool = True
    gate_failures: list[str] = field(default_factory=list)
    changed_cards: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.chunks_written or self.chunks_deleted)

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added, "updated": self.updated, "removed": self.removed,
            "unchanged": self.unchanged, "errors": self.errors,
            "chunks_written": self.chunks_written, "chunks_deleted": self.chunks_deleted,
            "version": self.version, "published": self.published,
            "gate_failures": self.gate_failures,
        }


def display_path(path: Path) -> str:
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(resolved)


def _absolute(stored: str) -> Path:
    """The file a stored path names ('x/sources.yaml#https://...' names x/sources.yaml)."""
    path = Path(stored.split("#", 1)[0])
    return path if path.is_absolute() else PROJECT_ROOT / path


def _in_scope(stored: str, roots: list[Path]) -> bool:
    path = _absolute(stored)
    return any(path == root or root in path.parents for root in roots)


def _live_docs(collection: Collection, live: int) -> dict[str, dict[str, Any]]:
    """doc_id -> {hash, path, chunks: [ids]} for the live version."""
    docs: dict[str, dict[str, Any]] = {}
    if live == 0:
        return docs
    got = store.read_all(collection, store.in_version(live), ["metadatas"])
    for chunk_id, meta in zip(got["ids"], got["metadatas"] or []):
        doc = docs.setdefault(meta[store.DOC_ID], {
            "hash": meta.get(store.DOC_HASH), "path": meta.get(store.PATH), "chunks": [],
        })
        doc["chunks"].append(chunk_id)
    return docs


def _recover(collection: Collection, live: int) -> None:
    """Drop what a crashed or refused ingest left above the live version, and versions
    older than the previous one (no reader can still be using them)."""
    orphans = collection.get(where={store.V_FROM: {"$gt": live}}, include=[])["ids"]
    if orphans:
        collection.delete(ids=orphans)
    _untombstone(collection, above=live)
    superseded = collection.get(where={"$and": [{store.V_TO: {"$gt": 0}},
                                                {store.V_TO: {"$lt": live}}]}, include=[])["ids"]
    if superseded:
        collection.delete(ids=superseded)


def _untombstone(collection: Collection, above: int) -> None:
    marked = collection.get(where={store.V_TO: {"$gt": above}}, include=[])["ids"]
    for start in range(0, len(marked), 500):
        ids = marked[start:start + 500]
        collection.update(ids=ids, metadatas=[{store.V_TO: 0}] * len(ids))


def _documents(files: list[Path], max_bytes: int) -> Iterator[tuple[str, Document | Exception]]:
    """Every document to ingest, or the error loading it, with the path that names it."""
    for path in files:
        rel = display_path(path)
        if path.name in SOURCES_NAMES:
            try:
                yield from fetch_sources(path, rel, max_bytes)
            except DocumentError as exc:
                yield rel, exc
            continue
        try:
            yield rel, load_document(path, rel, max_bytes)
        except (DocumentError, OSError) as exc:
            yield rel, exc


def _load_all(files: list[Path], settings: Settings, report: IngestReport,
              live: dict[str, dict[str, Any]]) -> tuple[list[Document], set[str]]:
    """Parsed documents, and the paths that failed (their old chunks must be kept)."""
    docs: list[Document] = []
    failed: set[str] = set()
    owner: dict[str, str] = {}
    for rel, loaded in _documents(files, settings.max_document_bytes):
        if isinstance(loaded, Document):
            other = owner.get(loaded.card.id)
            prior = live.get(loaded.card.id, {}).get("path")
            if other is None and prior and prior != rel and _absolute(prior).exists():
                other = prior
            if other:
                loaded = DocumentError(f"duplicate id '{loaded.card.id}', already used by {other}")
        if isinstance(loaded, Exception):
            reason = f"cannot read file: {loaded.strerror}" if isinstance(loaded, OSError) \
                else str(loaded)
            report.errors.append({"path": rel, "error": reason})
            failed.add(rel)
            continue
        owner[loaded.card.id] = rel
        docs.append(loaded)
    return docs, failed


def _metadata(doc: Document, chunk: Chunk, version: int) -> dict[str, Any]:
    card = doc.card
    meta: dict[str, Any] = {
        store.DOC_ID: card.id, store.DOC_HASH: doc.content_hash, store.CHUNK_HASH: chunk.hash,
        store.CHUNK_INDEX: chunk.index, store.HEADING: chunk.heading, store.PATH: doc.path,
        store.KIND: card.kind, store.TITLE: card.title, store.SOURCE_URL: card.source_url,
        store.LAST_VERIFIED: card.last_verified, store.CONFIDENCE: card.confidence,
        store.V_FROM: version, store.V_TO: 0,
    }
    if chunk.index == 0:
        meta[store.CARD_JSON] = card.to_json()
    return meta


def _write(collection: Collection, pending: list[tuple[Document, Chunk]], version: int,
           progress: Callable[[int, int], None] | None) -> None:
    for start in range(0, len(pending), BATCH):
        batch = pending[start:start + BATCH]
        collection.add(
            ids=[c.id for _, c in batch],
            documents=[c.text for _, c in batch],
            metadatas=[_metadata(d, c, version) for d, c in batch],
        )
        if progress:
            progress(min(start + BATCH, len(pending)), len(pending))


def _tombstone(collection: Collection, ids: list[str], version: int) -> None:
    for start in range(0, len(ids), 500):
        batch = ids[start:start + 500]
        collection.update(ids=batch, metadatas=[{store.V_TO: version}] * len(batch))


def _publish(collection: Collection, version: int, model: str, documents: int) -> None:
    collection.modify(metadata={
        store.LIVE_VERSION: version,
        store.INGESTED_AT: dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        store.EMBEDDING_MODEL: model,
        store.DOCUMENTS: documents,
    })


def _plan(docs: list[Document], live: dict[str, dict[str, Any]], roots: list[Path],
          failed: set[str], report: IngestReport) -> tuple[list[tuple[Document, Chunk]], list[str]]:
    """What to embed and what to retire, counting documents into the report."""
    pending: list[tuple[Document, Chunk]] = []
    retire: list[str] = []
    seen: set[str] = set()
    for doc in docs:
        seen.add(doc.card.id)
        before = live.get(doc.card.id)
        if before and before["hash"] == doc.content_hash and before["path"] == doc.path:
            report.unchanged += 1
            continue
        pending.extend((doc, c) for c in chunk_document(doc))
        retire.extend(before["chunks"] if before else [])
        report.changed_cards.append(doc.card.id)
        if before:
            report.updated += 1
        else:
            report.added += 1
    for doc_id, before in live.items():
        stored = before["path"]
        if doc_id in seen or stored in failed or stored.split("#", 1)[0] in failed \
                or not _in_scope(stored, roots):
            continue
        retire.extend(before["chunks"])
        report.changed_cards.append(doc_id)
        report.removed += 1
    return pending, retire


def run_ingest(paths: Iterable[Path], settings: Settings, embeddings: AccessBotEmbeddings,
               progress: Callable[[int, int], None] | None = None,
               gate: Gate | None = None, wait: bool = True) -> IngestReport:
    """Ingest `paths`; `gate` may veto publishing the new version (the eval gate)."""
    roots = [Path(p).resolve() for p in paths]
    report = IngestReport()
    for root in roots:
        if not root.exists():
            report.errors.append({"path": display_path(root), "error": "no such file or folder"})
    roots = [r for r in roots if r.exists()]
    client = store.open_client(settings)
    with ingest_lock(settings, client, wait=wait):
        collection = store.create_collection(client, settings, embeddings)
        info = store.index_info(collection)
        report.version = info.version
        if info.embedding_model and info.embedding_model != embeddings.model_name:
            report.errors.append({"path": str(settings.chroma_path), "error": (
                f"index was built with embedding model {info.embedding_model!r}, not "
                f"{embeddings.model_name!r}; delete {settings.chroma_path} or use another "
                "ACCESSBOT_COLLECTION")})
            report.published = False
            return report
        _recover(collection, info.version)
        live = _live_docs(collection, info.version)
        docs, failed = _load_all(discover(roots), settings, report, live)
        pending, retire = _plan(docs, live, roots, failed, report)
        if not pending and not retire:
            return report
        candidate = info.version + 1
        _write(collection, pending, candidate, progress)
        _tombstone(collection, retire, candidate)
        report.chunks_written, report.chunks_deleted = len(pending), len(retire)
        if gate is not None:
            report.gate_failures = gate(collection, candidate)
            if report.gate_failures:
                report.published = False
                _recover(collection, info.version)
                return report
        documents = len(live) + report.added - report.removed
        _publish(collection, candidate, embeddings.model_name, documents)
        report.version = candidate
        _recover(collection, candidate)
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
