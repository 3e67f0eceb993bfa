"""Owns the Chroma collection: its name, its metadata keys, and how to open it.

Both `ingest/` and the advisor import these names; nothing else should know them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings

from bot.embeddings import AccessBotEmbeddings
from bot.settings import Settings

# Chunk metadata keys.
DOC_ID = "doc_id"
DOC_HASH = "doc_hash"
CHUNK_HASH = "chunk_hash"
CHUNK_INDEX = "chunk_index"
HEADING = "heading"
PATH = "path"
KIND = "kind"
TITLE = "title"
SOURCE_URL = "source_url"
LAST_VERIFIED = "last_verified"
CONFIDENCE = "confidence"
# The full front matter as JSON, kept on each document's first chunk only.
CARD_JSON = "card_json"
# Versioning: a chunk belongs to every index version v with V_FROM <= v and (V_TO == 0 or
# v < V_TO). An ingest writes version live+1 beside the live one and publishes it by
# bumping LIVE_VERSION once everything is in, so readers never see half an index.
V_FROM = "v_from"
V_TO = "v_to"

# Collection metadata.
LIVE_VERSION = "live_version"
INGESTED_AT = "ingested_at"
EMBEDDING_MODEL = "embedding_model"
DOCUMENTS = "documents"


class IndexMissing(Exception):
    """No index yet; the message tells the user to run the ingest."""


@dataclass(frozen=True)
class IndexInfo:
    version: int
    ingested_at: str
    embedding_model: str
    documents: int


def in_version(version: int) -> dict[str, Any]:
    """Chroma `where` filter selecting the chunks of one index version."""
    return {"$and": [{V_FROM: {"$lte": version}},
                     {"$or": [{V_TO: {"$eq": 0}}, {V_TO: {"$gt": version}}]}]}


def open_client(settings: Settings) -> ClientAPI:
    """The embedded on-disk store, or a Chroma server when ACCESSBOT_CHROMA_URL is set."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or 8000,
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)


def create_collection(
    client: ClientAPI, settings: Settings, embeddings: AccessBotEmbeddings
) -> Collection:
    return client.get_or_create_collection(
        settings.collection,
        embedding_function=embeddings,
        configuration={"hnsw": {"space": "cosine"}},
    )


def existing_collection(
    client: ClientAPI, settings: Settings, embeddings: AccessBotEmbeddings
) -> Collection:
    try:
        collection = client.get_collection(settings.collection, embedding_function=embeddings)
    except Exception as exc:  # chromadb raises NotFoundError / ValueError by version
        raise IndexMissing(
            "no knowledge index found: run `accessbot ingest` first"
        ) from exc
    if collection.count() == 0 or index_info(collection).version == 0:
        raise IndexMissing("the knowledge index is empty: run `accessbot ingest` first")
    return collection


READ_BATCH = 5000  # SQLite allows 32,766 bound variables per statement


def read_all(collection: Collection, where: dict[str, Any] | None,
             include: list[str]) -> dict[str, list[Any]]:
    """`collection.get` for any number of chunks.

    chromadb's embedded store fails a get returning documents or metadatas for more than
    ~32k rows ("too many SQL variables"), so read the ids first (that works at any size),
    then the rest by id in batches.
    """
    ids = collection.get(where=where, include=[])["ids"]
    out: dict[str, list[Any]] = {"ids": [], **{key: [] for key in include}}
    for start in range(0, len(ids), READ_BATCH):
        got = collection.get(ids=ids[start:start + READ_BATCH], include=include)
        out["ids"] += got["ids"]
        for key in include:
            out[key] += list(got[key] or [])
    return out


def index_info(collection: Collection) -> IndexInfo:
    meta: dict[str, Any] = collection.metadata or {}
    return IndexInfo(
        version=int(meta.get(LIVE_VERSION, 0)),
        ingested_at=str(meta.get(INGESTED_AT, "")),
        embedding_model=str(meta.get(EMBEDDING_MODEL, "")),
        documents=int(meta.get(DOCUMENTS, 0)),
    )


def detach_embedded(settings: Settings) -> Any | None:
    """Make the next open_client() build a new embedded Chroma for this path.

    An embedded Chroma keeps its vector index in memory per process, so an index published
    by another process (an `accessbot ingest` while a bot runs) is invisible to it, and
    querying the new version's chunks fails. Returns the detached system, which the caller
    stops once no query can still be using it; None in server mode.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    if settings.chroma_url:
        return None
    return SharedSystemClient._identifier_to_system.pop(str(settings.chroma_path), None)
