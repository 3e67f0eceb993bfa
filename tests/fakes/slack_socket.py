"""A local Socket Mode endpoint: says hello, pushes envelopes, records the app's acks.

The Web API stand-in answers apps.connections.open with this server's ws:// URL, so the
real SocketModeHandler connects here instead of to Slack.
"""
from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from tests.fakes.slack_events import event_body


class FakeSocketModeServer:
    def __init__(self, envelopes: list[dict[str, Any]]) -> None:
        self.envelopes = list(envelopes)
        self.received: list[dict[str, Any]] = []
        self.url = ""
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        async def handler(ws: ServerConnection) -> None:
            await ws.send(json.dumps({"type": "hello", "num_connections": 1}))
            for envelope in self.envelopes:
                await ws.send(json.dumps(envelope))
            try:
                async for frame in ws:
                    self.received.append(json.loads(frame))
            except ConnectionClosed:
                pass

        async def main() -> None:
            self._server = await serve(handler, "127.0.0.1", 0)
            self.url = f"ws://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/link"
            ready.set()
            await self._server.serve_forever()

        self._thread = threading.Thread(target=lambda: self._loop.run_until_complete(main()),
                                        daemon=True)
        self._thread.start()
        ready.wait(5)

    def ack_for(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for frame in list(self.received):
                if frame.get("envelope_id") == envelope_id:
                    return frame
            time.sleep(0.02)
        raise AssertionError(f"no ack for {envelope_id}; got {self.received}")

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._server.close)


def events_envelope(envelope_id: str, event: dict[str, Any]) -> dict[str, Any]:
    return {"envelope_id": envelope_id, "type": "events_api", "accepts_response_payload": False,
            "retry_attempt": 0, "retry_reason": "", "payload": json.loads(event_body(event))}


def command_envelope(envelope_id: str, command: dict[str, str]) -> dict[str, Any]:
    return {"envelope_id": envelope_id, "type": "slash_commands",
            "accepts_response_payload": True, "payload": command}
