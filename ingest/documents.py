"""Read one file into a Document: Markdown cards, Markdown posts, plain text, HTML.

Every way a file can be unusable ends in DocumentError with a short reason, so the
pipeline can report it by path and carry on with the rest.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.cards import Card, CardError, card_from_front_matter

SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".html": "html",
            ".htm": "html", ".pdf": "pdf", ".yaml": "sources", ".yml": "sources"}
SKIP_NAMES = {"README.md", "readme.md"}
SOURCES_NAMES = {"sources.yaml", "sources.yml"}


class DocumentError(Exception):
    """This file cannot be ingested; str() is the reason shown to the maintainer."""


@dataclass(frozen=True)
class Document:
    card: Card
    body: str  # Markdown-ish text: '#' headings mark sections
    path: str
    content_hash: str


def discover(paths: list[Path]) -> list[Path]:
    """Files to ingest under the given paths, in a stable order. YAML files count only
    when named sources.yaml (a list of URLs to fetch)."""
    found: list[Path] = []
    for root in paths:
        if root.is_file():
            found.append(root)
            continue
        for path in sorted(root.rglob("*")):
            fmt = SUFFIXES.get(path.suffix.lower())
            if not path.is_file() or fmt is None or path.name in SKIP_NAMES:
                continue
            if fmt == "sources" and path.name not in SOURCES_NAMES:
                continue
            if any(part.startswith(".") for part in path.relative_to(root).parts):
                continue
            found.append(path)
    return found


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    size = path.stat().st_size
    if size > max_bytes:
        raise DocumentError(f"file is {size:,} bytes, over the {max_bytes:,}-byte limit")
    return path.read_bytes()


def _decode(raw: bytes) -> str:
    if not raw.strip():
        raise DocumentError("file is empty")
    if b"\x00" in raw[:8192]:
        raise DocumentError("looks like a binary file, not text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"not UTF-8 text (bad byte at offset {exc.start})") from None


_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)


def _split_front_matter(text: str) -> tuple[dict | None, str]:
    match = _FRONT.match(text)
    if not match:
        if text.startswith("---\n") or text.startswith("---\r\n"):
            raise DocumentError("front matter opened with '---' but never closed")
        return None, text
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise DocumentError(f"malformed front matter{where}: {problem}") from None
    if not isinstance(meta, dict):
        raise DocumentError("front matter must be a YAML mapping of field: value")
    return meta, text[match.end():]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "doc"


def _derived_meta(doc_id: str, title: str, source: str, date: str) -> dict:
    """Metadata for a document that has no front matter: a 'post' named after its source."""
    return {"id": doc_id, "kind": "post", "title": title, "source_url": source,
            "last_verified": date, "confidence": "medium"}


def _title_from(name: str) -> str:
    return name.replace("_", " ").replace("-", " ").strip() or "Untitled"


def _html_to_markdown(html: str) -> tuple[str | None, str]:
    import trafilatura

    body = trafilatura.extract(
        html, output_format="markdown", include_formatting=True, include_links=False,
        include_comments=False, favor_recall=True,
    )
    meta = trafilatura.extract_metadata(html)
    title = meta.title if meta is not None else None
    if not body or not body.strip():
        raise DocumentError("HTML page has no main text")
    return title, body


def _pdf_to_markdown(raw: bytes) -> tuple[str | None, str]:
    """Text per page under '## Page N' headings, so citations can name the page."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            raise DocumentError("PDF is encrypted")
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
        title = (reader.metadata.title if reader.metadata else None) or None
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentError(f"unreadable PDF ({type(exc).__name__})") from None
    if not any(pages):
        raise DocumentError("PDF has no extractable text (scanned images?)")
    body = "\n\n".join(f"## Page {i}\n\n{text}" for i, text in enumerate(pages, 1) if text)
    return title, body


def _first_heading(body: str) -> str | None:
    match = re.search(r"^#\s+(.+)$", body, re.M)
    return match.group(1).strip() if match else None


def document_from_bytes(raw: bytes, fmt: str, rel: str, source: str, stem: str,
                        date: str, overrides: dict | None = None) -> Document:
    """Parse one document's bytes. `rel` identifies it in reports and the index; `source`
    is what citations show when the document has no front matter."""
    content_hash = hashlib.sha256(raw).hexdigest()
    meta: dict | None = None
    if fmt == "pdf":
        if not raw.strip():
            raise DocumentError("file is empty")
        title, body = _pdf_to_markdown(raw)
    else:
        text = _decode(raw)
        if fmt == "html":
            title, body = _html_to_markdown(text)
        elif fmt == "markdown":
            meta, body = _split_front_matter(text)
            title = _first_heading(body)
        else:
            title, body = None, text
    if meta is None:
        meta = _derived_meta(slug(stem), title or _title_from(Path(stem).name), source, date)
        meta.update(overrides or {})
    if not body.strip():
        raise DocumentError("document has front matter but no body text")
    try:
        card = card_from_front_matter(meta)
    except CardError as exc:
        raise DocumentError(str(exc)) from None
    return Document(card=card, body=body, path=rel, content_hash=content_hash)


def load_document(path: Path, rel: str, max_bytes: int) -> Document:
    """Parse a file; rel is the path shown in reports and stored for citations."""
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None or fmt == "sources":
        raise DocumentError(f"unsupported file type {path.suffix or '(none)'}")
    raw = _read_bytes(path, max_bytes)
    modified = dt.date.fromtimestamp(path.stat().st_mtime).isoformat()
    return document_from_bytes(raw, fmt, rel, rel, str(Path(rel).with_suffix("")), modified)
