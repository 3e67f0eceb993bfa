"""Maintenance through Slack: the re-ingest behind `/accessbot reingest`, and the "what
changed" notice in the notify channel, from the app or from `accessbot ingest`.

The ingest runs in the app's worker pool, never on the acknowledgement path; the admin
gets the summary through the command's response_url. Posting the notice is best effort:
the ingest has already happened, so a failure is logged and nothing else.
"""
from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient

from bot import messages, operations
from bot.embeddings import AccessBotEmbeddings
from bot.settings import Settings
from bot.transports import slack_render as render
from bot.transports.slack_credentials import CredentialError, notifier_client

log = logging.getLogger(__name__)


def run_reingest(settings: Settings, embeddings: AccessBotEmbeddings, respond: Any,
                 client: WebClient) -> None:
    """Re-ingest, reply to the admin privately, then tell the notify channel what changed."""
    reply, notice = operations.reingest_from_chat(settings, embeddings)
    try:
        respond(text=render.escape(reply), blocks=render.plain_blocks(reply),
                response_type="ephemeral", replace_original=True)
    except Exception:
        log.exception("could not deliver the /accessbot reingest summary")
    if notice and settings.notify_slack_channel:
        post_notice(client, settings.notify_slack_channel, notice)


def post_notice(client: WebClient, channel: str, notice: str) -> bool:
    """Post the change notice, escaped like every answer; False (logged) when Slack refuses."""
    try:
        client.chat_postMessage(channel=channel, text=render.escape(notice),
                                blocks=render.plain_blocks(notice))
    except Exception as exc:
        log.warning(messages.NOTIFY_FAILED.format(platform="Slack", channel=channel)
                    + f" ({type(exc).__name__})")
        return False
    return True


def notify_from_cli(settings: Settings, notice: str) -> bool:
    """`accessbot ingest`: post the notice when SLACK_BOT_TOKEN and notify_slack_channel are
    set. Optional and failure-tolerant: it never fails the ingest."""
    if not notice or not settings.notify_slack_channel:
        return False
    try:
        client = notifier_client()
    except CredentialError as exc:  # names the variable, never its value
        log.warning("%s", exc)
        return False
    return client is not None and post_notice(client, settings.notify_slack_channel, notice)
