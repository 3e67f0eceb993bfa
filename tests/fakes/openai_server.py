"""A local server speaking the OpenAI chat-completions API, with queued behaviours.

The real langchain-openai client talks to it over HTTP, so timeouts, retries, 5xx and
streaming are exercised for real. Queue behaviours with `enqueue`; when the queue is
empty the server repeats the last one.
"""
from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeOpenAI:
    def __init__(self, chunk_delay: float = 0.005) -> None:
        """chunk_delay: seconds between streamed words (raise it to make a stream last)."""
        self.requests: list[dict[str, Any]] = []
        self.chunk_delay = chunk_delay
        self._queue: deque[tuple[str, Any]] = deque()
        self._last: tuple[str, Any] = ("answer", "OK [1]")
        self._stop = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                fake.requests.append(body)
                kind, value = fake._next()
                if kind == "status":
                    self._send(value, {"error": {"message": "fake failure", "type": "server_error"}})
                elif kind == "hang":
                    fake._stop.wait(value)
                    self._send(504, {"error": {"message": "too late"}})
                elif body.get("stream"):
                    self._stream(str(value))
                else:
                    self._send(200, {
                        "id": "chatcmpl-1", "object": "chat.completion", "created": 0,
                        "model": body.get("model", "m"),
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": value}}],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    })

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, text: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                words = text.split(" ")
                for i, word in enumerate(words):
                    piece = word if i == 0 else " " + word
                    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0,
                             "model": "m", "choices": [{"index": 0, "delta": {"content": piece},
                                                        "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                    time.sleep(fake.chunk_delay)
                done = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
                        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())
                self.wfile.flush()
                self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def enqueue(self, kind: str, value: Any = None) -> None:
        """kind: 'answer' (text), 'status' (HTTP code), 'hang' (seconds)."""
        self._queue.append((kind, value))

    def _next(self) -> tuple[str, Any]:
        if self._queue:
            self._last = self._queue.popleft()
        return self._last

    def close(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()
