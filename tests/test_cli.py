"""The `accessbot` command as a user runs it: real subprocesses, real index on disk."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import KNOWLEDGE, ROOT

ACCESSBOT = [sys.executable, "-m", "bot.cli"]
CYBER_QUESTION = ("Fable's cyber safeguards keep refusing our AI control experiments, "
                  "is there a way around that?")
CYBER_ROUTES = {"anthropic-cvp", "openai-trusted-access-cyber"}

pytestmark = pytest.mark.slow


def run(*args: str, data_dir: Path, stdin: str | None = None, env: dict | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ACCESSBOT_")}
    full_env.update({"ACCESSBOT_DATA_DIR": str(data_dir), **(env or {})})
    return subprocess.run([*ACCESSBOT, *args], input=stdin, capture_output=True, text=True,
                          cwd=ROOT, env=full_env, timeout=timeout)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """One index built by the real CLI, and the proof that a second ingest writes nothing."""
    path = tmp_path_factory.mktemp("cli") / "data"
    first = run("ingest", "--json", data_dir=path)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["added"] == len([p for p in KNOWLEDGE.rglob("*.md") if p.name != "README.md"])
    second = json.loads(run("ingest", "--json", data_dir=path).stdout)
    assert (second["added"], second["updated"], second["removed"]) == (0, 0, 0)
    assert second["unchanged"] == summary["added"]
    return path


def test_cyber_refusals_get_a_cyber_verification_route_with_citations(data_dir):
    result = run("ask", "--json", CYBER_QUESTION, data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["grounded"] is True
    route_ids = {r["id"] for r in answer["routes"]}
    assert route_ids & CYBER_ROUTES, answer["routes"]
    assert all(r["why"] and r["apply"] for r in answer["routes"])
    assert "safeguards" in answer["bottlenecks"]
    assert answer["citations"] and all(c["source"] and c["last_verified"] for c in answer["citations"])
    cited = {f"[{c['n']}]" for c in answer["citations"]}
    assert all(marker in answer["answer"] for marker in cited)


def test_off_topic_question_is_declined(data_dir):
    result = run("ask", "--json", "What's a good recipe for banana bread?", data_dir=data_dir)
    answer = json.loads(result.stdout)
    assert answer["grounded"] is False and answer["routes"] == [] and answer["citations"] == []
    assert "don't know" in answer["answer"]


@pytest.mark.parametrize("question, fragment", [
    ("   ", "empty"),
    ("x" * 100_000, "100,000 characters"),
])
def test_unusable_questions_get_a_message_and_exit_2(data_dir, question, fragment):
    result = run("ask", question, data_dir=data_dir)
    assert result.returncode == 2
    assert fragment in result.stderr and "Traceback" not in result.stderr


def test_batch_answers_one_json_object_per_line(data_dir, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text(f"{CYBER_QUESTION}\n\nHow do I bake bread?\n{'y' * 5000}\n")
    result = run("ask", "--batch", str(questions), data_dir=data_dir)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line.get("grounded") for line in lines] == [True, False, None]
    assert "error" in lines[2]
    assert result.returncode == 1


def test_chat_reads_a_follow_up_with_the_turn_before_it(data_dir):
    result = run("chat", data_dir=data_dir, stdin=(
        "We're a nonprofit doing cyber evals and the safeguards keep refusing us\n"
        "and if we're in the EU?\n"))
    assert result.returncode == 0, result.stderr
    turns = result.stdout.split("accessbot> ")[1:]
    assert len(turns) == 2
    assert "Routes that fit" in turns[1] and "[1]" in turns[1]


def test_missing_index_tells_the_user_to_ingest(tmp_path):
    result = run("ask", "anything about access", data_dir=tmp_path / "empty")
    assert result.returncode == 2
    assert "run `accessbot ingest` first" in result.stderr and "Traceback" not in result.stderr


def test_a_bad_setting_is_one_line_naming_it(tmp_path):
    result = run("ask", "hi", data_dir=tmp_path, env={"ACCESSBOT_TOP_K": "lots"})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "ACCESSBOT_TOP_K" in result.stderr
