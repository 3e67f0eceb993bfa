"""The Discord transport: a mention, a DM, a follow-up in the bot's thread or `/ask` ->
Question -> Advisor.answer (in a worker thread, so the gateway heartbeat keeps going) ->
embeds with Helpful / Not helpful buttons.

Everything is sent with mentions disabled, so neither a question nor a quoted document can
ping @everyone, a role or a user.
"""
from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import discord
from discord import app_commands

from bot import messages, operations
from bot.advisor import Advisor, Answer, Question, QuestionError, Turn
from bot.feedback import FeedbackStore
from bot.ratelimit import RateLimiter
from bot.settings import Settings, id_set
from bot.transports import discord_render as render
from bot.transports.discord_history import dm_turns, mentions_bot, question_text, thread_turns
from bot.transports.streaming import LoopStream

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
PLATFORM = "discord"
HELPFUL_ID = "accessbot:feedback:helpful"
NOT_HELPFUL_ID = "accessbot:feedback:not-helpful"
THREAD_ARCHIVE_MINUTES = 1440
# Answers are CPU-bound Python: more threads than this only fight over the GIL and starve
# the event loop (measured on 2 cores: 6 threads stalled it ~300 ms, 2 threads under 10 ms).
ADVISOR_THREADS = 2


def intents(message_content: bool) -> discord.Intents:
    """Only what the bot reads: servers and their channels, messages there and in DMs.
    Message content is privileged; without it only mentions, DMs and /ask carry text."""
    wanted = discord.Intents.none()
    wanted.guilds = wanted.guild_messages = wanted.dm_messages = True
    wanted.message_content = message_content
    return wanted


class FeedbackView(discord.ui.View):
    """Helpful / Not helpful under every answer. Persistent (no timeout, fixed custom_ids,
    registered in setup_hook), so clicks on old answers still count after a restart."""

    def __init__(self, store: FeedbackStore) -> None:
        super().__init__(timeout=None)
        self.store = store

    @discord.ui.button(label=messages.DISCORD_HELPFUL, emoji="👍",
                       style=discord.ButtonStyle.success, custom_id=HELPFUL_ID)
    async def helpful(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self.vote(interaction, True)

    @discord.ui.button(label=messages.DISCORD_NOT_HELPFUL, emoji="👎",
                       style=discord.ButtonStyle.secondary, custom_id=NOT_HELPFUL_ID)
    async def not_helpful(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self.vote(interaction, False)

    async def vote(self, interaction: discord.Interaction, helpful: bool) -> None:
        answer = interaction.message  # the answer the buttons sit under
        ref = str(answer.id if answer else interaction.id)
        cards = render.cards_from_embeds(answer.embeds) if answer else ()
        answer_id = render.answer_id_from_embeds(answer.embeds) if answer else ""
        await asyncio.to_thread(self.store.record, PLATFORM, ref, str(interaction.user.id),
                                helpful, cards, answer_id)
        await interaction.response.send_message(messages.FEEDBACK_THANKS, ephemeral=True,
                                                allowed_mentions=NO_MENTIONS)

    async def on_error(self, interaction: discord.Interaction, error: Exception,
                       item: discord.ui.Item) -> None:
        log.error(messages.DISCORD_FEEDBACK_FAILED, exc_info=error)
        await _apologise(interaction)


async def _apologise(interaction: discord.Interaction) -> None:
    """The short apology, only to the person who clicked or asked."""
    if interaction.response.is_done():
        await interaction.followup.send(messages.APOLOGY, ephemeral=True,
                                        allowed_mentions=NO_MENTIONS)
    else:
        await interaction.response.send_message(messages.APOLOGY, ephemeral=True,
                                                allowed_mentions=NO_MENTIONS)


@dataclass(frozen=True)
class Destination:
    """Where an answer to a message goes: a thread, the DM, or a reply in the channel."""

    channel: discord.abc.Messageable
    reply_to: discord.Message | None = None


def ask_command(bot: "AccessBot") -> app_commands.Command:
    """`/ask question [private]`: works without the message-content intent."""

    @app_commands.command(name="ask", description=messages.DISCORD_ASK_DESCRIPTION)
    @app_commands.describe(question=messages.DISCORD_ASK_QUESTION,
                           private=messages.DISCORD_ASK_PRIVATE)
    async def ask(interaction: discord.Interaction, question: str, private: bool = False) -> None:
        await bot.answer_interaction(interaction, question, private)

    return ask


def reingest_command(bot: "AccessBot") -> app_commands.Command:
    """`/reingest`: maintainers (admin_user_ids) re-ingest the knowledge base from Discord."""

    @app_commands.command(name="reingest", description=messages.REINGEST_DISCORD_DESCRIPTION)
    async def reingest(interaction: discord.Interaction) -> None:
        await bot.reingest(interaction)

    return reingest


class LiveReply:
    """The message showing a streamed answer as it grows: posted on the first update, edited
    on the next ones; send_reply then turns it into the final answer."""

    def __init__(self, where: Destination) -> None:
        self.where = where
        self.message: discord.Message | None = None

    async def show(self, text: str) -> None:
        embed = render.partial_embed(text)
        if self.message is None:
            self.message = await self.where.channel.send(
                embed=embed, reference=self.where.reply_to, mention_author=False,
                allowed_mentions=NO_MENTIONS)
        else:
            await self.message.edit(embed=embed, allowed_mentions=NO_MENTIONS)


async def _show_original(interaction: discord.Interaction, title: str, text: str) -> None:
    """The /ask answer so far, in the deferred response the final answer will fill."""
    await interaction.edit_original_response(embed=render.partial_embed(text, title),
                                             allowed_mentions=NO_MENTIONS)


class AccessBot(discord.Client):
    """Translates Discord events into advisor calls; owns no knowledge of its own."""

    def __init__(self, advisor: Advisor, settings: Settings, feedback: FeedbackStore, *,
                 limiter: RateLimiter | None = None, message_content: bool = True,
                 advisor_threads: int = ADVISOR_THREADS, **options) -> None:
        super().__init__(intents=intents(message_content), allowed_mentions=NO_MENTIONS, **options)
        self.advisor = advisor
        self.advisor_pool = ThreadPoolExecutor(advisor_threads, thread_name_prefix="advisor")
        self.settings = settings
        self.feedback = feedback
        self.limiter = limiter or RateLimiter(settings.rate_limit_per_minute)
        self.allowed_guilds = id_set(settings.discord_guilds)
        self.allowed_channels = id_set(settings.discord_channels)
        self.tree = app_commands.CommandTree(self)
        self.tree.add_command(ask_command(self))
        self.tree.add_command(reingest_command(self))
        self.tree.on_error = self._on_command_error
        self.feedback_view = FeedbackView(feedback)

    async def setup_hook(self) -> None:
        self.add_view(self.feedback_view)

    async def close(self) -> None:
        await super().close()
        self.advisor_pool.shutdown(wait=False, cancel_futures=True)

    async def on_ready(self) -> None:
        log.info(messages.DISCORD_CONNECTED.format(user=self.user, guilds=len(self.guilds)))

    # ---------------- who may ask where ----------------
    def allowed(self, guild_id: int | None, channel: object) -> bool:
        """The guild and channel allowlists; a DM counts as allowed unless the bot is
        restricted to particular servers."""
        if guild_id is None:
            return not self.allowed_guilds
        if self.allowed_guilds and str(guild_id) not in self.allowed_guilds:
            return False
        if not self.allowed_channels:
            return True
        ids = {getattr(channel, "id", None), getattr(channel, "parent_id", None)}
        return any(str(i) in self.allowed_channels for i in ids if i is not None)

    def addressed(self, message: discord.Message) -> str | None:
        """'dm', 'thread' (a follow-up in our thread), 'mention', or None: not for us."""
        me = self.user
        if me is None or message.author.bot or message.type not in (
                discord.MessageType.default, discord.MessageType.reply):
            return None
        if not self.allowed(message.guild.id if message.guild else None, message.channel):
            return None
        if message.guild is None:
            return "dm"
        if isinstance(message.channel, discord.Thread) and message.channel.owner_id == me.id:
            return "thread"
        return "mention" if mentions_bot(message, me.id) else None

    def too_fast(self, user_id: int) -> str:
        """The polite rate-limit note, or '' when the user may ask now."""
        wait = self.limiter.check(str(user_id))
        return messages.RATE_LIMITED.format(seconds=wait) if wait else ""

    # ---------------- messages ----------------
    async def on_message(self, message: discord.Message) -> None:
        how = self.addressed(message)
        if how is not None:
            await self.answer_message(message, how)

    async def answer_message(self, message: discord.Message, how: str) -> None:
        notice = self.too_fast(message.author.id)
        question = Question(text=question_text(message, self.user.id), platform=PLATFORM,
                            user_id=str(message.author.id))
        try:
            self.advisor.check(question)
        except QuestionError as exc:
            notice = notice or str(exc)
        if notice:
            await self.send_reply(Destination(message.channel, message), notice)
            return
        question = dataclasses.replace(question, history=await self.history(message, how))
        where = await self.destination(message, how, question.text)
        live = LiveReply(where)
        stream = LoopStream(asyncio.get_running_loop(), live.show)
        async with where.channel.typing():
            reply = await self.consult(question, stream)
        await stream.close()  # the final answer (perhaps the extractive fallback) lands last
        await self.send_reply(where, reply, shown=live.message)

    async def history(self, message: discord.Message, how: str) -> tuple[Turn, ...]:
        if how == "thread":
            return await thread_turns(message.channel, message, self.user.id)
        if how == "dm":
            return await dm_turns(message.channel, message, self.user.id)
        return ()

    async def destination(self, message: discord.Message, how: str, text: str) -> Destination:
        """A new thread on the asking message (thread mode, in a channel), else the same
        channel: the DM, our thread, or a reply when threads are off or not possible."""
        if how != "mention" or self.settings.discord_reply_mode != "thread" \
                or not isinstance(message.channel, discord.TextChannel):
            return Destination(message.channel, message if how == "mention" else None)
        try:
            thread = await message.create_thread(name=render.thread_name(text),
                                                 auto_archive_duration=THREAD_ARCHIVE_MINUTES)
        except discord.HTTPException as exc:  # e.g. no Create Public Threads permission
            log.warning(messages.DISCORD_NO_THREAD.format(channel=message.channel.id,
                                                          status=exc.status))
            return Destination(message.channel, message)
        return Destination(thread)

    async def consult(self, question: Question,
                      on_delta: Callable[[str], None] | None = None) -> Answer | str:
        """The advisor's answer, computed off the event loop (the gateway heartbeat must keep
        going); or what to tell the user."""
        loop = asyncio.get_running_loop()
        answer = functools.partial(self.advisor.answer, question, on_delta=on_delta)
        try:
            return await loop.run_in_executor(self.advisor_pool, answer)
        except QuestionError as exc:
            return str(exc)
        except Exception:
            log.exception(messages.DISCORD_ADVISOR_FAILED)
            return messages.APOLOGY

    async def send_reply(self, where: Destination, reply: Answer | str,
                         shown: discord.Message | None = None) -> None:
        """An answer as embed pages (buttons on the last), or a short plain message; the
        first page replaces the streamed answer when one was `shown`."""
        if isinstance(reply, str):
            if shown is not None:
                await shown.edit(content=render.content(reply), embeds=[],
                                 allowed_mentions=NO_MENTIONS)
                return
            await where.channel.send(render.content(reply), reference=where.reply_to,
                                     mention_author=False, allowed_mentions=NO_MENTIONS)
            return
        pages = render.answer_messages(reply)
        for i, embeds in enumerate(pages):
            last = i == len(pages) - 1
            if i == 0 and shown is not None:
                await shown.edit(embeds=embeds, view=self.feedback_view if last else None,
                                 allowed_mentions=NO_MENTIONS)
                continue
            await where.channel.send(embeds=embeds, reference=where.reply_to if i == 0 else None,
                                     view=self.feedback_view if last else discord.utils.MISSING,
                                     mention_author=False, allowed_mentions=NO_MENTIONS)

    # ---------------- /ask ----------------
    async def answer_interaction(self, interaction: discord.Interaction, text: str,
                                 private: bool) -> None:
        notice = "" if self.allowed(interaction.guild_id, interaction.channel) \
            else messages.NOT_ALLOWED_HERE
        notice = notice or self.too_fast(interaction.user.id)
        if notice:
            await interaction.response.send_message(render.content(notice), ephemeral=True,
                                                    allowed_mentions=NO_MENTIONS)
            return
        await interaction.response.defer(thinking=True, ephemeral=private)  # "is thinking…"
        stream = LoopStream(asyncio.get_running_loop(),
                            functools.partial(_show_original, interaction, text))
        reply = await self.consult(Question(text=text, platform=PLATFORM,
                                            user_id=str(interaction.user.id)), stream)
        await stream.close()
        await self.send_interaction_reply(interaction, reply, text, private)

    async def send_interaction_reply(self, interaction: discord.Interaction,
                                     reply: Answer | str, text: str, private: bool) -> None:
        """Fill in the deferred response; further pages go out as follow-ups."""
        if isinstance(reply, str):
            await interaction.edit_original_response(content=render.content(reply), embeds=[],
                                                     allowed_mentions=NO_MENTIONS)
            return
        pages = render.answer_messages(reply, title=text)  # a slash command hides the question
        view = self.feedback_view
        await interaction.edit_original_response(
            embeds=pages[0], view=view if len(pages) == 1 else None, allowed_mentions=NO_MENTIONS)
        for i, embeds in enumerate(pages[1:], 2):
            await interaction.followup.send(
                embeds=embeds, ephemeral=private, allowed_mentions=NO_MENTIONS,
                view=view if i == len(pages) else discord.utils.MISSING)

    # ---------------- /reingest ----------------
    async def reingest(self, interaction: discord.Interaction) -> None:
        """Maintainers only. The ingest runs in a worker thread, so the gateway heartbeat
        keeps going; the summary fills the private deferred response."""
        if not operations.is_admin(self.settings, PLATFORM, str(interaction.user.id)):
            await interaction.response.send_message(
                render.plain_content(messages.REINGEST_NOT_ADMIN), ephemeral=True,
                allowed_mentions=NO_MENTIONS)
            return
        await interaction.response.defer(thinking=True, ephemeral=True)
        reply, notice = await asyncio.to_thread(operations.reingest_from_chat, self.settings,
                                                self.advisor.embeddings)
        await interaction.edit_original_response(content=render.plain_content(reply),
                                                 allowed_mentions=NO_MENTIONS)
        if notice:
            await self.post_notice(notice)

    async def post_notice(self, notice: str) -> bool:
        """The change notice in notify_discord_channel; best effort (the ingest is done)."""
        channel = self.settings.notify_discord_channel.strip()
        if not channel:
            return False
        if not channel.isdigit():
            log.warning(messages.NOTIFY_BAD_CHANNEL.format(channel=channel))
            return False
        try:
            await self.get_partial_messageable(int(channel)).send(
                render.plain_content(notice), allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            log.warning(messages.NOTIFY_FAILED.format(platform="Discord", channel=channel)
                        + f" (HTTP {exc.status})")
            return False
        return True

    async def _on_command_error(self, interaction: discord.Interaction,
                                error: app_commands.AppCommandError) -> None:
        log.error(messages.DISCORD_COMMAND_FAILED, exc_info=error)
        await _apologise(interaction)


def build_bot(advisor: Advisor, settings: Settings, feedback: FeedbackStore, *,
              limiter: RateLimiter | None = None, message_content: bool = True,
              **options) -> AccessBot:
    """The bot with its dependencies passed in; options go to discord.Client."""
    return AccessBot(advisor, settings, feedback, limiter=limiter,
                     message_content=message_content, **options)


async def serve(token: str, make_bot: Callable[[bool], AccessBot]) -> None:
    """Run until closed. If Discord refuses the message-content intent (not enabled for
    the application), say so and reconnect without it: /ask, mentions and DMs still work."""
    try:
        async with make_bot(True) as bot:
            await bot.start(token)
    except discord.PrivilegedIntentsRequired:
        log.warning(messages.DISCORD_NO_MESSAGE_CONTENT)
        async with make_bot(False) as bot:
            await bot.start(token)


def is_sync_scope(scope: str) -> bool:
    return scope == "global" or (scope.isdigit() and 15 <= len(scope) <= 20)


async def sync_commands(bot: AccessBot, token: str, scope: str) -> list[app_commands.AppCommand]:
    """Register the application commands globally or in one server, then disconnect."""
    async with bot:
        await bot.login(token)
        if scope == "global":
            return await bot.tree.sync()
        guild = discord.Object(id=int(scope))
        bot.tree.copy_global_to(guild=guild)
        return await bot.tree.sync(guild=guild)
