"""`/reingest` on the unmodified discord.py bot against the local fake Discord: maintainers
re-ingest a knowledge copy into a real Chroma, the summary fills their private response,
and the notify channel gets the change notice; anyone else is told they may not."""
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot import messages, store
from bot.advisor import Advisor
from bot.transports import discord_render as render
from tests.conftest import edit_card
from tests.fakes.discord_server import ALICE, OTHER_CHANNEL_ID, FakeDiscord, slash_reingest, user
from tests.test_discord_bot import _point_discord_at, assert_no_pings, online

pytestmark = pytest.mark.slow


@pytest_asyncio.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    server = await FakeDiscord().start()
    _point_discord_at(monkeypatch, server)
    yield server
    await server.stop()


@pytest.fixture
def admin_settings(small_kb, tmp_path):
    return small_kb.model_copy(update={
        "admin_user_ids": f"discord:{ALICE['id']},slack:{user(1)['id']}",
        "notify_discord_channel": OTHER_CHANNEL_ID, "feedback_db": tmp_path / "feedback.sqlite3"})


def live_version(settings, embeddings) -> int:
    collection = store.existing_collection(store.open_client(settings), settings, embeddings)
    return store.index_info(collection).version


async def test_an_admin_reingests_and_the_channel_hears_what_changed(fake, admin_settings, embeddings):
    ndif = admin_settings.knowledge_path / "programs/ndif.md"
    edit_card(ndif, status="winding-down", last_verified="2026-12-01")
    before = live_version(admin_settings, embeddings)
    advisor = Advisor(admin_settings, embeddings)

    async with online(advisor, admin_settings):
        asked = await fake.inject("INTERACTION_CREATE", slash_reingest())
        (deferred,) = await fake.wait_for_call("POST", f"/{asked['token']}/callback")
        (filled,) = await fake.wait_for_call("PATCH", f"/{asked['token']}/messages/@original",
                                             timeout=60)
        (notice,) = await fake.wait_for_call("POST", f"/channels/{OTHER_CHANNEL_ID}/messages")

    assert deferred[2]["type"] == 5 and deferred[2]["data"]["flags"] & 64  # private
    summary = filled[2]["content"]
    assert render.plain_content(messages.REINGEST_DONE.format(
        added=0, updated=1, removed=0, unchanged=2)) in summary
    assert render.plain_content(messages.REINGEST_LIVE.format(version=before + 1)) in summary
    change = ("• NDIF and NNsight (remote internals access to large open models) (ndif): "
              "status open → winding-down; last verified 2026-10-31 → 2026-12-01")
    assert change in summary
    assert notice[2]["content"] == render.plain_content(f"{messages.CHANGES_HEADING}\n{change}")
    assert_no_pings(fake)
    assert advisor.refresh(force=True) and advisor.snapshot.cards["ndif"].status == "winding-down"


async def test_someone_else_is_told_they_may_not(fake, admin_settings, embeddings):
    edit_card(admin_settings.knowledge_path / "programs/ndif.md", status="closed")
    before = live_version(admin_settings, embeddings)
    async with online(Advisor(admin_settings, embeddings), admin_settings):
        asked = await fake.inject("INTERACTION_CREATE", slash_reingest(author=user(1)))
        (refused,) = await fake.wait_for_call("POST", f"/{asked['token']}/callback")

    assert refused[2]["type"] == 4 and refused[2]["data"]["flags"] & 64
    assert refused[2]["data"]["content"] == render.plain_content(messages.REINGEST_NOT_ADMIN)
    assert fake.posts_to(OTHER_CHANNEL_ID) == []
    assert live_version(admin_settings, embeddings) == before


async def test_cli_ingest_notice_reaches_the_discord_channel(fake, admin_settings, monkeypatch):
    import asyncio

    from bot.transports.discord_notify import notify_from_cli

    monkeypatch.setenv("DISCORD_TOKEN", "cli-token")
    notice = "What changed: @everyone the CVP is now closed"
    assert await asyncio.to_thread(notify_from_cli, admin_settings, notice)
    (posted,) = fake.posts_to(OTHER_CHANNEL_ID)
    assert posted["content"] == notice and posted["allowed_mentions"] == {"parse": []}
    monkeypatch.delenv("DISCORD_TOKEN")
    assert not await asyncio.to_thread(notify_from_cli, admin_settings, notice)  # no token: off
