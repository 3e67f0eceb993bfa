"""Shared fixtures: a clean environment per test, the embedding model loaded once per
session, and the real knowledge base ingested once into a real on-disk Chroma."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
SEEDS = ROOT.parent / "shared" / "seeds"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

_PREFIXES = ("ACCESSBOT_", "SLACK_", "DISCORD_", "OPENAI_", "ANTHROPIC_")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's tokens or settings."""
    for name in list(os.environ):
        if name.startswith(_PREFIXES):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def embeddings():
    from bot.embeddings import AccessBotEmbeddings

    return AccessBotEmbeddings()


def make_settings(data_dir: Path, **overrides):
    from bot.settings import load_settings

    return load_settings(data_dir=data_dir, **overrides)


@pytest.fixture
def settings(tmp_path: Path):
    """Settings with a private, empty data folder."""
    return make_settings(tmp_path / "data")


@pytest.fixture(scope="session")
def kb_settings(tmp_path_factory: pytest.TempPathFactory, embeddings):
    """Settings whose index holds the real knowledge/ folder, ingested once per session."""
    from ingest.pipeline import run_ingest

    settings = make_settings(tmp_path_factory.mktemp("kb") / "data")
    report = run_ingest([KNOWLEDGE], settings, embeddings)
    assert not report.errors, report.errors
    return settings


@pytest.fixture(scope="session")
def advisor(kb_settings, embeddings):
    from bot.advisor import Advisor

    return Advisor(kb_settings, embeddings)


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    """A writable copy of the knowledge folder for tests that edit documents."""
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    return target


SMALL_KB = ("programs/anthropic-cvp.md", "programs/ndif.md", "bottlenecks/safeguards.md")
TINY_EVAL = """\
- id: t1
  question: "We want to read and patch activations of Llama 3.1 70B for interpretability research, without our own GPUs. What can we use?"
  routes: [ndif]
  cite: [ndif]
"""


@pytest.fixture
def small_kb(tmp_path: Path, embeddings, monkeypatch: pytest.MonkeyPatch):
    """Settings over a three-card knowledge copy, ingested once, with a one-question eval
    gate that this copy passes (the real eval set needs the whole knowledge base)."""
    from bot import operations
    from ingest.pipeline import run_ingest

    knowledge = tmp_path / "knowledge"
    for name in SMALL_KB:
        (knowledge / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(KNOWLEDGE / name, knowledge / name)
    (tmp_path / "questions.yaml").write_text(TINY_EVAL)
    (tmp_path / "thresholds.yaml").write_text("route_recall: 0.5\ncitation_accuracy: 0.5\n")
    monkeypatch.setattr(operations, "EVAL_CASES", tmp_path / "questions.yaml")
    monkeypatch.setattr(operations, "EVAL_THRESHOLDS", tmp_path / "thresholds.yaml")
    settings = make_settings(tmp_path / "data", knowledge_path=knowledge)
    assert not run_ingest([knowledge], settings, embeddings).errors
    return settings


def edit_card(path: Path, **fields: str) -> None:
    """Change front-matter fields of a card in place (`status="closed"`)."""
    import re

    text = path.read_text(encoding="utf-8")
    for name, value in fields.items():
        text, n = re.subn(rf"(?m)^{name}: .*$", f"{name}: {value}", text, count=1)
        assert n == 1, name
    path.write_text(text, encoding="utf-8")
