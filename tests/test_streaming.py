"""Answers shown while the LLM streams them: the throttle on its own, then the real advisor
with the real LangChain client against the local OpenAI-compatible server, behind the real
bolt app (Slack) and the unmodified discord.py bot (Discord). The placeholder grows at
most about once a second, and the final answer replaces it, also when the streamed text
failed its check and the extractive answer is shown instead."""
from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from slack_sdk import WebClient

from bot import messages
from bot.advisor import Advisor
from bot.advisor.llm import LLMWriter, build_chat_model
from bot.transports import discord_render as drender
from bot.transports import slack_render as srender
from bot.transports.discord_bot import HELPFUL_ID, NOT_HELPFUL_ID
from bot.transports.slack import build_app
from bot.transports.streaming import LoopStream, Throttle
from tests.conftest import make_settings
from tests.fakes.discord_server import FakeDiscord, mention, slash_ask
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.slack_events import SECRET, EventsEndpoint, mention as slack_mention
from tests.test_discord_bot import (_point_discord_at, assert_no_pings, button_ids, online,
                                    wait_until)

CYBER = "Our cyber evals keep getting refused by the safeguards, is there a program for that?"
# About 3.5 s at 0.05 s a word: long enough for a few once-a-second updates.
GROUNDED = " ".join(["Apply with a short description of your evaluation work [1]."] * 10)
UNCITED = " ".join(["Describe your work and your organisation when you apply."] * 8)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_throttle_shows_the_newest_text_at_most_once_per_interval():
    clock, shown = Clock(), []
    stream = Throttle(shown.append, interval=1.0, clock=clock)
    for at, text in [(0.5, "a"), (1.0, "a b"), (1.4, "a b c"), (2.1, "a b c d"), (2.5, "x")]:
        clock.now = at
        stream(text)
    assert shown == ["a b", "a b c d"]
    stream.close()
    clock.now = 9.0
    stream("a b c d e")
    assert shown == ["a b", "a b c d"]  # nothing after close: the final answer is last


def test_a_failing_update_is_logged_and_the_stream_goes_on(caplog):
    clock, shown = Clock(), []

    def show(text: str) -> None:
        if text == "boom":
            raise RuntimeError("edit refused")
        shown.append(text)

    stream = Throttle(show, interval=1.0, clock=clock)
    for at, text in [(1.0, "boom"), (2.0, "fine")]:
        clock.now = at
        stream(text)
    assert shown == ["fine"] and "edit refused" in caplog.text


async def test_loop_updates_are_dropped_while_one_is_in_flight_and_close_waits():
    release, shown = asyncio.Event(), []

    async def show(text: str) -> None:
        await release.wait()
        shown.append(text)

    stream = LoopStream(asyncio.get_running_loop(), show, interval=0.0)
    worker = threading.Thread(target=lambda: [stream(t) for t in ("one", "two", "three")])
    worker.start()
    await asyncio.to_thread(worker.join)
    release.set()
    await stream.close()
    stream("four")
    await asyncio.sleep(0.05)
    assert shown == ["one"]  # two and three came while one was being sent


# ---------------------------------------------------------------- through the transports
@pytest.fixture
def llm():
    server = FakeOpenAI(chunk_delay=0.05)
    yield server
    server.close()


@pytest.fixture
def llm_advisor(llm, kb_settings, embeddings):
    settings = make_settings(kb_settings.data_dir, llm_base_url=llm.url, llm_timeout=15)
    return Advisor(settings, embeddings, writer=LLMWriter(build_chat_model(settings), 15))


@pytest.fixture
def slack_api():
    api = FakeSlackAPI()
    yield api
    api.close()


@pytest.fixture
def slack(slack_api, llm_advisor, tmp_path):
    settings = llm_advisor.settings.model_copy(update={"feedback_db": tmp_path / "fb.sqlite3"})
    app = build_app(llm_advisor, settings, WebClient(token="xoxb-1-2-stream", base_url=slack_api.url),
                    SECRET)
    endpoint = EventsEndpoint(app)
    yield endpoint
    endpoint.close()


def _has_buttons(body: dict[str, Any]) -> bool:
    return any(b.get("type") == "actions" for b in body.get("blocks") or [])


def slack_updates(api: FakeSlackAPI) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(updates shown while streaming, the final answer) on the one placeholder."""
    api.wait_for("chat.update", where=_has_buttons, timeout=30)
    updates = api.bodies("chat.update")
    assert len({u["ts"] for u in updates}) == 1  # all edits of the placeholder
    assert _has_buttons(updates[-1]) and not any(_has_buttons(u) for u in updates[:-1])
    return updates[:-1], updates[-1]


def _is_partial(body: dict[str, Any]) -> bool:
    return messages.STREAMING in body["blocks"][-1]["elements"][0]["text"]


@pytest.mark.slow
def test_slack_shows_the_answer_growing_then_the_final_one(slack, slack_api, llm):
    llm.enqueue("answer", GROUNDED)
    slack.event(slack_mention(CYBER, ts="1700009000.000100"))
    partial, final = slack_updates(slack_api)

    assert 1 <= len(partial) <= 5 and all(_is_partial(u) for u in partial)  # ~once a second
    assert all(GROUNDED.startswith(u["text"]) for u in partial)
    assert len(partial[0]["text"]) < len(GROUNDED)  # shown before the LLM had finished
    assert final["text"] == srender.escape(GROUNDED)  # the checked LLM answer, with sources
    assert messages.SOURCES_HEADING in str(final["blocks"])


@pytest.mark.slow
def test_slack_ends_with_the_extractive_answer_when_the_stream_fails_its_check(slack, slack_api, llm):
    llm.enqueue("answer", UNCITED)
    slack.event(slack_mention(CYBER, ts="1700009100.000100"))
    partial, final = slack_updates(slack_api)

    assert partial and all(UNCITED.startswith(u["text"]) for u in partial)  # it was shown...
    assert messages.ROUTES_HEADING in final["text"] and "Describe your work" not in final["text"]
    assert not _is_partial(final)  # ...and the extractive answer replaced it


@pytest_asyncio.fixture
async def discord_fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    server = await FakeDiscord().start()
    _point_discord_at(monkeypatch, server)
    yield server
    await server.stop()


def _footer(body: dict[str, Any]) -> str:
    embeds = body.get("embeds") or [{}]
    return (embeds[-1].get("footer") or {}).get("text") or ""


@pytest.mark.slow
async def test_discord_shows_the_answer_growing_then_the_final_one(discord_fake, llm, llm_advisor,
                                                                    tmp_path):
    llm.enqueue("answer", GROUNDED)
    settings = llm_advisor.settings.model_copy(update={"feedback_db": tmp_path / "fb.sqlite3"})
    async with online(llm_advisor, settings):
        asked = await discord_fake.inject("MESSAGE_CREATE", mention(CYBER))
        thread = asked["id"]
        (shown,) = await discord_fake.wait_for_embed_posts(thread, timeout=30)
        posted = discord_fake.posts_to(thread)
        message_id = next(m for m in discord_fake.channels[thread]
                          if discord_fake.messages[m]["author"]["bot"])
        await wait_until(lambda: any(button_ids(e) for e in discord_fake.edits_of(message_id)))
        edits = discord_fake.edits_of(message_id)

    assert len(posted) == 1 and _footer(shown) == messages.STREAMING  # the growing answer...
    *partial, final = edits
    assert 1 <= len(partial) <= 5  # ...edited in place, about once a second
    assert all(_footer(e) == messages.STREAMING for e in partial)
    assert final["embeds"][0]["description"] == drender.markdown(GROUNDED)
    assert button_ids(final) == [HELPFUL_ID, NOT_HELPFUL_ID] and _footer(final) != messages.STREAMING
    assert_no_pings(discord_fake)


@pytest.mark.slow
async def test_discord_ask_ends_with_the_extractive_answer_when_the_stream_fails_its_check(
        discord_fake, llm, llm_advisor, tmp_path):
    llm.enqueue("answer", UNCITED)
    settings = llm_advisor.settings.model_copy(update={"feedback_db": tmp_path / "fb.sqlite3"})
    async with online(llm_advisor, settings):
        asked = await discord_fake.inject("INTERACTION_CREATE", slash_ask(CYBER))
        original = f"/{asked['token']}/messages/@original"

        def edits() -> list[dict[str, Any]]:
            return [c[2] for c in discord_fake.calls if c[0] == "PATCH" and c[1].endswith(original)]

        await wait_until(lambda: any(button_ids(e) for e in edits()))

    *partial, final = edits()
    assert partial and all(_footer(e) == messages.STREAMING for e in partial)
    assert "Describe your work" in partial[0]["embeds"][0]["description"]
    assert final["embeds"][0]["description"].startswith(f"**{messages.ROUTES_HEADING}**")
    assert button_ids(final) == [HELPFUL_ID, NOT_HELPFUL_ID]
    assert_no_pings(discord_fake)
