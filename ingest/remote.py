"""`sources.yaml`: a list of web pages and PDFs to fetch and ingest like local files.

    - url: https://example.org/terms.pdf
      title: Example terms        # optional; otherwise the page's own title
      id: example-terms           # optional; otherwise derived from the URL
      kind: policy                # optional; default post
      last_verified: 2026-10-01   # optional; default: the day it was fetched

Every fetch has a timeout and a size limit; a page that cannot be fetched (offline, 404,
too big, unsupported type) is reported by URL and its previously ingested text is kept.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import yaml

from ingest.documents import Document, DocumentError, document_from_bytes, slug

TIMEOUT = httpx.Timeout(15.0, connect=5.0)
_TYPES = {"text/html": "html", "application/xhtml+xml": "html", "application/pdf": "pdf",
          "text/plain": "text", "text/markdown": "markdown"}
_OVERRIDABLE = ("title", "kind", "last_verified", "confidence", "summary")


def read_entries(path: Path) -> list[dict]:
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise DocumentError(f"sources file is not valid YAML: {exc}") from None
    if not isinstance(entries, list) or not all(isinstance(e, dict) and e.get("url")
                                                 for e in entries):
        raise DocumentError("sources file must be a list of entries, each with a 'url'")
    return entries


def _fetch(client: httpx.Client, url: str, max_bytes: int) -> tuple[bytes, str]:
    if urlparse(url).scheme not in ("http", "https"):
        raise DocumentError(f"not an http(s) URL: {url}")
    try:
        with client.stream("GET", url) as response:
            if response.status_code >= 400:
                raise DocumentError(f"HTTP {response.status_code} from {url}")
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            data = bytearray()
            for part in response.iter_bytes():
                data.extend(part)
                if len(data) > max_bytes:
                    raise DocumentError(f"{url} is over the {max_bytes:,}-byte limit")
    except httpx.TimeoutException:
        raise DocumentError(f"timed out fetching {url}") from None
    except httpx.TransportError as exc:
        raise DocumentError(f"cannot fetch {url} ({type(exc).__name__}: offline or "
                            "unreachable?)") from None
    fmt = _TYPES.get(kind) or ("pdf" if url.lower().endswith(".pdf") else None)
    if fmt is None:
        raise DocumentError(f"unsupported content type {kind or '(none)'} at {url}")
    return bytes(data), fmt


def fetch_sources(path: Path, rel: str, max_bytes: int,
                  client: httpx.Client | None = None) -> Iterator[tuple[str, Document | DocumentError]]:
    """(entry id, document or the reason it failed) for every URL in a sources file."""
    entries = read_entries(path)
    today = dt.date.today().isoformat()
    owned = client is None
    client = client or httpx.Client(timeout=TIMEOUT, follow_redirects=True,
                                    headers={"User-Agent": "AccessBot ingest"})
    try:
        for entry in entries:
            url = str(entry["url"]).strip()
            parsed = urlparse(url)
            doc_id = str(entry.get("id") or slug(f"{parsed.netloc}{parsed.path}"))
            overrides = {k: entry[k] for k in _OVERRIDABLE if entry.get(k) is not None}
            overrides["id"] = doc_id
            try:
                raw, fmt = _fetch(client, url, max_bytes)
                yield f"{rel}#{url}", document_from_bytes(raw, fmt, f"{rel}#{url}", url, doc_id,
                                                          today, overrides)
            except DocumentError as exc:
                yield f"{rel}#{url}", exc
    finally:
        if owned:
            client.close()
