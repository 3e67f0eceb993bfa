"""Slack's sending side: signed HTTP requests carrying events, commands and clicks, shaped
like the payloads Slack delivers (see api.slack.com/events and bolt-python's tests)."""
from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from tests.fakes.slack_api import BOT_USER, TEAM

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
_event_ids = itertools.count(1)


def post_signed(url: str, body: str, content_type: str, secret: str = SECRET,
                timestamp: float | None = None) -> tuple[int, str, float]:
    """POST like Slack does; returns (status, body, seconds taken)."""
    ts = str(int(time.time() if timestamp is None else timestamp))
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    request = urllib.request.Request(url, data=body.encode(), method="POST", headers={
        "Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode(), time.monotonic() - started
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(), time.monotonic() - started


def event_body(event: dict[str, Any]) -> str:
    return json.dumps({
        "token": "legacy", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback",
        "event_id": f"Ev{next(_event_ids):06d}", "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
        "event": event,
    })


def mention(text: str, ts: str, channel: str = "C1", user: str = "U1",
            thread_ts: str | None = None) -> dict[str, Any]:
    event = {"type": "app_mention", "user": user, "text": f"<@{BOT_USER}> {text}", "ts": ts,
             "channel": channel, "event_ts": ts}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message(text: str, ts: str, channel: str, user: str = "U1", channel_type: str = "channel",
            thread_ts: str | None = None, **extra: Any) -> dict[str, Any]:
    event = {"type": "message", "user": user, "text": text, "ts": ts, "channel": channel,
             "event_ts": ts, "channel_type": channel_type, **extra}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def command_body(text: str, response_url: str, channel: str = "C1", user: str = "U1") -> str:
    return urlencode({
        "token": "legacy", "team_id": TEAM, "channel_id": channel, "channel_name": "research",
        "user_id": user, "user_name": "researcher", "command": "/accessbot", "text": text,
        "api_app_id": "A1", "response_url": response_url, "trigger_id": "1.2.abc",
    })


def click_body(action_id: str, value: str, response_url: str, message: dict[str, Any] | None,
               channel: str = "C1", message_ts: str = "1700000000.000001", user: str = "U2",
               ephemeral: bool = False) -> str:
    """A block_actions payload for a button in one of the bot's messages."""
    container = {"type": "message", "message_ts": message_ts, "channel_id": channel,
                 "is_ephemeral": ephemeral}
    payload: dict[str, Any] = {
        "type": "block_actions", "team": {"id": TEAM}, "user": {"id": user}, "api_app_id": "A1",
        "token": "legacy", "trigger_id": "1.2.abc", "container": container,
        "channel": {"id": channel, "name": "research"}, "response_url": response_url,
        "actions": [{"type": "button", "action_id": action_id, "block_id": "feedback",
                     "value": value, "action_ts": str(time.time())}],
    }
    if message is not None:
        payload["message"] = message
    return urlencode({"payload": json.dumps(payload)})


class EventsEndpoint:
    """The app's /slack/events served over real HTTP by the transport's own server."""

    def __init__(self, app: Any) -> None:
        from bot.transports.slack import EVENTS_PATH, make_http_server

        self.server = make_http_server(app, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.server_port}{EVENTS_PATH}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def send(self, body: str, content_type: str = "application/json", **kw: Any) -> tuple[int, str, float]:
        return post_signed(self.url, body, content_type, **kw)

    def event(self, event: dict[str, Any]) -> tuple[int, str, float]:
        return self.send(event_body(event))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
