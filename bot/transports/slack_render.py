"""Slack text in, Block Kit out: the only place that knows Slack's markup and limits.

Everything that reaches Slack passes through `escape`, so text from a question or a
knowledge document can never ping a channel, a user group or a user, and never breaks
the markup. Slack's size limits are met by splitting, and where that is not enough by
trimming with a visible marker.
"""
from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

from bot import messages
from bot.advisor import Answer

SECTION_CHARS = 3000  # Block Kit section / context text
MAX_BLOCKS = 50  # blocks per message
MESSAGE_CHARS = 40_000  # top-level message text
BUTTON_VALUE_CHARS = 2000

FEEDBACK_BLOCK = "feedback"
FEEDBACK_ACK_BLOCK = "feedback_ack"
HELPFUL = "feedback_helpful"
NOT_HELPFUL = "feedback_not_helpful"
SHARE = "share_answer"

_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.I)
_URL_UNSAFE = {"<": "%3C", ">": "%3E", "|": "%7C", " ": "%20", '"': "%22"}
Block = dict[str, Any]


def _inbound(match: re.Match[str]) -> str:
    """One Slack link or mention as the plain words a reader sees."""
    target, label = match.group(1), match.group(2)
    if target[0] in "@#":
        return f"{target[0]}{label.lstrip('@#')}" if label else target[0] + "someone"
    if target.startswith("!"):
        word = target[1:].split("^")[0]
        return f"@{label.lstrip('@')}" if label else f"@{word}"
    return label or target


def question_text(text: str, bot_user_id: str = "") -> str:
    """A Slack message as the plain question the advisor reads: mentions of the bot
    removed, other links and mentions turned into words, entities decoded."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(\|[^>]*)?>", " ", text)
    text = _LINK.sub(_inbound, text)
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def escape(text: str) -> str:
    """Text safe to post: Slack's three control characters escaped and broadcast words
    (@here, @channel, @everyone) broken with a zero-width space so nothing notifies."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub(lambda m: "@\u200b" + m.group(1), text)


def _safe_url(url: str) -> str | None:
    """A URL usable inside <url|label>, or None when it is not a web or mail address."""
    url = url.strip()
    if not re.match(r"^(https?://|mailto:)\S+$", url):
        return None
    for char, code in _URL_UNSAFE.items():
        url = url.replace(char, code)
    return url.replace("&", "&amp;")


def link(url: str, label: str) -> str:
    """A Slack link with an escaped label, or just the label when the URL is unusable."""
    safe = _safe_url(url)
    shown = escape(label).replace("|", "¦")
    return f"<{safe}|{shown}>" if safe else shown


def _cut(text: str, limit: int) -> int:
    """Where to cut text at most `limit` long: a line break, else a space, never inside
    an escape like &amp;."""
    for sep in ("\n", " "):
        at = text.rfind(sep, limit // 2, limit)
        if at > 0:
            return at
    amp = text.rfind("&", limit - 6, limit)
    return amp if amp > 0 else limit


def split_text(text: str, limit: int = SECTION_CHARS) -> list[str]:
    """Text in pieces of at most `limit` characters, broken at lines or words."""
    pieces: list[str] = []
    while len(text) > limit:
        at = _cut(text, limit)
        pieces.append(text[:at].rstrip())
        text = text[at:].lstrip()
    if text.strip():
        pieces.append(text)
    return pieces


def trim(text: str, limit: int) -> str:
    """Text within `limit` characters, ending with a visible "(trimmed)" if it was cut."""
    if len(text) <= limit:
        return text
    marker = f" {messages.TRIMMED}"
    return text[: _cut(text, limit - len(marker))].rstrip() + marker


def mrkdwn(text: str) -> dict[str, Any]:
    """A mrkdwn text object; verbatim so Slack does not turn words into mentions."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(text)}


def context(text: str, block_id: str | None = None) -> Block:
    block: Block = {"type": "context", "elements": [mrkdwn(trim(text, SECTION_CHARS))]}
    if block_id:
        block["block_id"] = block_id
    return block


def _button(action_id: str, label: str, value: str, style: str | None = None) -> dict[str, Any]:
    button = {"type": "button", "action_id": action_id, "value": value[:BUTTON_VALUE_CHARS],
              "text": {"type": "plain_text", "text": label, "emoji": True}}
    if style:
        button["style"] = style
    return button


HEADINGS = (messages.ROUTES_HEADING, messages.DEPENDS_HEADING, messages.RULED_OUT_HEADING,
            messages.BOTTLENECK_HEADING, messages.EVIDENCE_HEADING)


def _emphasise(paragraph: str, answer: Answer) -> str:
    """Bold the advisor's section headings and route names, already escaped."""
    lines = paragraph.split("\n")
    if lines and lines[0] in {escape(h) for h in HEADINGS}:
        lines[0] = f"*{lines[0]}*"
    names = {f"{i}. {escape(r.name)}" for i, r in enumerate(answer.routes, 1)}
    for i, line in enumerate(lines):
        for name in names:
            if line.startswith(name + " ") or line == name:
                lines[i] = f"*{name}*{line[len(name):]}"
    return "\n".join(lines)


def text_blocks(answer: Answer) -> list[Block]:
    """The answer text, one section per paragraph, split to Slack's section limit."""
    blocks = []
    for paragraph in escape(answer.text).split("\n\n"):
        for piece in split_text(_emphasise(paragraph.strip("\n"), answer)):
            blocks.append(section(piece))
    return blocks


def source_line(citation: Any) -> str:
    """'[n] <url|title> — last verified DATE' with a warning when the card is stale."""
    shown = link(citation.source, citation.title)
    if _safe_url(citation.source) is None and citation.source:
        shown = f"{escape(citation.title)} — {escape(citation.source)}"
    line = f"[{citation.n}] {shown} — {messages.LAST_VERIFIED.format(date=escape(citation.last_verified))}"
    if citation.stale:
        line += f" :warning: {escape(messages.STALE_NOTE.format(date=citation.last_verified))}"
    return line


def source_blocks(answer: Answer) -> list[Block]:
    if not answer.citations:
        return []
    text = "\n".join([f"*{escape(messages.SOURCES_HEADING)}*"]
                     + [source_line(c) for c in answer.citations])
    return [{"type": "divider"}] + [section(piece) for piece in split_text(text)]


def cited_cards(answer: Answer) -> list[str]:
    """Card ids the answer rests on (routes first), for the feedback record."""
    ids = [r.card_id for r in answer.routes] + [c.card_id for c in answer.citations]
    return list(dict.fromkeys(i for i in ids if i))


def feedback_value(answer: Answer) -> str:
    """'answer-id:card,card' carried by the buttons, so a click needs no server-side state
    and the vote links to the question log through the answer id."""
    value = f"{answer.id}:"
    for card in cited_cards(answer):
        candidate = f"{value}{card}" if value.endswith(":") else f"{value},{card}"
        if len(candidate) > BUTTON_VALUE_CHARS:
            break
        value = candidate
    return value


def read_feedback_value(value: str) -> tuple[str, list[str]]:
    """(answer id, card ids) from a feedback button's value."""
    answer_id, _, cards = value.partition(":")
    return answer_id, [c for c in cards.split(",") if c]


def action_blocks(answer: Answer, share_key: str | None = None) -> list[Block]:
    """Helpful / Not helpful, plus Share for an answer only the asker can see."""
    value = feedback_value(answer)
    elements = [_button(HELPFUL, messages.HELPFUL_BUTTON, value),
                _button(NOT_HELPFUL, messages.NOT_HELPFUL_BUTTON, value)]
    if share_key:
        elements.insert(0, _button(SHARE, messages.SHARE_BUTTON, share_key, style="primary"))
    return [{"type": "actions", "block_id": FEEDBACK_BLOCK, "elements": elements}]


def fit_blocks(content: list[Block], tail: list[Block], limit: int = MAX_BLOCKS) -> list[Block]:
    """content + tail within Slack's block limit, the content trimmed with a marker."""
    if len(content) + len(tail) <= limit:
        return content + tail
    keep = limit - len(tail) - 1
    return content[:keep] + [context(f"_{messages.TRIMMED}_")] + tail


def answer_blocks(answer: Answer, share_key: str | None = None,
                  heading: Iterable[Block] = ()) -> list[Block]:
    """The whole answer as Block Kit: the text (routes with how to apply, the bottleneck,
    quotes), the sources as links with dates, the feedback buttons."""
    content = list(heading) + text_blocks(answer) + source_blocks(answer)
    return fit_blocks(content, action_blocks(answer, share_key))


def answer_text(answer: Answer) -> str:
    """The message's plain text (notifications, search, the thread history we read back)."""
    return trim(escape(answer.text), MESSAGE_CHARS)


def partial_text(text: str) -> str:
    """The message text while the LLM is still writing: escaped and within limits."""
    return trim(escape(text), MESSAGE_CHARS)


def partial_blocks(text: str) -> list[Block]:
    """The answer so far, escaped like a final answer, marked as still being written."""
    sections = [section(piece) for piece in split_text(escape(text))]
    return fit_blocks(sections, [context(f"_{escape(messages.STREAMING)}_")])


def shared_heading(question: str) -> list[Block]:
    """Shown above an answer shared from /accessbot: what was asked."""
    return [context(f"{escape(messages.SLACK_ASKED)} {escape(trim(question, 500))}")]


def plain_blocks(text: str) -> list[Block]:
    """A short message (apology, help, limits) as escaped sections."""
    return [section(piece) for piece in split_text(escape(text))][: MAX_BLOCKS]


def with_feedback_ack(blocks: list[Block]) -> list[Block]:
    """The same message with the thank-you line under it (once, however many clicks)."""
    kept = [b for b in blocks if b.get("block_id") != FEEDBACK_ACK_BLOCK]
    kept = fit_blocks(kept[:-1], kept[-1:], MAX_BLOCKS - 1) if kept else kept
    return kept + [context(escape(messages.FEEDBACK_THANKS), FEEDBACK_ACK_BLOCK)]
