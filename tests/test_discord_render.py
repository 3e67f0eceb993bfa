"""Rendering real answers for Discord: everything fits Discord's limits, and what had to be
cut is visibly marked. Pure functions: no server needed."""
from __future__ import annotations

import dataclasses

import pytest

from bot import messages
from bot.advisor import Question, Turn
from bot.transports import discord_render as render
from bot.transports.discord_history import pair_turns

CYBER = "Our cyber evals keep getting refused by the safeguards, is there a program for that?"


@pytest.fixture(scope="module")
def answer(advisor):
    return advisor.answer(Question(text=CYBER, platform="discord"))


def within_limits(pages) -> None:
    assert pages and all(1 <= len(p) <= render.EMBEDS_PER_MESSAGE for p in pages)
    for page in pages:
        assert sum(len(e) for e in page) <= render.EMBED_TOTAL
        for e in page:
            assert len(e.title or "") <= render.TITLE
            assert len(e.description or "") <= render.DESCRIPTION
            assert len(e.fields) <= render.FIELDS
            assert all(len(f.name) <= render.FIELD_NAME and len(f.value) <= render.FIELD_VALUE
                       for f in e.fields)


def test_a_normal_answer_is_one_embed_with_linked_dated_sources(answer):
    (page,) = render.answer_messages(answer)
    (embed,) = page
    assert render.plain(embed.description) == answer.text
    sources = "\n".join(f.value for f in embed.fields)
    for cite in answer.citations:
        assert f"[{cite.n}] " in sources and cite.last_verified in sources
        if cite.source.startswith("http"):
            assert f"]({cite.source})" in sources
    assert render.cards_from_embeds(page) == tuple(r.card_id for r in answer.routes)


def test_an_answer_many_times_too_long_is_split_then_trimmed_visibly(answer):
    huge = dataclasses.replace(
        answer, text="\n\n".join([answer.text] * 40),
        citations=[dataclasses.replace(c, n=i + 1) for i, c in enumerate(answer.citations * 30)])
    pages = render.answer_messages(huge, title="why " * 100)
    within_limits(pages)
    embeds = [e for p in pages for e in p]
    assert embeds[1].title == messages.DISCORD_CONTINUED
    assert any(e.description and e.description.endswith(render.TRIM_MARK) for e in embeds)
    assert embeds[0].title.endswith(render.TRIM_MARK)
    sources = "\n".join(f.value for e in embeds for f in e.fields)
    if len(huge.citations) > render.MAX_SOURCES:
        assert messages.DISCORD_MORE_SOURCES.format(
            count=len(huge.citations) - render.MAX_SOURCES) in sources
    assert render.cards_from_embeds(pages[-1]) == tuple(r.card_id for r in answer.routes)


def test_one_unbroken_line_longer_than_an_embed_is_still_split(answer):
    wall = dataclasses.replace(answer, text="x" * 9000)
    pages = render.answer_messages(wall)
    within_limits(pages)
    assert "".join(e.description or "" for p in pages for e in p).count("x") == 9000


def test_markdown_in_quotes_is_shown_as_written_but_lists_stay_lists():
    text = f"{messages.ROUTES_HEADING}\n1. A_B *program*\n- \"quote ~~x~~ > y\" [1]"
    shown = render.markdown(text)
    assert shown.splitlines()[0] == f"**{messages.ROUTES_HEADING}**"
    assert shown.splitlines()[1].startswith("1. ") and "\\*program\\*" in shown
    assert shown.splitlines()[2].startswith("- ")
    assert render.plain(shown) == text


@pytest.mark.parametrize("question, expected", [
    ("short question?", "short question?"),
    ("  spread\n over\tlines  ", "spread over lines"),
    ("", messages.DISCORD_THREAD_NAME),
])
def test_thread_names_are_one_line(question, expected):
    assert render.thread_name(question) == expected


def test_a_long_thread_name_is_cut_at_a_word():
    name = render.thread_name("word " * 60)
    assert len(name) <= render.THREAD_NAME and name.endswith("word…")


def test_plain_messages_fit_in_one_message():
    assert len(render.content("y" * 5000)) == render.CONTENT
    assert render.content("y" * 5000).endswith(render.TRIM_MARK)


def test_the_conversation_pairs_each_question_with_the_answer_that_followed():
    items = [(False, "first?"), (True, "answer one"), (False, "second?"), (False, "second, better?"),
             (True, "answer two"), (True, "a continuation page"), (False, "pending?")]
    assert pair_turns(items) == (Turn("first?", "answer one"),
                                 Turn("second, better?", "answer two"))
