"""Our Answer -> Discord embeds and plain text, always within Discord's limits.

Pure functions, no client and no network, so the limits can be tested on their own. Text
that would not fit is split across continuation embeds, or trimmed with a visible mark;
Discord would otherwise reject the whole message with a 400.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import discord

from bot import messages
from bot.advisor.types import Answer, Citation

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
CONTENT = 2000
TITLE = 256
DESCRIPTION = 4096
FIELD_NAME = 256
FIELD_VALUE = 1024
FIELDS = 25
FOOTER = 2048
EMBED_TOTAL = 6000  # title + description + field names and values + footer, per message
EMBEDS_PER_MESSAGE = 10
THREAD_NAME = 100

# Our own caps, so a runaway answer cannot flood a channel.
MAX_DESCRIPTION_EMBEDS = 4   # about 16,000 characters of answer text
MAX_SOURCES = 40
FOOTER_ROOM = 200           # kept free in the last embed for the footer

COLOUR = discord.Colour(0x2B6CB0)
DECLINE_COLOUR = discord.Colour.light_grey()
TRIM_MARK = f"… {messages.TRIMMED}"
# The section headings the advisor writes (every *_HEADING in messages), shown bold.
_HEADINGS = {v for k, v in vars(messages).items() if k.endswith("_HEADING") and isinstance(v, str)}
_LIST_MARKER = re.compile(r"^(\s*(?:[-*]|\d+\.)\s+)?(.*)$", re.S)
_FOOTER_PREFIX = messages.DISCORD_FOOTER.split("{", 1)[0]
_FOOTER_JOIN = " · "
_ANSWER_REF = re.compile(re.escape(messages.DISCORD_ANSWER_REF.split("{", 1)[0]) + r"([0-9a-f]{8,32})$")


def trim(text: str, limit: int, mark: str = TRIM_MARK) -> str:
    """Text within limit; when cut, cut at a word and end with a mark the reader sees."""
    if len(text) <= limit:
        return text
    cut = text[: limit - len(mark)]
    space = cut.rfind(" ", len(cut) // 2)
    return (cut[:space] if space > 0 else cut).rstrip() + mark


def split_text(text: str, limit: int) -> list[str]:
    """Chunks of at most limit characters, cut at paragraphs, else lines, else words."""
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        end, start = _cut_point(rest, limit)
        chunks.append(rest[:end].rstrip())
        rest = rest[start:].lstrip("\n")
    chunks.append(rest)
    return [c for c in chunks if c.strip()] or [""]


def _cut_point(text: str, limit: int) -> tuple[int, int]:
    for separator in ("\n\n", "\n", " "):
        at = text.rfind(separator, limit // 2, limit)
        if at > 0:
            return at, at + len(separator)
    return limit, limit


def content(text: str) -> str:
    """Plain message text (errors, notices) within the 2000-character limit."""
    return trim(text, CONTENT)


def plain_content(text: str) -> str:
    """Our own plain text with card titles and ids in it (reports, notices), markdown
    escaped so names like recall_at_5 show as written, within the content limit."""
    return content(discord.utils.escape_markdown(text))


def thread_name(question: str) -> str:
    """A thread title from the question: one line, at most 100 characters."""
    return trim(" ".join(question.split()), THREAD_NAME, mark="…") or messages.DISCORD_THREAD_NAME


def markdown(text: str) -> str:
    """The advisor's plain text for Discord: headings bold, list markers kept, and any
    markdown characters quoted from documents escaped so they show as written."""
    lines = []
    for line in text.splitlines():
        if line.strip() in _HEADINGS:
            lines.append(f"**{line.strip()}**")
            continue
        marker, rest = _LIST_MARKER.match(line).groups()
        lines.append((marker or "") + discord.utils.escape_markdown(rest))
    return "\n".join(lines)


def plain(text: str) -> str:
    """Undo markdown(): the advisor's text back from an embed we sent (for history)."""
    return re.sub(r"\\(.)", r"\1", text.replace("**", ""))


def source_line(citation: Citation) -> str:
    """'[n] Title (linked when the source is a URL) · last verified DATE'."""
    title = discord.utils.escape_markdown(citation.title).replace("[", "(").replace("]", ")")
    if citation.source.startswith(("https://", "http://")):
        url = citation.source.replace(" ", "%20").replace(")", "%29")
        title = f"[{title}]({url})"
    elif citation.source:
        title = f"{title} — {discord.utils.escape_markdown(citation.source)}"
    date = citation.last_verified or "?"
    verified = (f"⚠️ {messages.STALE_NOTE.format(date=date)}" if citation.stale
                else messages.DISCORD_VERIFIED.format(date=date))
    return messages.DISCORD_SOURCE_LINE.format(n=citation.n, title=title, verified=verified)


def source_fields(citations: Sequence[Citation]) -> list[tuple[str, str]]:
    """The numbered sources as (name, value) fields of at most 1024 characters each."""
    lines = [trim(source_line(c), FIELD_VALUE) for c in citations[:MAX_SOURCES]]
    if len(citations) > MAX_SOURCES:
        lines.append(messages.DISCORD_MORE_SOURCES.format(count=len(citations) - MAX_SOURCES))
    values: list[str] = []
    for line in lines:
        if values and len(values[-1]) + 1 + len(line) <= FIELD_VALUE:
            values[-1] += "\n" + line
        else:
            values.append(line)
    return [(messages.DISCORD_SOURCES if i == 0 else
             f"{messages.DISCORD_SOURCES} {messages.DISCORD_CONTINUED}", v)
            for i, v in enumerate(values)]


def footer_text(answer: Answer) -> str:
    """Names the answer and its route cards, so a feedback click can be tied to the
    question log and the cards even after a restart (the buttons' ids are fixed)."""
    ref = messages.DISCORD_ANSWER_REF.format(id=answer.id)
    cards = [r.card_id for r in answer.routes]
    if not cards:
        return ref
    listed = trim(messages.DISCORD_FOOTER.format(cards=", ".join(cards)),
                  FOOTER_ROOM - len(ref) - len(_FOOTER_JOIN))
    return f"{listed}{_FOOTER_JOIN}{ref}"


def _footers(embeds: Iterable[discord.Embed]) -> list[str]:
    return [embed.footer.text for embed in embeds if embed.footer and embed.footer.text]


def cards_from_embeds(embeds: Iterable[discord.Embed]) -> tuple[str, ...]:
    """The card ids footer_text() put on an answer we sent."""
    for text in _footers(embeds):
        listed = text.split(_FOOTER_JOIN, 1)[0]
        if listed.startswith(_FOOTER_PREFIX):
            cards = listed[len(_FOOTER_PREFIX):].removesuffix(TRIM_MARK)
            return tuple(c.strip() for c in cards.split(",") if c.strip())
    return ()


def answer_id_from_embeds(embeds: Iterable[discord.Embed]) -> str:
    """The Answer.id footer_text() put on an answer we sent ('' for older messages)."""
    for text in _footers(embeds):
        match = _ANSWER_REF.search(text)
        if match:
            return match.group(1)
    return ""


def answer_messages(answer: Answer, title: str = "") -> list[list[discord.Embed]]:
    """The answer as one or more messages of embeds, each within every Discord limit.

    The first embed holds the answer text (routes with how to apply, the bottleneck, the
    evidence), continuation embeds are titled as such, the sources follow as linked fields
    with their last-verified dates, and the last embed carries the card footer.
    """
    colour = COLOUR if answer.grounded else DECLINE_COLOUR
    embeds = _description_embeds(markdown(answer.text), colour)
    if title:
        embeds[0].title = trim(" ".join(title.split()), TITLE)
    for name, value in source_fields(answer.citations):
        _add_field(embeds, name, value, colour)
    footer = footer_text(answer)
    if footer:
        embeds[-1].set_footer(text=footer)
    return _pack(embeds)


def partial_embed(text: str, title: str = "") -> discord.Embed:
    """The answer so far while the LLM writes it: escaped like a final answer, one embed
    within the limits, marked as still being written."""
    embed = discord.Embed(description=trim(markdown(text), DESCRIPTION), colour=COLOUR)
    if title:
        embed.title = trim(" ".join(title.split()), TITLE)
    return embed.set_footer(text=messages.STREAMING)


def _description_embeds(text: str, colour: discord.Colour) -> list[discord.Embed]:
    chunks = split_text(text, DESCRIPTION)
    if len(chunks) > MAX_DESCRIPTION_EMBEDS:
        chunks = chunks[:MAX_DESCRIPTION_EMBEDS]
        chunks[-1] = chunks[-1][: DESCRIPTION - len(TRIM_MARK) - 1].rstrip() + "\n" + TRIM_MARK
    embeds = [discord.Embed(description=c, colour=colour) for c in chunks]
    for embed in embeds[1:]:
        embed.title = messages.DISCORD_CONTINUED
    return embeds


def _add_field(embeds: list[discord.Embed], name: str, value: str, colour: discord.Colour) -> None:
    """Add to the last embed if it still fits there, else to a new one."""
    name, value = trim(name, FIELD_NAME), trim(value, FIELD_VALUE)
    last = embeds[-1]
    if len(last.fields) >= FIELDS or len(last) + len(name) + len(value) > EMBED_TOTAL - FOOTER_ROOM:
        last = discord.Embed(colour=colour)
        embeds.append(last)
    last.add_field(name=name, value=value, inline=False)


def _pack(embeds: list[discord.Embed]) -> list[list[discord.Embed]]:
    """Group embeds into messages: at most 10 each and 6000 characters in total."""
    pages: list[list[discord.Embed]] = [[]]
    total = 0
    for embed in embeds:
        if pages[-1] and (len(pages[-1]) >= EMBEDS_PER_MESSAGE or total + len(embed) > EMBED_TOTAL):
            pages.append([])
            total = 0
        pages[-1].append(embed)
        total += len(embed)
    return pages
