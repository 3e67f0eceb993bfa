"""Slack's credentials: read from the environment (through bot.settings), checked for
shape, then tried against Slack, so a wrong value stops `accessbot slack` with one line
that names the variable and never shows its value.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import messages
from bot.settings import platform_env


class CredentialError(Exception):
    """A Slack variable is missing or malformed; the message names it and the fix."""


@dataclass(frozen=True)
class SlackCredentials:
    bot_token: str
    signing_secret: str
    app_token: str
    api_url: str

    def __repr__(self) -> str:  # never show secrets, not even in a traceback
        return f"SlackCredentials(api_url={self.api_url!r}, socket_mode={bool(self.app_token)})"


_FORMATS = {
    "SLACK_BOT_TOKEN": re.compile(r"^xoxb-[A-Za-z0-9-]+$"),
    "SLACK_APP_TOKEN": re.compile(r"^xapp-[A-Za-z0-9-]+$"),
    "SLACK_SIGNING_SECRET": re.compile(r"^[A-Za-z0-9_-]{8,}$"),
    "SLACK_API_URL": re.compile(r"^https?://[^\s/]+(/\S*)?$"),
}


def _variable(name: str, required: bool) -> str:
    value = platform_env(name)
    hint = messages.SLACK_TOKEN_HINTS[name]
    if not value:
        if required:
            raise CredentialError(messages.MISSING_ENV.format(name=name, hint=hint))
        return ""
    if not _FORMATS[name].match(value):
        raise CredentialError(messages.MALFORMED_ENV.format(name=name, hint=hint))
    return value


def credentials() -> SlackCredentials:
    """Slack's tokens from the environment, checked for shape before anything starts."""
    bot_token = _variable("SLACK_BOT_TOKEN", required=True)
    app_token = _variable("SLACK_APP_TOKEN", required=False)
    secret = _variable("SLACK_SIGNING_SECRET", required=not app_token)
    api_url = _variable("SLACK_API_URL", required=False)
    if api_url and not api_url.endswith("/"):
        api_url += "/"
    return SlackCredentials(bot_token, secret, app_token, api_url or WebClient.BASE_URL)


def notifier_client() -> WebClient | None:
    """A Web API client for posting notices outside the app (`accessbot ingest`), or None
    when SLACK_BOT_TOKEN is not set. Needs no signing secret or app token."""
    token = _variable("SLACK_BOT_TOKEN", required=False)
    if not token:
        return None
    api_url = _variable("SLACK_API_URL", required=False)
    if api_url and not api_url.endswith("/"):
        api_url += "/"
    return WebClient(token=token, base_url=api_url or WebClient.BASE_URL, timeout=10,
                     retry_handlers=[])


def verify_token(token: str, api_url: str) -> None:
    """Ask Slack whether the bot token works, so a bad one fails now, in one line."""
    quiet = logging.Logger("accessbot.slack.verify", level=logging.CRITICAL)  # we say it once
    client = WebClient(token=token, base_url=api_url, timeout=10, logger=quiet, retry_handlers=[])
    try:
        client.auth_test()
    except SlackApiError as exc:
        raise CredentialError(messages.SLACK_TOKEN_REJECTED.format(
            error=exc.response.get("error", "error"),
            hint=messages.SLACK_TOKEN_HINTS["SLACK_BOT_TOKEN"])) from None
    except OSError as exc:
        raise CredentialError(messages.SLACK_UNREACHABLE.format(
            url=api_url, error=type(exc).__name__)) from None
