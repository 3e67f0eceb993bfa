"""Discord messages -> our Question text and the conversation's earlier Turns.

A follow-up in the bot's thread ("and if we're in the EU?") only makes sense together with
what was asked before, so the thread's earlier questions and our answers become
Question.history, oldest first, as the CLI chat does.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

import discord

from bot.advisor import Turn
from bot.transports.discord_render import plain

MAX_TURNS = 6
HISTORY_MESSAGES = 40
DM_CONVERSATION_GAP = dt.timedelta(minutes=30)  # older DMs start a new conversation


def bot_role_ids(message: discord.Message, bot_id: int) -> set[int]:
    """The bot's own managed role: people often pick it instead of the bot in autocomplete."""
    return {r.id for r in message.role_mentions
            if r.tags is not None and r.tags.bot_id == bot_id}


def mentions_bot(message: discord.Message, bot_id: int) -> bool:
    """A direct mention of the bot or of its role (not @everyone, which mentions everyone)."""
    return any(u.id == bot_id for u in message.mentions) or bool(bot_role_ids(message, bot_id))


def question_text(message: discord.Message, bot_id: int) -> str:
    """The message without the mention of the bot, other mentions made readable."""
    text = re.sub(rf"<@!?{bot_id}>", " ", message.content)
    for role_id in bot_role_ids(message, bot_id):
        text = text.replace(f"<@&{role_id}>", " ")
    for user in message.mentions:
        text = re.sub(rf"<@!?{user.id}>", f"@{user.display_name}", text)
    for role in message.role_mentions:
        text = text.replace(f"<@&{role.id}>", f"@{role.name}")
    return " ".join(text.split())


def pair_turns(items: Iterable[tuple[bool, str]]) -> tuple[Turn, ...]:
    """(from_bot, text) oldest first -> Turns: each question with the answer that followed."""
    turns: list[Turn] = []
    pending: str | None = None
    for from_bot, text in items:
        if not from_bot:
            pending = text or pending
        elif pending is not None and text:
            turns.append(Turn(question=pending, answer=text))
            pending = None
    return tuple(turns[-MAX_TURNS:])


def _item(message: discord.Message, bot_id: int) -> tuple[bool, str] | None:
    """What a message adds to the conversation: our answer (an embed), or a person's question."""
    if message.author.id == bot_id:
        answer = message.embeds[0].description if message.embeds else ""
        return (True, plain(answer or "")) if answer else None
    if message.author.bot or message.type not in (discord.MessageType.default,
                                                   discord.MessageType.reply):
        return None
    return False, question_text(message, bot_id)


async def _earlier(channel: discord.abc.Messageable, before: discord.Message,
                   since: dt.datetime | None = None) -> list[discord.Message]:
    found = [m async for m in channel.history(limit=HISTORY_MESSAGES, before=before)]
    found.reverse()
    return [m for m in found if since is None or m.created_at >= since]


async def _starter(thread: discord.Thread) -> discord.Message | None:
    """The channel message the thread was opened on: the conversation's first question."""
    if thread.starter_message is not None:
        return thread.starter_message
    if thread.parent is None:
        return None
    try:
        return await thread.parent.fetch_message(thread.id)
    except discord.HTTPException:  # not started from a message, deleted, or no access
        return None


async def thread_turns(thread: discord.Thread, current: discord.Message,
                       bot_id: int) -> tuple[Turn, ...]:
    """The earlier turns of a thread the bot opened on a question."""
    messages = await _earlier(thread, current)
    starter = await _starter(thread)
    if starter is not None:
        messages.insert(0, starter)
    return pair_turns(i for i in (_item(m, bot_id) for m in messages) if i is not None)


async def dm_turns(channel: discord.abc.Messageable, current: discord.Message,
                   bot_id: int) -> tuple[Turn, ...]:
    """The earlier turns of a direct-message conversation still going on."""
    messages = await _earlier(channel, current, since=current.created_at - DM_CONVERSATION_GAP)
    return pair_turns(i for i in (_item(m, bot_id) for m in messages) if i is not None)
