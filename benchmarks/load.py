"""Load: 50 concurrent questions through the real Slack HTTP app and the real Discord bot.

Slack: the app from bot/transports/slack.py (build_app) is served over real HTTP on
127.0.0.1 by its own server; 50 signed app_mention events are posted at once from 50
threads; the Web API is the local stand-in from tests/fakes/slack_api.py. A question is
answered when the placeholder in its thread has been edited into the answer
(chat.update). Discord: the unmodified bot (build_bot) connects to the local fake REST +
gateway from tests/fakes/discord_server.py; 50 mentions are pushed down the gateway at
once; a question is answered when its thread gets the answer embed. Only loopback traffic.

    .venv/bin/python benchmarks/load.py [--questions 50] [--runs 3]
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import ROOT, build_kb_index, eval_questions, median, note, percentile, table

sys.path.insert(0, str(ROOT))  # tests.fakes

TOKEN = "xoxb-fake"  # a stand-in: the local Web API accepts anything
WAIT = 120.0
_ts = itertools.count(1)


def summary(sent: dict[str, float], done: dict[str, float], acks: list[float]) -> dict[str, float]:
    latencies = [done[k] - sent[k] for k in sent]
    wall = max(done.values()) - min(sent.values())
    return {"throughput": len(sent) / wall, "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95), "max": max(latencies), "wall": wall,
            "ack_p95": percentile(acks, 95) if acks else float("nan")}


# ----------------------------------------------------------------------------- Slack
def slack_runs(advisor, settings, questions: list[str], runs: int) -> list[dict[str, float]]:
    from slack_sdk import WebClient

    from bot import messages
    from bot.transports.slack import build_app
    from tests.fakes.slack_api import FakeSlackAPI
    from tests.fakes.slack_events import SECRET, EventsEndpoint, mention

    class TimedSlackAPI(FakeSlackAPI):
        """Notes when each thread's placeholder is edited into the answer."""

        def __init__(self) -> None:
            super().__init__()
            self.answered: dict[str, float] = {}
            self.apologies = 0

        def answer(self, method, body, headers):
            reply = super().answer(method, body, headers)
            if method == "chat.update":
                with self._lock:
                    for m in self._messages.get(body.get("channel", ""), []):
                        if m["ts"] == body.get("ts") and m.get("thread_ts"):
                            self.answered[m["thread_ts"]] = time.perf_counter()
                    self.apologies += messages.APOLOGY[:30] in body.get("text", "")
            return reply

    fake = TimedSlackAPI()
    app = build_app(advisor, settings, WebClient(token=TOKEN, base_url=fake.url), SECRET)
    endpoint = EventsEndpoint(app)
    results = []
    try:
        for _ in range(runs):
            sent: dict[str, float] = {}
            acks: list[float] = []
            lock = threading.Lock()

            def ask(i: int, text: str) -> None:
                ts = f"1700{next(_ts):06d}.000100"
                with lock:
                    sent[ts] = time.perf_counter()
                status, _, took = endpoint.event(mention(text, ts=ts, user=f"U{i:04d}"))
                if status != 200:
                    raise RuntimeError(f"Slack app answered HTTP {status}")
                with lock:
                    acks.append(took)

            with ThreadPoolExecutor(len(questions)) as pool:
                list(pool.map(ask, range(len(questions)), questions))
            deadline = time.monotonic() + WAIT
            while not set(sent) <= set(fake.answered) and time.monotonic() < deadline:
                time.sleep(0.01)
            missing = set(sent) - set(fake.answered)
            if missing:
                raise SystemExit(f"Slack: {len(missing)} questions unanswered after {WAIT:.0f} s")
            results.append(summary(sent, {k: fake.answered[k] for k in sent}, acks))
        if fake.apologies:
            raise SystemExit(f"Slack: {fake.apologies} answers were apologies (advisor failed)")
    finally:
        endpoint.close()
        fake.close()
    return results


# ----------------------------------------------------------------------------- Discord
async def discord_runs(advisor, settings, questions: list[str], runs: int) -> list[dict[str, float]]:
    import yarl
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    from bot.feedback import FeedbackStore
    from bot.transports.discord_bot import build_bot
    from tests.fakes.discord_server import TOKEN as DISCORD_TOKEN, FakeDiscord, mention, user

    class TimedDiscord(FakeDiscord):
        def __init__(self) -> None:
            super().__init__()
            self.answered: dict[str, float] = {}

        async def _post_message(self, req, parts, body):
            if isinstance(body, dict) and body.get("embeds"):
                self.answered.setdefault(parts[1], time.perf_counter())
            return await super()._post_message(req, parts, body)

    fake = await TimedDiscord().start()
    saved = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = fake.api_base, yarl.URL(fake.gateway_url)
    store = FeedbackStore(settings.feedback_db)
    bot = build_bot(advisor, settings, store, guild_ready_timeout=0.05)
    task = asyncio.create_task(bot.start(DISCORD_TOKEN))
    results = []
    try:
        await asyncio.wait_for(bot.wait_until_ready(), 20)
        for _ in range(runs):
            sent: dict[str, float] = {}
            for i, text in enumerate(questions):
                payload = mention(text, author=user(i + 1))
                sent[payload["id"]] = time.perf_counter()  # the thread on it gets this id
                await fake.inject("MESSAGE_CREATE", payload)
            deadline = time.monotonic() + WAIT
            while not set(sent) <= set(fake.answered) and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            missing = set(sent) - set(fake.answered)
            if missing:
                raise SystemExit(f"Discord: {len(missing)} questions unanswered after {WAIT:.0f} s")
            results.append(summary(sent, {k: fake.answered[k] for k in sent}, []))
    finally:
        await bot.close()
        await asyncio.wait_for(task, 20)
        store.close()
        await fake.stop()
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved
    return results


def rows(name: str, runs: list[dict[str, float]]) -> list[str]:
    med = lambda key: median(r[key] for r in runs)  # noqa: E731
    ack = med("ack_p95")
    return [name, f"{med('throughput'):.1f}", f"{med('p50'):.2f}", f"{med('p95'):.2f}",
            f"{med('max'):.2f}", f"{med('wall'):.2f}", "-" if ack != ack else f"{ack * 1000:.0f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    from bot.advisor import Advisor, Question

    pool = eval_questions()
    questions = [pool[i % len(pool)] for i in range(args.questions)]
    with tempfile.TemporaryDirectory(prefix="accessbot-bench-") as tmp:
        settings, model, _ = build_kb_index(Path(tmp) / "data")
        settings = settings.model_copy(update={"rate_limit_per_minute": 0,
                                               "feedback_db": Path(tmp) / "feedback.sqlite3"})
        advisor = Advisor(settings, model)
        for text in questions[:3]:
            advisor.answer(Question(text))  # warm: snapshot, BM25, first inference
        single = []
        for text in questions:
            started = time.perf_counter()
            advisor.answer(Question(text))
            single.append(time.perf_counter() - started)
        slack = slack_runs(advisor, settings, questions, args.runs)
        discord = asyncio.run(discord_runs(advisor, settings, questions, args.runs))
    table(f"Load: {args.questions} concurrent questions, loopback (median of {args.runs} runs)",
          ["transport", "answers/s", "p50 s", "p95 s", "max s", "all answered s", "ack p95 ms"],
          [rows("Slack HTTP (build_app, signed events)", slack),
           rows("Discord (build_bot, fake gateway)", discord)])
    note(f"the same {len(questions)} questions one by one straight to the advisor: "
         f"{len(single) / sum(single):.1f} answers/s (p50 {percentile(single, 50) * 1000:.0f} ms); "
         f"ack = HTTP response to Slack's signed POST (Slack wants it within 3 s)")


if __name__ == "__main__":
    main()
