"""The maintainer operations behind `accessbot ingest`, `/accessbot reingest` and
`/reingest`: the change summary as a pure function, and the re-ingest over a real Chroma
with the eval gate, the lock and the optional Slack notice from the CLI."""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import pytest

from bot import messages, operations, store
from bot.cards import Card
from bot.settings import id_set
from ingest.lock import IngestBusy, ingest_lock
from ingest.pipeline import IngestReport
from tests.conftest import ROOT, edit_card, make_settings
from tests.fakes.slack_api import FakeSlackAPI

CVP = Card(id="anthropic-cvp", kind="program", title="Cyber Verification Program",
           source_url="https://example.org/cvp", last_verified="2026-10-31", confidence="high",
           status="open", apply="Free application form.", eligibility="Security orgs.")
NDIF = Card(id="ndif", kind="program", title="NDIF", source_url="https://ndif.us",
            last_verified="2026-10-31", confidence="high", status="open")
AISI = Card(id="uk-aisi", kind="policy", title="UK AISI", source_url="https://aisi.gov.uk",
            last_verified="2026-09-01", confidence="medium")
SAFEGUARDS = Card(id="safeguards", kind="bottleneck", title="Safeguards",
                  source_url="https://example.org/s", last_verified="2026-10-31", confidence="high")


def test_status_dates_and_terms_of_programs_are_what_counts_as_a_change():
    before = {c.id: c for c in (CVP, NDIF, AISI, SAFEGUARDS)}
    after = {
        "anthropic-cvp": dataclasses.replace(CVP, status="closed", last_verified="2026-12-01",
                                             apply="Applications are paused. " + "x " * 200),
        "ndif": dataclasses.replace(NDIF, summary="reworded", aliases=("NNsight",)),  # not news
        "safeguards": dataclasses.replace(SAFEGUARDS, last_verified="2026-12-01"),  # not a route
        "openai-cyber": dataclasses.replace(NDIF, id="openai-cyber", title="Trusted Access"),
    }
    changes = operations.card_changes(before, after)

    assert [(c.card_id, c.kind) for c in changes] == [
        ("anthropic-cvp", "updated"), ("openai-cyber", "added"), ("uk-aisi", "removed")]
    assert [f[0] for f in changes[0].fields] == ["status", "apply", "last_verified"]
    notice = operations.changes_notice(changes)
    lines = notice.splitlines()
    assert lines[0] == messages.CHANGES_HEADING
    assert lines[1].startswith("• Cyber Verification Program (anthropic-cvp): status open → closed;")
    assert "how to apply now: Applications are paused." in lines[1] and len(lines[1]) < 400
    assert "last verified 2026-10-31 → 2026-12-01" in lines[1]
    assert lines[2:] == ["• New: Trusted Access (openai-cyber)", "• Removed: UK AISI (uk-aisi)"]
    assert operations.card_changes(before, before) == [] and operations.changes_notice([]) == ""


def test_admins_are_listed_per_platform():
    settings = type("S", (), {"admin_user_ids": " slack:U123, discord:456 ,"})()
    assert id_set(settings.admin_user_ids) == {"slack:U123", "discord:456"}
    assert operations.is_admin(settings, "slack", "U123")
    assert operations.is_admin(settings, "discord", "456")
    assert not operations.is_admin(settings, "discord", "U123")
    assert not operations.is_admin(settings, "slack", "")


def test_the_summary_says_whether_the_gate_refused_and_which_files_failed():
    report = IngestReport(updated=1, unchanged=2, version=3, published=False,
                          gate_failures=["route_recall 0.000 < 0.500"],
                          errors=[{"path": "knowledge/x.md", "error": "missing required field 'id'"}])
    text = operations.ingest_summary(operations.Reingest(report, []))
    assert text.splitlines()[:3] == [
        messages.REINGEST_DONE.format(added=0, updated=1, removed=0, unchanged=2),
        messages.REINGEST_REFUSED, "• route_recall 0.000 < 0.500"]
    assert "• knowledge/x.md: missing required field 'id'" in text


def test_a_reingest_reports_what_changed_and_the_advisor_sees_it(small_kb, embeddings):
    from bot.advisor import Advisor

    advisor = Advisor(small_kb, embeddings)
    assert advisor.snapshot.cards["anthropic-cvp"].status == "open"
    edit_card(small_kb.knowledge_path / "programs/anthropic-cvp.md", status="closed",
              last_verified="2026-12-01")

    result = operations.reingest(small_kb, embeddings)

    assert result.report.published and (result.report.updated, result.report.unchanged) == (1, 2)
    (change,) = result.changes
    assert change.card_id == "anthropic-cvp" and dict((f, (a, b)) for f, a, b in change.fields) == {
        "status": ("open", "closed"), "last_verified": ("2026-10-31", "2026-12-01")}
    assert advisor.refresh(force=True) and advisor.snapshot.cards["anthropic-cvp"].status == "closed"
    again = operations.reingest(small_kb, embeddings)
    assert not again.report.changed and again.changes == []
    assert messages.REINGEST_NOTHING.format(version=again.report.version) in \
        operations.ingest_summary(again)


def test_a_version_the_gate_refuses_is_not_published_nor_announced(small_kb, embeddings, tmp_path):
    (tmp_path / "questions.yaml").write_text(
        "- id: t9\n  question: How do I get a research grant for compute?\n"
        "  routes: [openai-researcher-access]\n")  # a route this knowledge copy lacks
    edit_card(small_kb.knowledge_path / "programs/ndif.md", status="closed")
    live = store.index_info(store.existing_collection(
        store.open_client(small_kb), small_kb, embeddings)).version

    result = operations.reingest(small_kb, embeddings)

    assert not result.report.published and result.report.gate_failures and result.changes == []
    assert operations.live_cards(small_kb, embeddings)["ndif"].status == "open"
    assert result.report.version == live
    assert messages.REINGEST_REFUSED in operations.ingest_summary(result)


def test_a_concurrent_ingest_is_refused_at_once_from_chat(small_kb, embeddings):
    client = store.open_client(small_kb)
    with ingest_lock(small_kb, client):
        with pytest.raises(IngestBusy):
            operations.reingest(small_kb, embeddings, wait=False)
        assert operations.reingest_from_chat(small_kb, embeddings) == (messages.REINGEST_BUSY, "")


def test_the_first_ingest_announces_nothing(embeddings, small_kb, tmp_path):
    fresh = make_settings(tmp_path / "fresh", knowledge_path=small_kb.knowledge_path)
    result = operations.reingest(fresh, embeddings, force=True)
    assert result.report.added == 3 and result.changes == []


def test_cli_notice_without_a_reachable_slack_is_logged_not_raised(small_kb, monkeypatch, caplog):
    from bot.transports.slack_admin import notify_from_cli

    settings = small_kb.model_copy(update={"notify_slack_channel": "CNEWS"})
    assert not notify_from_cli(settings, "notice")  # no SLACK_BOT_TOKEN: nothing to do
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-2-notifytoken")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api/")  # nothing listens there
    assert not notify_from_cli(settings, "notice")
    assert "could not post the change notice to Slack channel CNEWS" in caplog.text
    assert "notifytoken" not in caplog.text
    monkeypatch.setenv("SLACK_BOT_TOKEN", "not a token")
    assert not notify_from_cli(settings, "notice")
    assert "SLACK_BOT_TOKEN is malformed" in caplog.text and "not a token" not in caplog.text


@pytest.mark.slow
def test_cli_ingest_prints_the_changes_and_posts_them_to_slack(small_kb):
    edit_card(small_kb.knowledge_path / "programs/ndif.md", status="winding-down")
    fake = FakeSlackAPI()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACCESSBOT_", "SLACK_"))}
    env.update(ACCESSBOT_DATA_DIR=str(small_kb.data_dir),
               ACCESSBOT_KNOWLEDGE_PATH=str(small_kb.knowledge_path),
               ACCESSBOT_NOTIFY_SLACK_CHANNEL="CNEWS", SLACK_BOT_TOKEN="xoxb-9-9-clitoken",
               SLACK_API_URL=fake.url)
    try:  # --force: the real eval set needs the whole knowledge base, not this copy
        done = subprocess.run([sys.executable, "-m", "bot.cli", "ingest", "--force"], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=120)
        posted = fake.bodies("chat.postMessage")
    finally:
        fake.close()
    assert done.returncode == 0, done.stderr
    assert "• NDIF and NNsight" in done.stdout and "status open → winding-down" in done.stdout
    (notice,) = posted
    assert notice["channel"] == "CNEWS" and "status open → winding-down" in notice["text"]
    assert "clitoken" not in done.stdout + done.stderr


def test_chat_reingest_never_raises(small_kb, embeddings, monkeypatch, caplog):
    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire at /srv/secret")

    monkeypatch.setattr(operations, "run_ingest", explode)
    reply, notice = operations.reingest_from_chat(small_kb, embeddings)
    assert (reply, notice) == (messages.APOLOGY, "")
    assert "disk on fire" in caplog.text
