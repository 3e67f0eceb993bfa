"""`accessbot discord` as an operator runs it: a missing or rejected token is one line that
names DISCORD_TOKEN, exit code 2, no traceback; commands can be registered and it exits."""
from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests.fakes.discord_server import GUILD_ID, TOKEN, FakeDiscord

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).with_name("accessbot")
# The real CLI, with discord.py's REST base pointed at the fake (argv[1]) first.
VIA_FAKE = ("import sys, discord.http; discord.http.Route.BASE = sys.argv[1]; "
            "from bot.cli import main; sys.exit(main(sys.argv[2:]))")


def command(*args: str) -> list[str]:
    if SCRIPT.exists():
        return [str(SCRIPT), *args]
    return [sys.executable, "-m", "bot.cli", *args]


async def run(argv: list[str], **env: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=ROOT, env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode, out.decode(), err.decode()


def assert_one_line_error(code: int, out: str, err: str, *words: str) -> None:
    assert code == 2, err
    assert out == "" and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    for word in words:
        assert word in err


async def test_no_token_is_one_line_naming_the_variable(tmp_path):
    code, out, err = await run(command("discord"), ACCESSBOT_DATA_DIR=str(tmp_path))
    assert_one_line_error(code, out, err, "DISCORD_TOKEN")


async def test_a_bad_sync_scope_is_one_line(tmp_path):
    code, out, err = await run(command("discord", "--sync-commands", "my-server"),
                               DISCORD_TOKEN="x", ACCESSBOT_DATA_DIR=str(tmp_path))
    assert_one_line_error(code, out, err, "--sync-commands", "my-server")


async def test_a_rejected_token_is_one_line_naming_the_variable(kb_settings):
    fake = await FakeDiscord(reject_token=True).start()
    try:
        code, out, err = await run([sys.executable, "-c", VIA_FAKE, fake.api_base, "discord"],
                                   DISCORD_TOKEN="not-a-real-token",
                                   ACCESSBOT_DATA_DIR=str(kb_settings.data_dir))
    finally:
        await fake.stop()
    assert_one_line_error(code, out, err, "DISCORD_TOKEN")
    assert "not-a-real-token" not in out + err
    assert ("GET", "/users/@me", None) in fake.calls


async def test_an_admin_can_register_the_commands_for_one_server(tmp_path):
    fake = await FakeDiscord().start()
    try:
        code, out, err = await run(
            [sys.executable, "-c", VIA_FAKE, fake.api_base, "discord", "--sync-commands", GUILD_ID],
            DISCORD_TOKEN=TOKEN, ACCESSBOT_DATA_DIR=str(tmp_path))
    finally:
        await fake.stop()
    assert code == 0, err
    assert "/ask" in out and GUILD_ID in out
    assert [c["name"] for c in fake.commands[GUILD_ID]] == ["ask", "reingest"]
