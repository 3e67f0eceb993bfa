"""The unmodified Discord bot against a local fake of Discord's REST API and gateway.

Answers come from the real advisor over the real knowledge base; the only fake is Discord
(tests/fakes/discord_server.py), plus a raising advisor for the apology test.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import threading
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot import messages
from bot.advisor import Question, Turn
from bot.feedback import FeedbackStore
from bot.transports import discord_render as render
from bot.transports.discord_bot import (HELPFUL_ID, NOT_HELPFUL_ID, AccessBot, build_bot, serve,
                                        sync_commands)
from tests.conftest import make_settings
from tests.fakes.discord_server import (ALICE, BOT, CHANNEL_ID, DM_CHANNEL_ID, GUILD_ID,
                                        OTHER_BOT, OTHER_CHANNEL_ID, ROLE_ID, TOKEN, FakeDiscord,
                                        button_click, mention, message, slash_ask, user)

pytestmark = pytest.mark.slow

CYBER = "Our cyber evals keep getting refused by the safeguards, is there a program for that?"


@pytest_asyncio.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    server = await FakeDiscord().start()
    _point_discord_at(monkeypatch, server)
    yield server
    await server.stop()


def _point_discord_at(monkeypatch: pytest.MonkeyPatch, server: FakeDiscord) -> None:
    """discord.py's two knobs: the REST base URL and the default gateway URL."""
    monkeypatch.setattr(Route, "BASE", server.api_base)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway_url))


@pytest.fixture
def bot_settings(tmp_path):
    return make_settings(tmp_path / "data")


@contextlib.asynccontextmanager
async def online(advisor, settings, **options) -> AsyncIterator[AccessBot]:
    """The bot connected to the fake gateway until the block ends."""
    store = FeedbackStore(settings.feedback_db)
    bot = build_bot(advisor, settings, store, guild_ready_timeout=0.05, **options)
    task = asyncio.create_task(bot.start(TOKEN))
    try:
        await asyncio.wait_for(bot.wait_until_ready(), 10)
        yield bot
    finally:
        await bot.close()
        await asyncio.wait_for(task, 10)
        store.close()


def readable(payloads: list[dict]) -> str:
    """Everything a reader sees in the embeds of these messages, markdown escapes removed."""
    parts = []
    for payload in payloads:
        for embed in payload.get("embeds") or []:
            parts += [embed.get("title") or "", embed.get("description") or ""]
            parts += [f"{f['name']}\n{f['value']}" for f in embed.get("fields") or []]
            parts.append((embed.get("footer") or {}).get("text") or "")
    return re.sub(r"\\(.)", r"\1", "\n".join(parts).replace("**", ""))


def first_page(answer) -> str:
    return render.split_text(render.markdown(answer.text), render.DESCRIPTION)[0]


async def wait_until(condition, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def button_ids(payload: dict) -> list[str]:
    return [c["custom_id"] for row in payload.get("components") or [] for c in row["components"]]


def assert_shows(answer, payloads: list[dict]) -> None:
    """The user sees the advisor's answer: text, routes with how to apply, the bottleneck,
    and every source as a link with its last-verified date."""
    seen = readable(payloads)
    assert answer.text.splitlines()[0] in seen
    for route in answer.routes:
        assert route.name in seen and route.apply in seen
    for cite in answer.citations:
        line = next(ln for ln in seen.splitlines() if ln.startswith(f"[{cite.n}] "))
        assert cite.last_verified in line
        if cite.source.startswith("http"):
            assert f"]({cite.source})" in line


def assert_no_pings(fake: FakeDiscord) -> None:
    """Every payload that carries text went out with mentions disabled."""
    sent = fake.sent()
    assert sent
    for method, path, body in sent:
        data = body.get("data", body) if "type" in body else body
        allowed = data.get("allowed_mentions") or {}
        assert allowed.get("parse") == [] and not allowed.get("replied_user"), (method, path, body)
        assert not {"users", "roles"} & set(allowed), (method, path, body)


def assert_within_limits(fake: FakeDiscord) -> None:
    assert fake.rejected == []


# ---------------------------------------------------------------- the "done when"
async def test_a_mention_gets_a_thread_with_routes_sources_and_buttons(fake, advisor, bot_settings):
    async with online(advisor, bot_settings):
        asked = await fake.inject("MESSAGE_CREATE", mention(CYBER))
        (opened,) = await fake.wait_for_call("POST", f"/channels/{CHANNEL_ID}/messages/{asked['id']}/threads")
        posts = await fake.wait_for_embed_posts(asked["id"])   # the thread's id is the message's

    expected = advisor.answer(Question(text=CYBER, platform="discord"))
    assert expected.routes and expected.citations, "the knowledge base should answer this"
    assert opened[2]["name"] == render.thread_name(CYBER)
    assert_shows(expected, posts)
    assert button_ids(posts[-1]) == [HELPFUL_ID, NOT_HELPFUL_ID]
    assert_no_pings(fake)
    assert_within_limits(fake)
    typing = fake.calls.index(("POST", f"/channels/{asked['id']}/typing", None))
    answered = next(i for i, c in enumerate(fake.calls) if c[2] is posts[0])
    assert typing < answered   # the user saw "AccessBot is typing…" first


async def test_reply_mode_answers_as_a_reply_to_the_question(fake, advisor, tmp_path):
    settings = make_settings(tmp_path / "data", discord_reply_mode="reply")
    async with online(advisor, settings):
        asked = await fake.inject("MESSAGE_CREATE", mention(CYBER))
        posts = await fake.wait_for_embed_posts(CHANNEL_ID)

    assert not [c for c in fake.calls if c[1].endswith("/threads")]
    assert posts[0]["message_reference"]["message_id"] == int(asked["id"])
    assert_shows(advisor.answer(Question(text=CYBER)), posts)
    assert_no_pings(fake)


async def test_a_direct_message_is_answered_in_the_dm(fake, advisor, bot_settings):
    async with online(advisor, bot_settings):
        await fake.inject("MESSAGE_CREATE", message(CYBER, channel_id=DM_CHANNEL_ID, guild=False))
        posts = await fake.wait_for_embed_posts(DM_CHANNEL_ID)

    assert_shows(advisor.answer(Question(text=CYBER)), posts)
    assert button_ids(posts[-1]) == [HELPFUL_ID, NOT_HELPFUL_ID]
    assert ("POST", f"/channels/{DM_CHANNEL_ID}/typing", None) in fake.calls


@pytest.mark.parametrize("restart", [False, True], ids=["same-process", "after-a-restart"])
async def test_a_follow_up_in_the_thread_is_read_with_the_earlier_turns(fake, advisor, bot_settings,
                                                                        restart):
    follow_up = "and what if we are an academic lab in the EU?"
    async with online(advisor, bot_settings):
        asked = await fake.inject("MESSAGE_CREATE", mention(CYBER))
        thread = asked["id"]
        await fake.wait_for_embed_posts(thread)
        if not restart:
            await fake.inject("MESSAGE_CREATE", message(follow_up, channel_id=thread))  # no mention
            posts = await fake.wait_for_embed_posts(thread, n=2)
    if restart:   # the earlier turns now come from Discord's history, not from memory
        async with online(advisor, bot_settings):
            await fake.inject("MESSAGE_CREATE", message(follow_up, channel_id=thread))
            posts = await fake.wait_for_embed_posts(thread, n=2)

    first = advisor.answer(Question(text=CYBER))
    expected = advisor.answer(Question(text=follow_up, history=(Turn(CYBER, first.text),)))
    alone = advisor.answer(Question(text=follow_up))
    assert expected.text != alone.text, "the earlier turn should matter to this follow-up"
    assert posts[1]["embeds"][0]["description"] == first_page(expected)
    assert_shows(expected, posts[1:])
    if restart:   # the first question was fetched from the channel the thread hangs off
        assert ("GET", f"/channels/{CHANNEL_ID}/messages/{thread}", None) in fake.calls


async def test_messages_not_for_the_bot_are_ignored(fake, advisor, bot_settings):
    async with online(advisor, bot_settings):
        await fake.inject("MESSAGE_CREATE", message(f"<@{BOT['id']}> {CYBER}", author=OTHER_BOT,
                                                    mentions=(BOT,)))      # another bot
        await fake.inject("MESSAGE_CREATE", message(CYBER))                # no mention
        await fake.inject("MESSAGE_CREATE", message(f"@everyone {CYBER}", mention_everyone=True))
        await asyncio.sleep(0.3)
    assert [c for c in fake.calls if c[0] == "POST"] == []


# ---------------------------------------------------------------- /ask and buttons
async def test_slash_ask_answers_in_the_deferred_response(fake, advisor, bot_settings):
    async with online(advisor, bot_settings):
        asked = await fake.inject("INTERACTION_CREATE", slash_ask(CYBER))
        (deferred,) = await fake.wait_for_call("POST", f"/interactions/{asked['id']}/{asked['token']}/callback")
        (filled,) = await fake.wait_for_call("PATCH", f"/{asked['token']}/messages/@original")

    assert deferred[2]["type"] == 5 and not (deferred[2].get("data") or {}).get("flags", 0) & 64
    assert filled[1] == f"/webhooks/{BOT['id']}/{asked['token']}/messages/@original"
    assert filled[2]["embeds"][0]["title"] == CYBER       # a slash command hides the question
    assert_shows(advisor.answer(Question(text=CYBER)), [filled[2]])
    assert button_ids(filled[2]) == [HELPFUL_ID, NOT_HELPFUL_ID]
    assert_no_pings(fake)


async def test_slash_ask_can_answer_only_the_asker(fake, advisor, bot_settings):
    async with online(advisor, bot_settings):
        asked = await fake.inject("INTERACTION_CREATE", slash_ask(CYBER, private=True))
        (deferred,) = await fake.wait_for_call("POST", f"/{asked['token']}/callback")
        await fake.wait_for_call("PATCH", f"/{asked['token']}/messages/@original")

    assert deferred[2]["type"] == 5 and deferred[2]["data"]["flags"] & 64   # ephemeral


async def test_button_clicks_are_stored_and_acknowledged_even_after_a_restart(fake, advisor, bot_settings):
    async with online(advisor, bot_settings):
        asked = await fake.inject("MESSAGE_CREATE", mention(CYBER))
        await fake.wait_for_embed_posts(asked["id"])
        answer = next(m for m in fake.messages.values() if m["channel_id"] == asked["id"]
                      and m["components"])
        click = await fake.inject("INTERACTION_CREATE", button_click(HELPFUL_ID, answer))
        (ack,) = await fake.wait_for_call("POST", f"/{click['token']}/callback")

    assert ack[2]["type"] == 4 and ack[2]["data"]["flags"] & 64
    assert ack[2]["data"]["content"] == messages.FEEDBACK_THANKS
    async with online(advisor, bot_settings):          # a new process: the view still listens
        click = await fake.inject("INTERACTION_CREATE", button_click(NOT_HELPFUL_ID, answer))
        await fake.wait_for_call("POST", f"/{click['token']}/callback")

    store = FeedbackStore(bot_settings.feedback_db)
    rows = store.rows()
    store.close()
    routes = [r.card_id for r in advisor.answer(Question(text=CYBER)).routes]
    assert [(r["platform"], r["message_ref"], r["helpful"], r["cards"]) for r in rows] == [
        ("discord", answer["id"], 0, ",".join(routes))]   # the second click changed the vote
    footer = answer["embeds"][-1]["footer"]["text"]     # the vote links to the question log
    assert rows[0]["answer_id"] and footer.endswith(f"answer {rows[0]['answer_id']}")


# ---------------------------------------------------------------- safety and limits
async def test_nobody_can_be_pinged_through_the_bot(fake, advisor, bot_settings):
    sneaky = f"@everyone @here <@&{ROLE_ID}> <@{ALICE['id']}> {CYBER}"
    async with online(advisor, bot_settings):
        asked = await fake.inject("MESSAGE_CREATE", mention(sneaky, mention_everyone=True))
        await fake.wait_for_embed_posts(asked["id"])
        await fake.inject("MESSAGE_CREATE", message(sneaky, channel_id=DM_CHANNEL_ID, guild=False))
        await fake.wait_for_embed_posts(DM_CHANNEL_ID)
        slash = await fake.inject("INTERACTION_CREATE", slash_ask(sneaky))
        await fake.wait_for_call("PATCH", f"/{slash['token']}/messages/@original")
        empty = await fake.inject("MESSAGE_CREATE", mention(""))   # gets a plain-text notice
        await fake.wait_for_call("POST", f"/channels/{CHANNEL_ID}/messages")

    notice = fake.posts_to(CHANNEL_ID)[-1]
    assert notice["content"] == messages.EMPTY_QUESTION
    assert notice["message_reference"]["message_id"] == int(empty["id"])
    assert_no_pings(fake)
    assert_within_limits(fake)


class LongWinded:
    """The real advisor, with its answer made longer than Discord allows in one message
    (the real knowledge base has no answer that long)."""

    def __init__(self, advisor) -> None:
        self.advisor = advisor

    def check(self, question):
        return self.advisor.check(question)

    def answer(self, question, timings=None, on_delta=None):
        real = self.advisor.answer(question)
        citations = [dataclasses.replace(c, n=i + 1)
                     for i, c in enumerate(real.citations * (60 // max(len(real.citations), 1)))]
        return dataclasses.replace(real, text="\n\n".join([real.text] * 12), citations=citations)


async def test_an_over_long_answer_is_split_within_discords_limits(fake, advisor, bot_settings):
    long = LongWinded(advisor)
    async with online(long, bot_settings):
        asked = await fake.inject("MESSAGE_CREATE", mention(CYBER))
        await wait_until(lambda: any(button_ids(p) for p in fake.posts_to(asked["id"])))
        posts = fake.posts_to(asked["id"])
        slash = await fake.inject("INTERACTION_CREATE", slash_ask("x" * 300 + CYBER))
        (original,) = await fake.wait_for_call("PATCH", f"/{slash['token']}/messages/@original")

    assert_within_limits(fake)
    assert len(posts) >= 2                                      # split over messages
    seen = readable(posts)
    assert messages.DISCORD_CONTINUED in seen                   # visibly continued
    assert messages.TRIMMED in seen                             # and visibly trimmed at the cap
    assert button_ids(posts[-1]) == [HELPFUL_ID, NOT_HELPFUL_ID] and not button_ids(posts[0])
    assert original[2]["embeds"][0]["title"].endswith(render.TRIM_MARK)   # 256-char title


class Recording:
    """The real advisor, noting which thread each answer was computed on."""

    def __init__(self, advisor) -> None:
        self.advisor, self.threads = advisor, []

    def check(self, question):
        return self.advisor.check(question)

    def answer(self, question, timings=None, on_delta=None):
        self.threads.append(threading.get_ident())
        return self.advisor.answer(question, on_delta=on_delta)


async def test_twenty_questions_at_once_keep_the_heartbeat_going(monkeypatch, advisor, bot_settings):
    server = await FakeDiscord(heartbeat_ms=50).start()
    _point_discord_at(monkeypatch, server)
    recording = Recording(advisor)
    try:
        async with online(recording, bot_settings) as bot:
            await asyncio.sleep(0.2)
            started = time.monotonic()
            asked = [await server.inject("MESSAGE_CREATE", mention(CYBER, author=user(i)))
                     for i in range(20)]
            for a in asked:
                await server.wait_for_embed_posts(a["id"], timeout=60)
            finished = time.monotonic()
            latency = bot.latency
    finally:
        await server.stop()

    during = [t for t in server.acks if started <= t <= finished]
    gaps = [b - a for a, b in zip([started, *during], [*during, finished])]
    assert len(during) >= 3 and max(gaps) < 0.5, (len(during), gaps)   # ACKs kept coming
    assert latency < 0.5
    assert len(recording.threads) == 20 and threading.get_ident() not in recording.threads


async def test_a_user_who_asks_too_fast_gets_a_polite_note(fake, advisor, tmp_path):
    settings = make_settings(tmp_path / "data", rate_limit_per_minute=1)
    async with online(advisor, settings):
        first = await fake.inject("MESSAGE_CREATE", mention(CYBER))
        await fake.wait_for_embed_posts(first["id"])
        await fake.inject("MESSAGE_CREATE", mention(CYBER))
        (note,) = await fake.wait_for_call("POST", f"/channels/{CHANNEL_ID}/messages")

    assert note[2]["content"].startswith(messages.RATE_LIMITED.split("{")[0])
    assert len([c for c in fake.calls if c[1].endswith("/threads")]) == 1


async def test_allowlists_keep_the_bot_to_its_channels(fake, advisor, tmp_path):
    settings = make_settings(tmp_path / "data", discord_guilds=GUILD_ID,
                             discord_channels=OTHER_CHANNEL_ID)
    async with online(advisor, settings):
        await fake.inject("MESSAGE_CREATE", mention(CYBER))              # not an allowed channel
        await fake.inject("MESSAGE_CREATE", message(CYBER, channel_id=DM_CHANNEL_ID, guild=False))
        slash = await fake.inject("INTERACTION_CREATE", slash_ask(CYBER))
        (refused,) = await fake.wait_for_call("POST", f"/{slash['token']}/callback")
        allowed = await fake.inject("MESSAGE_CREATE", mention(CYBER, channel_id=OTHER_CHANNEL_ID))
        await fake.wait_for_embed_posts(allowed["id"])

    assert refused[2]["data"]["content"] == messages.NOT_ALLOWED_HERE
    assert refused[2]["data"]["flags"] & 64
    assert fake.posts_to(CHANNEL_ID) == [] and fake.posts_to(DM_CHANNEL_ID) == []


class Broken:
    """An advisor that fails, to see what the user and the log get."""

    def check(self, question):
        return question.text

    def answer(self, question, timings=None, on_delta=None):
        raise RuntimeError("index exploded at /srv/secret/path")


async def test_an_advisor_error_gives_a_short_apology_and_a_logged_traceback(fake, bot_settings, caplog):
    async with online(Broken(), bot_settings):
        asked = await fake.inject("MESSAGE_CREATE", mention(CYBER))
        await fake.wait_for_call("POST", f"/channels/{asked['id']}/messages")
        slash = await fake.inject("INTERACTION_CREATE", slash_ask(CYBER))
        (filled,) = await fake.wait_for_call("PATCH", f"/{slash['token']}/messages/@original")

    assert fake.posts_to(asked["id"])[0]["content"] == messages.APOLOGY
    assert filled[2]["content"] == messages.APOLOGY
    assert "secret" not in str(fake.calls)
    failures = [r for r in caplog.records if r.exc_info and "exploded" in str(r.exc_info[1])]
    assert len(failures) == 2


# ---------------------------------------------------------------- set-up paths
async def test_without_the_message_content_intent_ask_and_mentions_still_work(monkeypatch, advisor,
                                                                             bot_settings, caplog):
    server = await FakeDiscord(grant_message_content=False).start()
    _point_discord_at(monkeypatch, server)
    store = FeedbackStore(bot_settings.feedback_db)
    bots: list[AccessBot] = []

    def make_bot(message_content: bool) -> AccessBot:
        bots.append(build_bot(advisor, bot_settings, store, message_content=message_content,
                              guild_ready_timeout=0.05))
        return bots[-1]

    task = asyncio.create_task(serve(TOKEN, make_bot))
    try:
        await asyncio.wait_for(server.connected.wait(), 10)
        slash = await server.inject("INTERACTION_CREATE", slash_ask(CYBER))
        (filled,) = await server.wait_for_call("PATCH", f"/{slash['token']}/messages/@original")
        asked = await server.inject("MESSAGE_CREATE", mention(CYBER))
        await server.wait_for_embed_posts(asked["id"])
    finally:
        await bots[-1].close()
        await asyncio.wait_for(task, 10)
        await server.stop()
        store.close()

    assert [bool(i["intents"] & (1 << 15)) for i in server.identified] == [True, False]
    assert messages.DISCORD_NO_MESSAGE_CONTENT in caplog.text
    assert_shows(advisor.answer(Question(text=CYBER)), [filled[2]])


@pytest.mark.parametrize("scope", ["global", GUILD_ID])
async def test_sync_registers_ask_globally_or_in_one_server(fake, advisor, bot_settings, scope):
    store = FeedbackStore(bot_settings.feedback_db)
    synced = await sync_commands(build_bot(advisor, bot_settings, store), TOKEN, scope)
    store.close()

    path = (f"/applications/{BOT['id']}/commands" if scope == "global"
            else f"/applications/{BOT['id']}/guilds/{GUILD_ID}/commands")
    (put,) = [c for c in fake.calls if c[0] == "PUT"]
    assert put[1] == path and [c.name for c in synced] == ["ask", "reingest"]
    options = {o["name"]: (o["type"], o.get("required", False)) for o in put[2][0]["options"]}
    assert options == {"question": (3, True), "private": (5, False)}
    assert fake.identified == []          # registered without going online


async def test_the_token_never_reaches_the_log(fake, advisor, bot_settings, caplog):
    caplog.set_level(logging.DEBUG)
    async with online(advisor, bot_settings):
        asked = await fake.inject("MESSAGE_CREATE", mention(CYBER))
        await fake.wait_for_embed_posts(asked["id"])
    assert caplog.records and TOKEN not in caplog.text
    assert all(TOKEN not in str(r.args) for r in caplog.records)
