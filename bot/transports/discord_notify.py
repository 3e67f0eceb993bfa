"""`accessbot ingest` tells a Discord channel what changed, without starting the bot.

One REST call with the bot token (DISCORD_TOKEN) and mentions disabled. Optional and
failure-tolerant: a missing token or channel does nothing, a refused post is logged.
"""
from __future__ import annotations

import logging

import discord
import httpx

from bot import messages
from bot.settings import Settings, platform_env
from bot.transports.discord_render import trim

log = logging.getLogger(__name__)
CONTENT = 2000


def notify_from_cli(settings: Settings, notice: str) -> bool:
    token, channel = platform_env("DISCORD_TOKEN"), settings.notify_discord_channel.strip()
    if not notice or not channel or not token:
        return False
    url = f"{discord.http.Route.BASE}/channels/{channel}/messages"
    try:
        response = httpx.post(
            url, headers={"Authorization": f"Bot {token}"}, timeout=10,
            json={"content": trim(notice, CONTENT), "allowed_mentions": {"parse": []}})
        response.raise_for_status()
    except httpx.HTTPError as exc:
        log.warning(messages.NOTIFY_FAILED.format(platform="Discord", channel=channel)
                    + f" ({type(exc).__name__})")
        return False
    return True
