"""A local stand-in for Slack's Web API: records every call and answers like Slack.

Threaded `http.server` on 127.0.0.1, port 0. It keeps the messages the bot posts (and
any the test adds) per channel, so conversations.replies returns a real-looking thread.
Request bodies arrive as JSON (chat.*) or form-encoded (reactions.*, auth.test); GET
calls carry their arguments in the query string. Paths under /response/ stand in for
the response_url of slash commands and button clicks.
"""
from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

BOT_USER = "UBOT"
BOT_ID = "BBOT"
TEAM = "T1"


@dataclass
class Call:
    method: str  # Web API method ("chat.postMessage") or the path of a response_url
    body: dict[str, Any]
    headers: dict[str, str]


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # bursts of 20+ calls at once, as Slack itself would take


class FakeSlackAPI:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.wss_url = ""
        self.failures: dict[str, str] = {}  # method -> Slack error code to answer with
        self._messages: dict[str, list[dict[str, Any]]] = {}
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    # -- what tests use -------------------------------------------------------------
    def response_url(self, name: str) -> str:
        return f"{self.url}response/{name}"

    def add_message(self, channel: str, ts: str, user: str, text: str,
                    thread_ts: str | None = None) -> None:
        """Put a user's message into a channel, as if it had been posted before."""
        with self._lock:
            message = {"type": "message", "ts": ts, "user": user, "text": text}
            if thread_ts:
                message["thread_ts"] = thread_ts
            self._messages.setdefault(channel, []).append(message)

    def bodies(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [c.body for c in self.calls if c.method == method]

    def methods(self) -> list[str]:
        with self._lock:
            return [c.method for c in self.calls]

    def wait_for(self, method: str, n: int = 1, timeout: float = 10.0,
                 where: Callable[[dict[str, Any]], bool] = lambda body: True) -> list[dict[str, Any]]:
        """The first n bodies sent to `method` that satisfy `where`, polling briefly."""
        end = time.monotonic() + timeout
        while True:
            got = [b for b in self.bodies(method) if where(b)]
            if len(got) >= n:
                return got
            if time.monotonic() > end:
                raise AssertionError(f"{method}: expected {n}, got {len(got)}; calls: {self.methods()}")
            time.sleep(0.02)

    def bot_messages(self, channel: str, thread_ts: str | None = None) -> list[dict[str, Any]]:
        """What the channel shows now from the bot: top level, or one thread's replies."""
        with self._lock:
            return [json.loads(json.dumps(m)) for m in self._messages.get(channel, [])
                    if m.get("user") == BOT_USER and m.get("thread_ts") == thread_ts]

    def wait_for_reply(self, channel: str, thread_ts: str | None = None, n: int = 1,
                       timeout: float = 10.0) -> list[dict[str, Any]]:
        """The bot's finished messages (those with blocks) in one place, polling briefly."""
        end = time.monotonic() + timeout
        while True:
            done = [m for m in self.bot_messages(channel, thread_ts) if m.get("blocks")]
            if len(done) >= n:
                return done
            if time.monotonic() > end:
                raise AssertionError(f"no finished reply in {channel}/{thread_ts}; calls: {self.methods()}")
            time.sleep(0.02)

    def raw_traffic(self) -> str:
        """Everything the app sent, as one string, for 'never contains' assertions."""
        with self._lock:
            return "\n".join(json.dumps(c.body, ensure_ascii=False) for c in self.calls)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- Slack's side -----------------------------------------------------------------
    def answer(self, method: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            self.calls.append(Call(method, body, headers))
            if method in self.failures:
                return {"ok": False, "error": self.failures[method]}
            handler = _ANSWERS.get(method)
            return handler(self, body) if handler else {"ok": True}

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"  # later than the tests' fixed ts

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        message = {"type": "message", "ts": self._next_ts(), "user": BOT_USER, "bot_id": BOT_ID,
                   "text": body.get("text", ""), "blocks": body.get("blocks", [])}
        if body.get("thread_ts"):
            message["thread_ts"] = body["thread_ts"]
        self._messages.setdefault(body.get("channel", ""), []).append(message)
        return {"ok": True, "channel": body.get("channel"), "ts": message["ts"], "message": message}

    def _update(self, body: dict[str, Any]) -> dict[str, Any]:
        for message in self._messages.get(body.get("channel", ""), []):
            if message["ts"] == body.get("ts"):
                message.update(text=body.get("text", ""), blocks=body.get("blocks", []))
                return {"ok": True, "channel": body["channel"], "ts": body["ts"], "text": message["text"]}
        return {"ok": False, "error": "message_not_found"}

    def _replies(self, body: dict[str, Any]) -> dict[str, Any]:
        root = body.get("ts")
        thread = [m for m in self._messages.get(body.get("channel", ""), [])
                  if m["ts"] == root or m.get("thread_ts") == root]
        if not thread:
            return {"ok": False, "error": "thread_not_found"}
        return {"ok": True, "has_more": False,
                "messages": sorted(thread, key=lambda m: float(m["ts"]))}


_ANSWERS: dict[str, Callable[[FakeSlackAPI, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": lambda fake, body: {"ok": True, "user_id": BOT_USER, "bot_id": BOT_ID,
                                     "team_id": TEAM, "user": "accessbot", "team": "Test",
                                     "url": "https://test.slack.com/"},
    "chat.postMessage": FakeSlackAPI._post,
    "chat.update": FakeSlackAPI._update,
    "chat.postEphemeral": lambda fake, body: {"ok": True, "message_ts": fake._next_ts()},
    "conversations.replies": FakeSlackAPI._replies,
    "apps.connections.open": lambda fake, body: {"ok": True, "url": fake.wss_url},
}


def _handler_for(fake: FakeSlackAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            url = urlparse(self.path)
            self._reply(url.path.lstrip("/"), dict(parse_qsl(url.query)))

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            url = urlparse(self.path)
            is_json = "json" in self.headers.get("Content-Type", "")
            body = json.loads(raw) if is_json and raw else dict(parse_qsl(raw))
            body.update(parse_qsl(url.query))
            self._reply(url.path.lstrip("/"), body)

        def _reply(self, method: str, body: dict[str, Any]) -> None:
            out = json.dumps(fake.answer(method, body, dict(self.headers))).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

    return Handler
