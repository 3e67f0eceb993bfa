"""One Chroma server shared by several AccessBot processes: a real `chroma run` on loopback."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.advisor import Advisor, Question
from ingest.pipeline import run_ingest
from tests.conftest import ROOT, make_settings
from tests.test_ingest import write_card

pytestmark = pytest.mark.slow
CHROMA = Path(sys.executable).parent / "chroma"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    if not CHROMA.exists():
        pytest.skip("the chroma command is not installed in this environment")
    port = free_port()
    proc = subprocess.Popen([str(CHROMA), "run", "--path", str(tmp_path / "server"),
                             "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma run did not answer its heartbeat within 30 s")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_ingest_into_a_server_and_answer_from_two_processes(chroma_server, embeddings, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    write_card(docs, "nebula-access", title="Nebula Interpretability Access Scheme",
               what="Nebula gives interpretability researchers hosted activations and gradients.")
    settings = make_settings(tmp_path / "data", chroma_url=chroma_server)
    report = run_ingest([docs], settings, embeddings)
    assert report.published and report.added == 1
    assert not settings.chroma_path.exists()  # nothing went to the embedded store

    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCESSBOT_")}
    env.update(ACCESSBOT_CHROMA_URL=chroma_server, ACCESSBOT_DATA_DIR=str(tmp_path / "data"))
    question = "Is there a Nebula scheme that gives interpretability researchers activations?"
    procs = [subprocess.Popen([sys.executable, "-m", "bot.cli", "ask", "--json", question],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              cwd=ROOT, env=env) for _ in range(2)]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        answer = json.loads(out)
        assert answer["grounded"] and any("Nebula" in c["title"] for c in answer["citations"])

    # A running advisor on the server sees a re-ingest without restarting.
    advisor = Advisor(settings, embeddings, refresh_seconds=0)
    follow = Question("Is there an Orion scheme for interpretability researchers?")
    assert not any("Orion" in c.title for c in advisor.answer(follow).citations)
    write_card(docs, "orion-access", title="Orion Interpretability Access Scheme",
               what="Orion gives interpretability researchers remote model internals.")
    assert run_ingest([docs], settings, embeddings).added == 1
    assert any("Orion" in c.title for c in advisor.answer(follow).citations)
