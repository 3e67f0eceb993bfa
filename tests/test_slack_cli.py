"""`accessbot slack` as an operator runs it: real subprocesses, a real ingested index, and
the local Web API stand-in behind SLACK_API_URL."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.transports.slack_credentials import CredentialError, credentials, verify_token
from tests.conftest import ROOT
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.slack_events import SECRET, event_body, mention, post_signed

ACCESSBOT = [sys.executable, "-m", "bot.cli"]
TOKEN = "xoxb-2024-5555-e2etokenvalue"
CYBER = "Fable's cyber safeguards keep refusing our AI control experiments, is there a way around that?"


def environment(data_dir: Path, **slack: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACCESSBOT_", "SLACK_"))}
    return {**env, "ACCESSBOT_DATA_DIR": str(data_dir), **slack}


@pytest.mark.slow
@pytest.mark.parametrize("slack_env, named", [
    ({}, "SLACK_BOT_TOKEN is not set"),
    ({"SLACK_BOT_TOKEN": "my token", "SLACK_SIGNING_SECRET": SECRET}, "SLACK_BOT_TOKEN is malformed"),
])
def test_a_missing_or_malformed_token_is_one_line_and_exit_2(tmp_path, slack_env, named):
    done = subprocess.run([*ACCESSBOT, "slack", "--port", "0"], capture_output=True, text=True,
                          cwd=ROOT, env=environment(tmp_path / "data", **slack_env), timeout=120)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and named in done.stderr
    assert "Traceback" not in done.stderr and "my token" not in done.stderr


@pytest.mark.parametrize("slack_env, named", [
    ({"SLACK_BOT_TOKEN": TOKEN}, "SLACK_SIGNING_SECRET is not set"),
    ({"SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": "xoxb-not-an-app-token"}, "SLACK_APP_TOKEN is malformed"),
    ({"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": "slack.local"},
     "SLACK_API_URL is malformed"),
])
def test_each_bad_variable_is_named(monkeypatch, slack_env, named):
    for name, value in slack_env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(CredentialError, match=named):
        credentials()


def test_socket_mode_needs_no_signing_secret(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-A1-123")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9")
    creds = credentials()
    assert creds.app_token and creds.api_url == "http://127.0.0.1:9/"
    assert TOKEN not in repr(creds)


@pytest.mark.slow
def test_a_token_slack_rejects_is_named_without_showing_it():
    fake = FakeSlackAPI()
    fake.failures["auth.test"] = "invalid_auth"
    try:
        with pytest.raises(CredentialError) as caught:
            verify_token(TOKEN, fake.url)
    finally:
        fake.close()
    assert "SLACK_BOT_TOKEN" in str(caught.value) and "invalid_auth" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_an_unreachable_slack_is_named():
    with pytest.raises(CredentialError, match="cannot reach Slack's Web API at http://127.0.0.1:9/"):
        verify_token(TOKEN, "http://127.0.0.1:9/")


@pytest.fixture(scope="module")
def ingested(kb_settings, tmp_path_factory) -> Path:
    """A private copy of the session's index (knowledge/ ingested by the real pipeline), so
    the subprocess never shares files with this process's open Chroma client."""
    data_dir = tmp_path_factory.mktemp("slack-e2e") / "data"
    shutil.copytree(kb_settings.data_dir, data_dir)
    return data_dir


class Running:
    """`accessbot slack --port 0` in a subprocess; knows the port it reports."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen([*ACCESSBOT, "slack", "--host", "127.0.0.1", "--port", "0"],
                                        cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.port = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line)
            found = re.search(r"http://127\.0\.0\.1:(\d+)/slack/events", line)
            if found:
                self.url = found.group(0)
                self.port.set()

    def wait_ready(self, timeout: float = 60) -> str:
        assert self.port.wait(timeout), "".join(self.lines)
        return self.url

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@pytest.mark.slow
def test_a_signed_mention_gets_a_threaded_answer_and_a_forged_one_401(ingested, tmp_path):
    fake = FakeSlackAPI()
    bot = Running(environment(ingested, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET,
                              SLACK_API_URL=fake.url,
                              ACCESSBOT_FEEDBACK_DB=str(tmp_path / "feedback.sqlite3")))
    try:
        url = bot.wait_ready()
        body = event_body(mention(CYBER, ts="1700009000.000100"))
        sent = time.monotonic()
        status, _, took = post_signed(url, body, "application/json")
        assert status == 200 and took < 3
        (reply,) = fake.wait_for_reply("C1", thread_ts="1700009000.000100", timeout=15)
        assert time.monotonic() - sent < 15

        sections = "\n".join(b["text"]["text"] for b in reply["blocks"] if b["type"] == "section")
        assert "Sources:" in sections and "last verified" in sections
        actions = [e["action_id"] for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"]]
        assert actions == ["feedback_helpful", "feedback_not_helpful"]

        assert post_signed(url, body, "application/json", secret="forged-secret")[0] == 401
        assert len(fake.bodies("chat.postMessage")) == 1
    finally:
        bot.stop()
        fake.close()
    assert "Traceback" not in "".join(bot.lines) and TOKEN not in "".join(bot.lines)


def test_the_manifest_asks_for_what_the_app_uses():
    import yaml

    manifest = yaml.safe_load((ROOT / "config" / "slack-manifest.yaml").read_text())
    settings = manifest["settings"]
    assert {"app_mention", "message.im", "message.channels"} <= set(
        settings["event_subscriptions"]["bot_events"])
    assert {"app_mentions:read", "chat:write", "commands", "im:history", "channels:history"} <= set(
        manifest["oauth_config"]["scopes"]["bot"])
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/accessbot"]
    assert settings["interactivity"]["is_enabled"] and settings["socket_mode_enabled"]
