"""The Slack app in HTTP mode, end to end inside one process: signed requests over real
HTTP into the real bolt app, answers from the real advisor, replies recorded by a local
stand-in for Slack's Web API."""
from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from slack_sdk import WebClient

from bot import messages
from bot.advisor import Advisor, Question, Turn
from bot.feedback import FeedbackStore
from bot.transports import slack_render as render
from bot.transports.slack import build_app
from tests.fakes.slack_api import BOT_USER, FakeSlackAPI
from tests.fakes.slack_events import (
    SECRET, EventsEndpoint, click_body, command_body, event_body, mention, message,
)

pytestmark = pytest.mark.slow

TOKEN = "xoxb-1234-5678-testtokenvalue"
CYBER = "Fable's cyber safeguards keep refusing our AI control experiments, is there a way around that?"
FORBIDDEN = ("<!channel>", "<!here", "<!everyone>", "<!subteam", "<@U0EVIL", "<@U999")


def text_of(blocks: list[dict[str, Any]]) -> str:
    """Everything a reader sees in the blocks' text."""
    parts = []
    for block in blocks:
        if "text" in block:
            parts.append(block["text"]["text"])
        parts += [e.get("text", "") for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
    return "\n".join(parts)


def buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["action_id"]: e for b in blocks if b["type"] == "actions" for e in b["elements"]}


@pytest.fixture
def fake():
    api = FakeSlackAPI()
    yield api
    api.close()


@pytest.fixture
def start(fake, kb_settings, advisor, tmp_path):
    """Start the app on a real HTTP port: start(advisor=..., **setting overrides)."""
    endpoints = []

    def _start(use_advisor: Any = None, **overrides: Any) -> EventsEndpoint:
        settings = kb_settings.model_copy(update={
            "feedback_db": tmp_path / "feedback.sqlite3", "rate_limit_per_minute": 100, **overrides})
        app = build_app(use_advisor or advisor, settings, WebClient(token=TOKEN, base_url=fake.url),
                        SECRET)
        endpoints.append(EventsEndpoint(app))
        return endpoints[-1]

    yield _start
    for endpoint in endpoints:
        endpoint.close()


def ask(advisor: Advisor, text: str, user: str = "U1", history: tuple[Turn, ...] = ()):
    return advisor.answer(Question(text=text, history=history, platform="slack", user_id=user))


def test_mention_is_answered_in_its_thread_with_routes_sources_and_feedback(start, fake, advisor):
    slack = start()
    status, _, took = slack.event(mention(CYBER, ts="1700000100.000100"))
    assert status == 200 and took < 3

    (reply,) = fake.wait_for_reply("C1", thread_ts="1700000100.000100")
    placeholder = fake.bodies("chat.postMessage")[0]
    assert placeholder["thread_ts"] == "1700000100.000100"
    assert placeholder["text"] == messages.SLACK_WORKING  # then edited into the answer
    assert fake.bodies("chat.update")[0]["ts"] == reply["ts"]

    expected = ask(advisor, CYBER)
    assert expected.routes and expected.citations
    shown = text_of(reply["blocks"])
    for route in expected.routes:
        assert render.escape(route.name) in shown
    assert messages.HOW_TO_APPLY in shown
    assert messages.SOURCES_HEADING in shown
    for cite in expected.citations:
        assert f"[{cite.n}] " in shown and cite.last_verified in shown
        if cite.source.startswith("http"):
            assert f"<{cite.source}|" in shown
    feedback = buttons(reply["blocks"])
    assert set(feedback) == {render.HELPFUL, render.NOT_HELPFUL}
    assert expected.routes[0].card_id in render.read_feedback_value(feedback[render.HELPFUL]["value"])[1]


def test_direct_message_is_answered_in_the_conversation(start, fake, advisor):
    slack = start()
    slack.event(message(CYBER, ts="1700000200.000100", channel="D1", channel_type="im"))
    (reply,) = fake.wait_for_reply("D1")
    assert reply["text"] == render.answer_text(ask(advisor, CYBER))


def test_a_direct_message_follow_up_is_read_with_the_earlier_question(start, fake, advisor):
    slack = start()
    slack.event(message(CYBER, ts="1700000250.000100", channel="D2", channel_type="im"))
    fake.wait_for_reply("D2")
    follow_up = "and if we are an independent researcher?"
    slack.event(message(follow_up, ts="1700000250.000200", channel="D2", channel_type="im"))
    second = fake.wait_for_reply("D2", n=2)[1]
    earlier = (Turn(CYBER, ask(advisor, CYBER).text),)
    assert second["text"] == render.answer_text(ask(advisor, follow_up, history=earlier))
    assert second["text"] != render.answer_text(ask(advisor, follow_up))  # context mattered


def test_follow_up_in_the_thread_needs_no_mention_and_keeps_the_context(start, fake, advisor):
    slack = start()
    root = "1700000300.000100"
    slack.event(mention(CYBER, ts=root))
    (first,) = fake.wait_for_reply("C1", thread_ts=root)

    follow_up = "and what if we are a university lab in the EU?"
    slack.event(message(follow_up, ts="1700000300.000200", channel="C1", thread_ts=root))
    second = fake.wait_for_reply("C1", thread_ts=root, n=2)[1]

    earlier = (Turn(CYBER, ask(advisor, CYBER).text),)
    assert second["text"] == render.answer_text(ask(advisor, follow_up, history=earlier))
    assert second["text"] != render.answer_text(ask(advisor, follow_up))  # context mattered
    assert first["ts"] != second["ts"]


def test_follow_up_after_a_restart_reads_the_thread_back_from_slack(start, fake, advisor):
    root = "1700000400.000100"
    fake.add_message("C1", root, "U1", f"<@{BOT_USER}> {CYBER}")
    start().event(mention(CYBER, ts=root))
    fake.wait_for_reply("C1", thread_ts=root)

    restarted = start()  # a new app: nothing in memory about this thread
    follow_up = "what about for an independent researcher?"
    restarted.event(message(follow_up, ts="1700000400.000300", channel="C1", thread_ts=root))
    second = fake.wait_for_reply("C1", thread_ts=root, n=2)[1]

    assert fake.bodies("conversations.replies")[0]["ts"] == root
    earlier = (Turn(CYBER, render.question_text(render.answer_text(ask(advisor, CYBER)))),)
    assert second["text"] == render.answer_text(ask(advisor, follow_up, history=earlier))


def test_thread_replies_elsewhere_and_bot_messages_are_left_alone(start, fake):
    slack = start()
    fake.add_message("C1", "1700000500.000100", "U7", "lunch?")
    slack.event(message("pizza", ts="1700000500.000200", channel="C1", thread_ts="1700000500.000100"))
    slack.event(message("loop?", ts="1700000500.000300", channel="D1", channel_type="im",
                        user=BOT_USER, bot_id="BBOT"))
    slack.event(message("another bot", ts="1700000500.000400", channel="D1", channel_type="im",
                        user="U8", bot_id="BOTHER", subtype="bot_message"))
    slack.event(message("edited", ts="1700000500.000500", channel="D1", channel_type="im",
                        subtype="message_changed"))
    slack.event(message(CYBER, ts="1700000500.000600", channel="D1", channel_type="im"))

    fake.wait_for_reply("D1")  # the one real question, sent last, is answered...
    assert len(fake.bodies("chat.postMessage")) == 1  # ...and nothing else was


def test_slash_command_answers_privately_and_can_be_shared(start, fake, advisor):
    slack = start()
    status, body, took = slack.send(command_body(CYBER, fake.response_url("cmd1")),
                                    "application/x-www-form-urlencoded")
    assert status == 200 and took < 3
    assert json.loads(body)["text"] == messages.SLACK_WORKING  # the private placeholder

    (private,) = fake.wait_for("response/cmd1")
    assert private["response_type"] == "ephemeral" and private["replace_original"] is True
    assert private["text"] == render.answer_text(ask(advisor, CYBER))
    actions = buttons(private["blocks"])
    assert {render.SHARE, render.HELPFUL, render.NOT_HELPFUL} <= set(actions)

    slack.send(click_body(render.SHARE, actions[render.SHARE]["value"], fake.response_url("share1"),
                          message=None, ephemeral=True), "application/x-www-form-urlencoded")
    (shared,) = fake.wait_for_reply("C1")
    assert render.escape(CYBER) in text_of(shared["blocks"])  # what was asked, then the answer
    assert shared["text"] == private["text"]
    assert fake.wait_for("response/share1")[0]["delete_original"] is True


def test_slash_command_help_explains_what_it_can_do(start, fake):
    status, body, _ = start().send(command_body("help", fake.response_url("help")),
                                   "application/x-www-form-urlencoded")
    assert status == 200
    shown = json.loads(body)
    assert shown["response_type"] == "ephemeral"
    assert "/accessbot" in shown["text"] and "cyber verification programs" in shown["text"]
    time.sleep(0.2)
    assert "response/help" not in fake.methods()


def test_feedback_clicks_are_stored_with_the_cards_and_acknowledged(start, fake, advisor, tmp_path):
    slack = start()
    slack.event(mention(CYBER, ts="1700000600.000100"))
    (reply,) = fake.wait_for_reply("C1", thread_ts="1700000600.000100")
    value = buttons(reply["blocks"])[render.HELPFUL]["value"]

    for n, action in enumerate((render.HELPFUL, render.NOT_HELPFUL), 1):
        status, _, _ = slack.send(click_body(action, value, fake.response_url(f"fb{n}"), message=reply,
                                             message_ts=reply["ts"]),
                                  "application/x-www-form-urlencoded")
        assert status == 200
        update = fake.wait_for("chat.update", n=n + 1)[n]
        assert update["ts"] == reply["ts"]
        assert text_of(update["blocks"]).count(messages.FEEDBACK_THANKS) == 1
        assert buttons(update["blocks"])  # others can still vote

    rows = FeedbackStore(tmp_path / "feedback.sqlite3").rows()
    expected = ask(advisor, CYBER)
    assert len(rows) == 1  # one vote per user; the second click changed it
    answer_id = value.partition(":")[0]  # the answer's id in the question log
    assert rows[0]["helpful"] == 0 and rows[0]["message_ref"] == answer_id and answer_id
    assert rows[0]["answer_id"] == answer_id  # joinable to the question log
    assert set(rows[0]["cards"].split(",")) == {c.card_id for c in expected.citations} | {
        r.card_id for r in expected.routes}
    assert "U2" not in json.dumps(rows)  # user ids are stored hashed


def test_feedback_on_a_private_answer_is_stored_and_thanked_privately(start, fake, tmp_path):
    slack = start()
    slack.send(command_body(CYBER, fake.response_url("cmd")), "application/x-www-form-urlencoded")
    value = buttons(fake.wait_for("response/cmd")[0]["blocks"])[render.HELPFUL]["value"]
    slack.send(click_body(render.HELPFUL, value, fake.response_url("fb"), message=None,
                          ephemeral=True, user="U1"), "application/x-www-form-urlencoded")
    (thanks,) = fake.wait_for("response/fb")
    assert thanks["text"] == messages.FEEDBACK_THANKS and thanks["response_type"] == "ephemeral"
    (row,) = FeedbackStore(tmp_path / "feedback.sqlite3").rows()
    answer_id, cards = render.read_feedback_value(value)
    assert row["helpful"] == 1 and row["message_ref"] == answer_id and row["cards"] == ",".join(cards)


def test_wrong_signature_and_stale_timestamp_get_401(start, fake):
    slack = start()
    body = event_body(mention(CYBER, ts="1700000700.000100"))
    assert slack.send(body, secret="not-the-secret")[0] == 401
    assert slack.send(body, timestamp=time.time() - 600)[0] == 401
    status, body, _ = slack.send(json.dumps({"type": "url_verification", "challenge": "c1"}))
    assert status == 200 and json.loads(body)["challenge"] == "c1"  # the same secret works
    time.sleep(0.2)
    assert "chat.postMessage" not in fake.methods()


def test_asking_too_fast_gets_a_polite_private_note(start, fake):
    slack = start(rate_limit_per_minute=1)
    slack.event(mention(CYBER, ts="1700000800.000100"))
    slack.event(mention(CYBER, ts="1700000800.000200"))
    (note,) = fake.wait_for("chat.postEphemeral")
    assert note["user"] == "U1" and note["text"].startswith("You're asking faster")
    fake.wait_for_reply("C1", thread_ts="1700000800.000100")
    assert fake.bot_messages("C1", thread_ts="1700000800.000200") == []


def test_channel_allowlist(start, fake):
    slack = start(slack_channels="CALLOWED")
    slack.event(mention(CYBER, ts="1700000900.000100", channel="COTHER"))
    (note,) = fake.wait_for("chat.postEphemeral")
    assert note["channel"] == "COTHER" and note["text"] == messages.NOT_ALLOWED_HERE
    _, body, _ = slack.send(command_body(CYBER, fake.response_url("c2"), channel="COTHER"),
                            "application/x-www-form-urlencoded")
    assert messages.NOT_ALLOWED_HERE in body

    slack.event(mention(CYBER, ts="1700000900.000200", channel="CALLOWED"))
    fake.wait_for_reply("CALLOWED", thread_ts="1700000900.000200")
    assert fake.bot_messages("COTHER", thread_ts="1700000900.000100") == []


class BrokenAdvisor:
    """Stands in for an advisor whose index just broke."""

    def answer(self, question: Question, timings=None, on_delta=None):
        raise RuntimeError("chroma exploded at /srv/private/path")


def test_an_advisor_failure_gives_an_apology_and_logs_the_traceback(start, fake, caplog):
    slack = start(use_advisor=BrokenAdvisor())
    with caplog.at_level(logging.ERROR, logger="bot.transports.slack"):
        slack.event(mention(CYBER, ts="1700001000.000100"))
        (reply,) = fake.wait_for_reply("C1", thread_ts="1700001000.000100")
    assert reply["text"] == messages.APOLOGY
    assert "Traceback" in caplog.text and "chroma exploded" in caplog.text
    assert "/srv/private" not in fake.raw_traffic()


def test_broadcasts_and_mentions_in_a_question_are_never_posted(start, fake, advisor):
    slack = start()
    # As Slack delivers it: special mentions in angle brackets, the user's own &, <, > escaped.
    question = f"<!channel> <!here> <!subteam^S1|@admins> <@U999> {CYBER} &amp; &lt;b&gt;"
    slack.event(mention(question, ts="1700001100.000100"))
    fake.wait_for_reply("C1", thread_ts="1700001100.000100")
    slack.send(command_body(question, fake.response_url("cmd")), "application/x-www-form-urlencoded")
    share = buttons(fake.wait_for("response/cmd")[0]["blocks"])[render.SHARE]["value"]
    slack.send(click_body(render.SHARE, share, fake.response_url("s"), message=None, ephemeral=True),
               "application/x-www-form-urlencoded")
    (shared,) = fake.wait_for_reply("C1")

    traffic = fake.raw_traffic()
    for forbidden in FORBIDDEN:
        assert forbidden not in traffic
    assert "@\u200bchannel @\u200bhere @admins @someone" in text_of(shared["blocks"])
    assert "&amp; &lt;b&gt;" in text_of(shared["blocks"])


EVIL_CARD = """\
---
id: relay-access
kind: program
title: Relay <!channel> access
source_url: https://example.org/relay?a=1&b=2
last_verified: 2026-10-01
confidence: high
status: open
eligible: [any]
domains: [interpretability]
grants: [internals]
addresses: [elicitation]
regions: [any]
apply: Write to the organisers <!here> and <!subteam^S0EVIL|@admins> or ask <@U0EVIL>.
---
## What it is
Relay gives interpretability researchers remote access to the activations of open models <!here>; ask <@U0EVIL> for a seat.
"""


def test_broadcasts_inside_a_document_are_escaped(start, fake, embeddings, tmp_path):
    from ingest.pipeline import run_ingest
    from tests.conftest import make_settings

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "relay.md").write_text(EVIL_CARD)
    settings = make_settings(tmp_path / "evil-data")
    assert not run_ingest([docs], settings, embeddings).errors
    evil = Advisor(settings, embeddings)

    slack = start(use_advisor=evil)
    question = "Is there a program giving interpretability researchers access to model activations?"
    slack.event(mention(question, ts="1700001200.000100"))
    (reply,) = fake.wait_for_reply("C1", thread_ts="1700001200.000100")

    shown = text_of(reply["blocks"])
    assert "Relay &lt;!channel&gt; access" in shown and "&lt;!here&gt;" in shown
    assert "<https://example.org/relay?a=1&amp;b=2|" in shown
    traffic = fake.raw_traffic()
    for forbidden in FORBIDDEN:
        assert forbidden not in traffic


def test_twenty_questions_at_once_are_all_answered(start, fake, advisor):
    slack = start()
    roots = [f"1700002000.{i:06d}" for i in range(20)]

    def send(i: int) -> tuple[int, str, float]:
        return slack.event(mention(CYBER if i % 2 else "We need activations from a 70B model for "
                                   "interpretability, what can we use?", ts=roots[i], user=f"U{i:03d}"))

    with ThreadPoolExecutor(21) as pool:
        burst = [pool.submit(send, i) for i in range(20)]
        command = pool.submit(slack.send, command_body(CYBER, fake.response_url("busy")),
                              "application/x-www-form-urlencoded")
        sent = [f.result() for f in burst]
    assert all(status == 200 and took < 3 for status, _, took in sent)
    status, _, took = command.result()
    assert status == 200 and took < 3  # acknowledged while the advisor is busy

    for root in roots:
        (reply,) = fake.wait_for_reply("C1", thread_ts=root, timeout=60)
        assert buttons(reply["blocks"])
    fake.wait_for("response/busy", timeout=30)


def test_tokens_never_reach_the_log(start, fake, caplog):
    with caplog.at_level(logging.DEBUG):
        slack = start()
        slack.event(mention(CYBER, ts="1700003000.000100"))
        fake.wait_for_reply("C1", thread_ts="1700003000.000100")
    assert caplog.records  # debug logging was really on
    assert TOKEN not in caplog.text and SECRET not in caplog.text

