"""Heading-aware chunking with ids that survive edits elsewhere in the document.

A chunk is one section (text under a heading), split further at paragraph boundaries
when it is longer than the embedding model reads (~256 tokens). Its id is the document
id, the heading's slug and the document's content hash: the same text always gets the
same id, and an edited document gets new ids, which is what lets a new index version be
written beside the live one.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from ingest.documents import Document, slug

MAX_WORDS = 170
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


@dataclass(frozen=True)
class Chunk:
    id: str
    doc_id: str
    index: int
    heading: str
    text: str  # what is embedded and shown as a quote: title, heading, then the section

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:16]


def _sections(body: str) -> list[tuple[str, str]]:
    sections: list[tuple[str, list[str]]] = [("", [])]
    in_fence = False
    for line in body.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match:
            sections.append((match.group(2).strip(), []))
        else:
            sections[-1][1].append(line)
    return [(h, "\n".join(lines).strip()) for h, lines in sections if "\n".join(lines).strip()]


def _pieces(text: str) -> list[str]:
    """Split a long section at paragraph (then sentence) boundaries into ~MAX_WORDS pieces."""
    if len(text.split()) <= MAX_WORDS:
        return [text]
    units: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        if len(para.split()) <= MAX_WORDS:
            units.append(para)
        else:
            units.extend(re.split(r"(?<=[.!?])\s+", para))
    pieces: list[str] = []
    current: list[str] = []
    for unit in units:
        if current and len(" ".join(current + [unit]).split()) > MAX_WORDS:
            pieces.append("\n\n".join(current))
            current = []
        current.append(unit)
    if current:
        pieces.append("\n\n".join(current))
    return pieces


def chunk_document(doc: Document) -> list[Chunk]:
    title = doc.card.title
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    for heading, text in _sections(doc.body):
        if heading and heading.strip().lower() == title.strip().lower() and not chunks:
            heading = ""
        for piece in _pieces(text):
            key = slug(heading) if heading else "intro"
            seen[key] = seen.get(key, 0) + 1
            if seen[key] > 1:
                key = f"{key}-{seen[key]}"
            prefix = f"{title} — {heading}" if heading else title
            chunks.append(Chunk(
                id=f"{doc.card.id}#{key}@{doc.content_hash[:10]}", doc_id=doc.card.id,
                index=len(chunks),
                heading=heading, text=f"{prefix}\n\n{piece}",
            ))
    return chunks
