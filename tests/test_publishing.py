"""Atomic publishing: readers never see an unpublished or half-written version."""
from __future__ import annotations

import fcntl
import subprocess
import sys
import textwrap

import pytest

from bot import store
from bot.advisor import Advisor, Question
from ingest.lock import IngestBusy
from ingest.pipeline import run_ingest
from tests.conftest import ROOT
from tests.test_ingest import write_card

QUESTION = Question("Is there a quantum annealing access scheme for interpretability research?")


def quantum(folder):
    write_card(folder, "quantum-scheme", title="Quantum Annealer Interpretability Access Scheme",
               what="A quantum annealing access scheme giving interpretability researchers "
                    "hosted activations.")


def cites_quantum(advisor: Advisor) -> bool:
    return any("Quantum" in c.title for c in advisor.answer(QUESTION).citations)


def test_a_version_the_gate_refuses_is_never_served(settings, embeddings, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    write_card(docs, "alpha")
    run_ingest([docs], settings, embeddings)
    advisor = Advisor(settings, embeddings, refresh_seconds=0)
    quantum(docs)
    refused = run_ingest([docs], settings, embeddings, gate=lambda c, v: ["recall_at_5 0.1 < 0.9"])
    assert not refused.published and refused.gate_failures == ["recall_at_5 0.1 < 0.9"]
    assert not cites_quantum(advisor)
    assert store.index_info(advisor.snapshot.collection).version == 1
    accepted = run_ingest([docs], settings, embeddings, gate=lambda c, v: [])
    assert accepted.published and accepted.added == 1
    assert cites_quantum(advisor)


def test_the_gate_sees_the_candidate_version(settings, embeddings, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    write_card(docs, "alpha")
    run_ingest([docs], settings, embeddings)
    quantum(docs)
    seen = {}

    def gate(collection, version):
        seen["cites"] = cites_quantum(Advisor.pinned(settings, embeddings, collection, version))
        return []

    run_ingest([docs], settings, embeddings, gate=gate)
    assert seen["cites"] is True


KILLER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from bot.embeddings import AccessBotEmbeddings
    from bot.settings import load_settings
    from ingest.pipeline import run_ingest
    settings = load_settings(data_dir=Path({data!r}))
    def die(done, total):
        print("wrote", done, "of", total, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    run_ingest([Path({docs!r})], settings, AccessBotEmbeddings(), progress=die)
""")


@pytest.mark.slow
def test_kill_9_mid_ingest_leaves_the_old_version_serving(settings, embeddings, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    write_card(docs, "alpha")
    run_ingest([docs], settings, embeddings)
    advisor = Advisor(settings, embeddings, refresh_seconds=0)
    quantum(docs)
    for i in range(60):  # enough chunks for more than one write batch
        write_card(docs, f"filler-{i}", what=f"Filler program number {i} for volume.")
    script = KILLER.format(root=str(ROOT), data=str(settings.data_dir), docs=str(docs))
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert killed.returncode == -9 and "wrote 64 of" in killed.stdout
    assert not cites_quantum(advisor)
    assert len(advisor.snapshot.cards) == 1
    collection = advisor.snapshot.collection
    assert collection.count() > 2  # the dead ingest did write chunks; nobody sees them
    recovered = run_ingest([docs], settings, embeddings)
    assert recovered.published and recovered.added == 61
    assert cites_quantum(advisor)
    live = collection.get(where=store.in_version(recovered.version))["ids"]
    assert len(live) == collection.count() == len(set(live))


def test_a_second_ingest_refuses_while_one_runs(settings, embeddings, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    write_card(docs, "alpha")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    lock = settings.data_dir / f"{settings.collection}.ingest.lock"
    with lock.open("a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(IngestBusy, match="another ingest is running"):
            run_ingest([docs], settings, embeddings, wait=False)
    assert run_ingest([docs], settings, embeddings, wait=False).added == 1


@pytest.mark.slow
def test_a_running_chat_answers_from_a_document_added_after_it_started(settings, embeddings, tmp_path):
    import os
    import threading
    import time

    docs = tmp_path / "docs"
    docs.mkdir()
    write_card(docs, "alpha")
    run_ingest([docs], settings, embeddings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCESSBOT_")}
    env["ACCESSBOT_DATA_DIR"] = str(settings.data_dir)
    chat = subprocess.Popen([sys.executable, "-m", "bot.cli", "chat"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, env=env)
    output: list[str] = []

    def read() -> None:
        for line in chat.stdout:
            output.append(line)

    threading.Thread(target=read, daemon=True).start()

    def turn(n: int) -> str:
        """The text of answer n, once answer n+1 has begun or the chat has ended."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            answers = "".join(output).split("accessbot> ")[1:]
            if len(answers) > n or (len(answers) == n + 1 and "Bye." in answers[n]):
                return answers[n]
            time.sleep(0.1)
        raise AssertionError(f"no answer {n}: {''.join(output)[-500:]}")

    try:
        chat.stdin.write(QUESTION.text + "\n")
        chat.stdin.flush()
        deadline = time.monotonic() + 60
        while "accessbot> " not in "".join(output) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        assert "Quantum" not in "".join(output)
        quantum(docs)
        assert run_ingest([docs], settings, embeddings).published
        time.sleep(2.5)  # the chat looks for a new index version at most every 2 s
        chat.stdin.write(QUESTION.text + "\n")
        chat.stdin.close()
        assert "Quantum Annealer Interpretability Access Scheme" in turn(1)
    finally:
        chat.wait(timeout=30)
