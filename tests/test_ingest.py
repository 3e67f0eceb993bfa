"""Ingest against a real on-disk Chroma with the real packaged embedding model."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot import store
from ingest.pipeline import run_ingest

CARD = """\
---
id: {id}
kind: program
title: {title}
source_url: https://example.org/{id}
last_verified: 2026-10-01
confidence: high
status: open
eligible: [academic]
domains: [interpretability]
grants: [internals]
addresses: [elicitation]
regions: [any]
apply: Fill in the form at https://example.org/{id}/apply
---
## What it is
{what}

## How to apply
Send the form; reviews happen monthly.
"""


def write_card(folder: Path, card_id: str, what: str = "Remote access to activations.",
               title: str = "") -> Path:
    path = folder / f"{card_id}.md"
    path.write_text(CARD.format(id=card_id, title=title or card_id.title(), what=what))
    return path


def collection_of(settings, embeddings):
    return store.existing_collection(store.open_client(settings), settings, embeddings)


def test_second_run_with_nothing_changed_writes_nothing(settings, embeddings, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    write_card(docs, "alpha")
    write_card(docs, "beta")
    first = run_ingest([docs], settings, embeddings)
    assert (first.added, first.unchanged, first.errors) == (2, 0, [])
    version = store.index_info(collection_of(settings, embeddings)).version
    second = run_ingest([docs], settings, embeddings)
    assert {k: v for k, v in second.to_dict().items() if k in {
        "added", "updated", "removed", "unchanged", "errors", "chunks_written"}} == {
        "added": 0, "updated": 0, "removed": 0, "unchanged": 2, "errors": [], "chunks_written": 0}
    assert store.index_info(collection_of(settings, embeddings)).version == version


def test_a_changed_document_is_reembedded_and_a_deleted_one_leaves(settings, embeddings, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    write_card(docs, "alpha")
    gone = write_card(docs, "beta")
    run_ingest([docs], settings, embeddings)
    write_card(docs, "alpha", what="Now also gradients and logits, via a hosted service.")
    gone.unlink()
    report = run_ingest([docs], settings, embeddings)
    assert (report.updated, report.removed, report.chunks_written) == (1, 1, 2)
    live = store.in_version(report.version)
    got = collection_of(settings, embeddings).get(where=live, include=["documents", "metadatas"])
    assert {m[store.DOC_ID] for m in got["metadatas"]} == {"alpha"}
    assert any("gradients and logits" in d for d in got["documents"])


def test_chunk_ids_are_stable_across_runs_and_follow_headings(settings, embeddings, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    write_card(docs, "alpha")
    run_ingest([docs], settings, embeddings)
    ids = set(collection_of(settings, embeddings).get()["ids"])
    assert {i.split("@")[0] for i in ids} == {"alpha#what-it-is", "alpha#how-to-apply"}
    run_ingest([docs], settings, embeddings)
    assert set(collection_of(settings, embeddings).get()["ids"]) == ids


def test_bad_files_are_named_and_the_good_ones_still_ingested(settings, embeddings, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    write_card(docs, "good")
    (docs / "binary.txt").write_bytes(b"\x00\x01\x02binary")
    (docs / "latin1.txt").write_bytes("caf\xe9 au lait".encode("latin-1"))
    (docs / "empty.md").write_text("   \n")
    (docs / "broken.md").write_text("---\nid: [oops\n---\nbody\n")
    (docs / "unknown-kind.md").write_text(textwrap.dedent("""\
        ---
        id: weird
        kind: rumour
        title: Weird
        source_url: x
        last_verified: 2026-01-01
        confidence: high
        ---
        body
        """))
    report = run_ingest([docs], settings, embeddings)
    errors = {Path(e["path"]).name: e["error"] for e in report.errors}
    assert report.added == 1
    assert set(errors) == {"binary.txt", "latin1.txt", "empty.md", "broken.md", "unknown-kind.md"}
    assert "binary" in errors["binary.txt"]
    assert "UTF-8" in errors["latin1.txt"]
    assert "empty" in errors["empty.md"]
    assert "front matter" in errors["broken.md"]
    assert "kind 'rumour'" in errors["unknown-kind.md"]


def test_a_card_broken_by_an_edit_keeps_its_previous_chunks(settings, embeddings, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    path = write_card(docs, "alpha")
    run_ingest([docs], settings, embeddings)
    path.write_text("---\nid: alpha\nkind: program\n")  # half-saved file
    report = run_ingest([docs], settings, embeddings)
    assert report.removed == 0 and len(report.errors) == 1
    live = store.in_version(report.version)
    assert len(collection_of(settings, embeddings).get(where=live)["ids"]) == 2


def test_duplicate_ids_are_reported(settings, embeddings, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    write_card(docs, "alpha")
    (docs / "copy.md").write_text((docs / "alpha.md").read_text())
    report = run_ingest([docs], settings, embeddings)
    assert report.added == 1
    assert report.errors[0]["path"].endswith("copy.md")
    assert "duplicate id 'alpha'" in report.errors[0]["error"]


def test_ingesting_one_extra_file_leaves_the_rest_alone(settings, embeddings, tmp_path):
    docs, extra = tmp_path / "docs", tmp_path / "extra"
    docs.mkdir()
    extra.mkdir()
    write_card(docs, "alpha")
    run_ingest([docs], settings, embeddings)
    note = extra / "field-notes.txt"
    note.write_text("Field notes on the NDIF workshop.\n\nThe hosted 405B model answered quickly.")
    report = run_ingest([note], settings, embeddings)
    assert (report.added, report.removed) == (1, 0)
    metas = collection_of(settings, embeddings).get()["metadatas"]
    kinds = {m[store.DOC_ID]: m[store.KIND] for m in metas}
    assert kinds["alpha"] == "program" and "post" in kinds.values()


def test_html_keeps_the_main_text_and_title(settings, embeddings, tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>Evaluator access explained</title><script>var x=1;</script></head>"
        "<body><nav>Home | About | Login</nav><article><h1>Evaluator access explained</h1>"
        "<p>Independent evaluators may receive the helpful-only model version for "
        "evaluation under the code of practice. This paragraph is long enough to be kept "
        "by the main-text extractor as article content rather than boilerplate.</p>"
        "<p>Providers publish their selection criteria for evaluators and must not "
        "retaliate against good-faith evaluation work that follows the disclosure policy.</p>"
        "</article><footer>Copyright</footer></body></html>")
    report = run_ingest([page], settings, embeddings)
    assert report.added == 1, report.errors
    got = collection_of(settings, embeddings).get(include=["documents", "metadatas"])
    text = " ".join(got["documents"])
    assert "helpful-only" in text and "var x" not in text and "Login" not in text
    assert got["metadatas"][0][store.TITLE] == "Evaluator access explained"


def test_oversized_document_is_refused(settings, embeddings, tmp_path):
    from tests.conftest import make_settings

    small = make_settings(settings.data_dir, max_document_bytes=1000)
    big = tmp_path / "big.txt"
    big.write_text("word " * 400)
    report = run_ingest([big], small, embeddings)
    assert report.added == 0 and "over the 1,000-byte limit" in report.errors[0]["error"]


def test_missing_path_is_an_error_not_a_crash(settings, embeddings, tmp_path):
    report = run_ingest([tmp_path / "nope"], settings, embeddings)
    assert report.errors == [{"path": str(tmp_path / "nope"), "error": "no such file or folder"}]


@pytest.mark.parametrize("name", ["README.md", ".hidden.md"])
def test_readmes_and_hidden_files_are_not_documents(settings, embeddings, tmp_path, name):
    docs = tmp_path / "docs"
    docs.mkdir()
    write_card(docs, "alpha")
    (docs / name).write_text("# Notes for maintainers\n\nNot a card.")
    assert run_ingest([docs], settings, embeddings).added == 1
