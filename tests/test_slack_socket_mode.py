"""Socket Mode: the real SocketModeHandler connects to a local websocket endpoint found
through apps.connections.open on the Web API stand-in, and answers over the Web API."""
from __future__ import annotations

import threading
from urllib.parse import parse_qsl

import pytest
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient

from bot import messages
from bot.advisor import Question
from bot.transports import slack_render as render
from bot.transports.slack import build_app
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.slack_events import command_body, mention
from tests.fakes.slack_socket import FakeSocketModeServer, command_envelope, events_envelope

pytestmark = pytest.mark.slow

CYBER = "Fable's cyber safeguards keep refusing our AI control experiments, is there a way around that?"


@pytest.fixture
def fake():
    api = FakeSlackAPI()
    yield api
    api.close()


@pytest.fixture
def connect(fake, kb_settings, advisor, tmp_path):
    """connect(envelopes) -> the fake socket server, with the app connected to it."""
    opened = []

    def _connect(envelopes):
        socket = FakeSocketModeServer(envelopes)
        fake.wss_url = socket.url
        settings = kb_settings.model_copy(update={"feedback_db": tmp_path / "fb.sqlite3"})
        app = build_app(advisor, settings, WebClient(token="xoxb-1-test", base_url=fake.url),
                        socket_mode=True)
        handler = SocketModeHandler(app, app_token="xapp-1-A1-test")
        opened.append((handler, socket))
        handler.connect()
        return socket

    yield _connect
    for handler, socket in opened:
        # close() waits out the SDK's 1-second queue polls; nothing needs to wait for that.
        threading.Thread(target=handler.close, daemon=True).start()
        socket.close()


def test_mention_over_socket_mode_is_acked_and_answered_in_thread(connect, fake, advisor):
    socket = connect([events_envelope("env-1", mention(CYBER, ts="1700005000.000100"))])
    (reply,) = fake.wait_for_reply("C1", thread_ts="1700005000.000100")
    assert socket.ack_for("env-1") == {"envelope_id": "env-1"}
    assert "apps.connections.open" in fake.methods()
    expected = advisor.answer(Question(text=CYBER, platform="slack", user_id="U1"))
    assert reply["text"] == render.answer_text(expected)


def test_slash_command_over_socket_mode_acks_with_the_placeholder(connect, fake, advisor):
    command = dict(parse_qsl(command_body(CYBER, fake.response_url("sm"))))
    socket = connect([command_envelope("env-2", command)])
    ack = socket.ack_for("env-2")
    assert ack["payload"] == {"text": messages.SLACK_WORKING, "response_type": "ephemeral"}
    (private,) = fake.wait_for("response/sm")
    assert private["replace_original"] is True and private["response_type"] == "ephemeral"
    assert render.SHARE in {e["action_id"] for e in private["blocks"][-1]["elements"]}
