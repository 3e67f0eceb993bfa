"""`/accessbot reingest` through the real bolt app over signed HTTP: maintainers re-ingest
a knowledge copy into a real Chroma, get the summary privately, and the notify channel
gets the change notice; anyone else is told they may not."""
from __future__ import annotations

import json
from typing import Any

import pytest
from slack_sdk import WebClient

from bot import messages, store
from bot.advisor import Advisor
from bot.transports import slack_render as render
from bot.transports.slack import build_app
from ingest.lock import ingest_lock
from tests.conftest import edit_card
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.slack_events import SECRET, EventsEndpoint, command_body

pytestmark = pytest.mark.slow

TOKEN = "xoxb-1234-5678-admintokenvalue"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def fake():
    api = FakeSlackAPI()
    yield api
    api.close()


@pytest.fixture
def slack(fake, small_kb, embeddings, tmp_path):
    """The app over the small knowledge copy; UADMIN is a maintainer, CNEWS gets notices."""
    settings = small_kb.model_copy(update={
        "admin_user_ids": "slack:UADMIN,discord:UADMIN", "notify_slack_channel": "CNEWS",
        "feedback_db": tmp_path / "feedback.sqlite3"})
    advisor = Advisor(settings, embeddings)
    endpoint = EventsEndpoint(build_app(advisor, settings, WebClient(token=TOKEN, base_url=fake.url),
                                        SECRET))
    endpoint.advisor = advisor
    yield endpoint
    endpoint.close()


def live_version(settings, embeddings) -> int:
    collection = store.existing_collection(store.open_client(settings), settings, embeddings)
    return store.index_info(collection).version


def reingest(slack: EventsEndpoint, fake: FakeSlackAPI, user: str, name: str) -> dict[str, Any]:
    status, body, took = slack.send(command_body("reingest", fake.response_url(name), user=user), FORM)
    assert status == 200 and took < 3
    return json.loads(body)


def test_an_admin_reingests_and_the_channel_hears_what_changed(slack, fake, small_kb, embeddings):
    edit_card(small_kb.knowledge_path / "programs/anthropic-cvp.md", status="closed")
    before = live_version(small_kb, embeddings)

    ack = reingest(slack, fake, "UADMIN", "ri")
    (reply,) = fake.wait_for("response/ri", timeout=60)
    (notice,) = fake.wait_for("chat.postMessage")

    assert ack == {"text": messages.REINGEST_STARTED, "response_type": "ephemeral"}
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is True
    summary = reply["text"]
    assert messages.REINGEST_DONE.format(added=0, updated=1, removed=0, unchanged=2) in summary
    assert messages.REINGEST_LIVE.format(version=before + 1) in summary
    cvp = "• Anthropic Cyber Verification Program (CVP) (anthropic-cvp): status open → closed"
    assert cvp in summary
    assert notice["channel"] == "CNEWS"
    assert notice["text"].splitlines() == [messages.CHANGES_HEADING, cvp]
    assert slack.advisor.refresh(force=True)  # the running advisor picks the version up
    assert slack.advisor.snapshot.cards["anthropic-cvp"].status == "closed"


def test_someone_else_is_told_they_may_not(slack, fake, small_kb, embeddings):
    edit_card(small_kb.knowledge_path / "programs/anthropic-cvp.md", status="closed")
    before = live_version(small_kb, embeddings)
    ack = reingest(slack, fake, "U1", "nope")
    assert ack["text"] == render.escape(messages.REINGEST_NOT_ADMIN)
    assert ack["response_type"] == "ephemeral"
    assert "response/nope" not in fake.methods() and "chat.postMessage" not in fake.methods()
    assert live_version(small_kb, embeddings) == before


def test_a_reingest_while_another_runs_says_so(slack, fake, small_kb):
    with ingest_lock(small_kb, store.open_client(small_kb)):
        reingest(slack, fake, "UADMIN", "busy")
        (reply,) = fake.wait_for("response/busy", timeout=30)
    assert reply["text"] == render.escape(messages.REINGEST_BUSY)
    assert "chat.postMessage" not in fake.methods()


def test_a_reingest_that_changes_nothing_posts_no_notice(slack, fake):
    reingest(slack, fake, "UADMIN", "same")
    (reply,) = fake.wait_for("response/same", timeout=60)
    assert messages.REINGEST_DONE.format(added=0, updated=0, removed=0, unchanged=3) in reply["text"]
    assert "chat.postMessage" not in fake.methods()
