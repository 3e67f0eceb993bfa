"""`accessbot discord`: read DISCORD_TOKEN, then serve, or register the commands and exit.

Kept thin: the bot lives in discord_bot.py. (`import discord` below is the library, not
this module: bot/transports is a package, never a sys.path entry, and imports are absolute.)
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys

import discord

from bot import messages
from bot.settings import Settings, platform_env

TOKEN_VARIABLE = "DISCORD_TOKEN"


def _fail(text: str) -> int:
    """One line for the operator, exit code 2, no traceback."""
    print(f"accessbot: {text}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace, settings: Settings) -> int:
    token = platform_env(TOKEN_VARIABLE)
    if not token:
        return _fail(messages.MISSING_ENV.format(name=TOKEN_VARIABLE, hint=messages.DISCORD_TOKEN_HINT))
    scope = getattr(args, "sync_commands", None)
    from bot.transports import discord_bot

    if scope is not None and not discord_bot.is_sync_scope(scope):
        return _fail(messages.DISCORD_BAD_SYNC_SCOPE.format(scope=scope))
    from bot.advisor import Advisor
    from bot.feedback import FeedbackStore

    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False  # we never join voice
    _announce_connections()
    advisor = Advisor.from_settings(settings)
    feedback = FeedbackStore(settings.feedback_db)
    try:
        if scope is not None:
            return _sync(discord_bot.build_bot(advisor, settings, feedback), token, scope)
        advisor.snapshot  # fail now, with the ingest hint, if there is no index

        def make_bot(message_content: bool) -> discord_bot.AccessBot:
            return discord_bot.build_bot(advisor, settings, feedback, message_content=message_content)

        asyncio.run(discord_bot.serve(token, make_bot))
        return 0
    except discord.LoginFailure:
        return _fail(messages.DISCORD_TOKEN_REJECTED)
    except discord.ConnectionClosed as exc:
        if exc.code == 4004:  # the gateway's "authentication failed"
            return _fail(messages.DISCORD_TOKEN_REJECTED)
        raise
    finally:
        feedback.close()


def _announce_connections() -> None:
    """Let the operator see "AccessBot is on Discord as ..." even at the default WARNING level."""
    logger = logging.getLogger("bot.transports.discord_bot")
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)


def _sync(bot, token: str, scope: str) -> int:
    from bot.transports.discord_bot import sync_commands

    synced = asyncio.run(sync_commands(bot, token, scope))
    names = ", ".join(f"/{c.name}" for c in synced)
    print(messages.DISCORD_SYNCED_GLOBAL.format(names=names) if scope == "global"
          else messages.DISCORD_SYNCED_GUILD.format(names=names, guild=scope))
    return 0
