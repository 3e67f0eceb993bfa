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
            ".htm": "html"}
SKIP_NAMES = {"README.md", "readme.md"}


class DocumentError(Exception):
    """This file cannot be ingested; str() is the reason shown to the maintainer."""


@dataclass(frozen=True)
class Document:
    card: Card
    body: str  # Markdown-ish text: '#' headings mark sections
    path: str
    content_hash: str


def discover(paths: list[Path]) -> list[Path]:
    """Files to ingest under the given paths, in a stable order."""
    found: list[Path] = []
    for root in paths:
        if root.is_file():
            found.append(root)
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix.lower() in SUFFIXES and path.name not in SKIP_NAMES \
                    and not any(part.startswith(".") for part in path.relative_to(root).parts):
                found.append(path)
    return found


def _read_text(path: Path, max_bytes: int) -> str:
    size = path.stat().st_size
    if size > max_bytes:
        raise DocumentError(f"file is {size:,} bytes, over the {max_bytes:,}-byte limit")
    raw = path.read_bytes()
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


def _derived_meta(path: Path, rel: str, title: str | None) -> dict:
    """Metadata for a document that has no front matter: a 'post' named after its file."""
    modified = dt.date.fromtimestamp(path.stat().st_mtime).isoformat()
    return {
        "id": slug(str(Path(rel).with_suffix(""))),
        "kind": "post",
        "title": title or path.stem.replace("_", " ").replace("-", " ").strip(),
        "source_url": rel,
        "last_verified": modified,
        "confidence": "medium",
    }


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


def _first_heading(body: str) -> str | None:
    match = re.search(r"^#\s+(.+)$", body, re.M)
    return match.group(1).strip() if match else None


def load_document(path: Path, rel: str, max_bytes: int) -> Document:
    """Parse a file; rel is the path shown in reports and stored for citations."""
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise DocumentError(f"unsupported file type {path.suffix or '(none)'}")
    text = _read_text(path, max_bytes)
    content_hash = hashlib.sha256(text.encode()).hexdigest()
    meta: dict | None = None
    if fmt == "html":
        title, body = _html_to_markdown(text)
        meta = _derived_meta(path, rel, title)
    else:
        if fmt == "markdown":
            meta, body = _split_front_matter(text)
        else:
            body = text
        if meta is None:
            meta = _derived_meta(path, rel, _first_heading(body) if fmt == "markdown" else None)
    if not body.strip():
        raise DocumentError("document has front matter but no body text")
    try:
        card = card_from_front_matter(meta)
    except CardError as exc:
        raise DocumentError(str(exc)) from None
    return Document(card=card, body=body, path=rel, content_hash=content_hash)
