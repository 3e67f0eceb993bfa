"""Block Kit rendering and sanitising, on answers from the real advisor."""
from __future__ import annotations

import dataclasses

import pytest

from bot import messages
from bot.advisor import Question
from bot.transports import slack_render as render

CYBER = "Fable's cyber safeguards keep refusing our AI control experiments, is there a way around that?"


@pytest.fixture(scope="module")
def answer(advisor):
    return advisor.answer(Question(text=CYBER, platform="slack", user_id="U1"))


def all_text(blocks: list[dict]) -> list[str]:
    texts = [b["text"]["text"] for b in blocks if "text" in b]
    texts += [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    return texts


def test_question_text_reads_slack_markup_as_plain_words():
    slack = ("<@UBOT> is <https://ndif.us|NDIF> open to <@U123|ana> and <#C9|research>? "
             "<!here> <!subteam^S1|@evals> cc <!channel> &lt;3 &amp; more")
    assert render.question_text(slack, "UBOT") == (
        "is NDIF open to @ana and #research? @here @evals cc @channel <3 & more")


def test_escape_neutralises_mentions_and_markup():
    text = render.escape("<!channel> <!here> <!everyone> <!subteam^S1> <@U1> @here a&b x>y")
    assert "<" not in text and ">" not in text
    assert text.startswith("&lt;!channel&gt;") and "a&amp;b x&gt;y" in text
    assert "@here" not in text and "@\u200bhere" in text


@pytest.mark.parametrize("url, expected", [
    ("https://example.org/a?b=1&c=2", "<https://example.org/a?b=1&amp;c=2|T&amp;C>"),
    ("https://example.org/x|<!here>", "<https://example.org/x%7C%3C!here%3E|T&amp;C>"),
    ("javascript:alert(1)", "T&amp;C"),
    ("seed-post", "T&amp;C"),
])
def test_links_only_to_web_addresses_with_escaped_labels(url, expected):
    assert render.link(url, "T&C") == expected


def test_answer_blocks_show_text_sources_and_feedback(answer):
    blocks = render.answer_blocks(answer)
    texts = "\n".join(all_text(blocks))
    assert f"*{messages.ROUTES_HEADING}*" in texts
    assert f"*1. {render.escape(answer.routes[0].name)}*" in texts
    assert all(c.last_verified in texts for c in answer.citations)
    assert blocks[-1]["type"] == "actions"
    assert all(b["text"].get("verbatim") for b in blocks if b["type"] == "section")


def test_a_declined_question_has_no_sources_but_can_be_rated(advisor):
    declined = advisor.answer(Question(text="What is the best pizza in Naples?"))
    assert not declined.grounded
    blocks = render.answer_blocks(declined)
    assert not any(b["type"] == "divider" for b in blocks)
    assert {e["action_id"] for e in blocks[-1]["elements"]} == {render.HELPFUL, render.NOT_HELPFUL}


def test_huge_answers_respect_slack_limits_with_a_visible_trim(answer):
    huge = dataclasses.replace(answer, text="\n\n".join([answer.text] * 200),
                               citations=answer.citations * 60)
    blocks = render.answer_blocks(huge, share_key="k")
    assert len(blocks) <= render.MAX_BLOCKS
    assert all(len(t) <= render.SECTION_CHARS for t in all_text(blocks))
    assert any(messages.TRIMMED in t for t in all_text(blocks))
    assert blocks[-1]["type"] == "actions"  # the buttons survive trimming
    text = render.answer_text(huge)
    assert len(text) <= render.MESSAGE_CHARS and text.endswith(messages.TRIMMED)

    acknowledged = render.with_feedback_ack(blocks)
    assert len(acknowledged) <= render.MAX_BLOCKS
    assert all_text(render.with_feedback_ack(acknowledged)).count(messages.FEEDBACK_THANKS) == 1


def test_a_long_paragraph_is_split_not_lost(answer):
    words = [f"w{i}&x" for i in range(2000)]
    long = dataclasses.replace(answer, text=" ".join(words), routes=[], citations=[])
    sections = [b for b in render.answer_blocks(long) if b["type"] == "section"]
    assert len(sections) > 1
    assert all(len(b["text"]["text"]) <= render.SECTION_CHARS for b in sections)
    assert " ".join(b["text"]["text"] for b in sections).split() == [render.escape(w) for w in words]


def test_feedback_buttons_carry_the_cited_cards_within_slack_limits(answer):
    answer_id, cards = render.read_feedback_value(render.feedback_value(answer))
    assert answer_id == answer.id and cards[0] == answer.routes[0].card_id
    many = dataclasses.replace(answer, citations=[
        dataclasses.replace(answer.citations[0], card_id=f"card-{i:04d}") for i in range(500)])
    assert len(render.feedback_value(many)) <= render.BUTTON_VALUE_CHARS
