"""PDFs and fetched URLs (sources.yaml) go through the same ingest as Markdown cards."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot import store
from bot.advisor import Advisor, Question
from ingest.pipeline import run_ingest
from tests.fakes.pdf import make_pdf

PAGE = ("<html><head><title>Evaluator Access Terms</title></head><body><nav>Menu</nav>"
        "<article><h1>Evaluator Access Terms</h1><p>Registered external evaluators receive "
        "the helpful-only checkpoint of the Zephyrine model under a twenty business day "
        "evaluation window, with engineering support and no retaliation for findings.</p>"
        "<p>Applications are reviewed by the evaluation office every quarter.</p>"
        "</article></body></html>")
PDF = make_pdf(["Policy overview: scope and definitions for outside researchers.",
                "Section two: Zephyrine internals access grants activations and gradients."],
               title="Zephyrine Access Policy")


class _Site(BaseHTTPRequestHandler):
    routes = {"/terms.html": ("text/html; charset=utf-8", PAGE.encode()),
              "/policy.pdf": ("application/pdf", PDF),
              "/huge.txt": ("text/plain", b"x" * 50_000)}

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        if self.path not in self.routes:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        kind, body = self.routes[self.path]
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def live_docs(settings, embeddings, version):
    collection = store.existing_collection(store.open_client(settings), settings, embeddings)
    got = collection.get(where=store.in_version(version), include=["metadatas", "documents"])
    return got


def test_pdf_text_is_ingested_per_page_and_cited_with_the_page(settings, embeddings, tmp_path):
    (tmp_path / "policy.pdf").write_bytes(PDF)
    report = run_ingest([tmp_path / "policy.pdf"], settings, embeddings)
    assert report.added == 1, report.errors
    got = live_docs(settings, embeddings, report.version)
    headings = sorted(m[store.HEADING] for m in got["metadatas"])
    assert headings == ["Page 1", "Page 2"]
    assert got["metadatas"][0][store.TITLE] == "Zephyrine Access Policy"
    answer = Advisor(settings, embeddings).answer(
        Question("Does the Zephyrine policy give internals access with activations and gradients?"))
    assert any("p. 2" in c.title for c in answer.citations), [c.title for c in answer.citations]


@pytest.mark.parametrize("content, reason", [
    (b"%PDF-1.4\nthis is not really a pdf", "unreadable PDF"),
    (make_pdf([""]), "no extractable text"),
])
def test_bad_pdfs_are_named(settings, embeddings, tmp_path, content, reason):
    (tmp_path / "bad.pdf").write_bytes(content)
    report = run_ingest([tmp_path], settings, embeddings)
    assert report.added == 0 and reason in report.errors[0]["error"]


def test_sources_yaml_fetches_pages_and_pdfs_and_names_failures(settings, embeddings, tmp_path, site):
    small = settings.model_copy(update={"max_document_bytes": 20_000})
    (tmp_path / "sources.yaml").write_text(
        f"- url: {site}/terms.html\n"
        f"- url: {site}/policy.pdf\n  id: zephyrine-policy\n  kind: policy\n"
        f"- url: {site}/missing.html\n"
        f"- url: {site}/huge.txt\n"
        f"- url: http://127.0.0.1:9/closed-port.html\n")
    report = run_ingest([tmp_path], small, embeddings)
    assert report.added == 2
    errors = {e["path"].split("#", 1)[1]: e["error"] for e in report.errors}
    assert "HTTP 404" in errors[f"{site}/missing.html"]
    assert "byte limit" in errors[f"{site}/huge.txt"]
    assert "cannot fetch" in errors["http://127.0.0.1:9/closed-port.html"]
    metas = live_docs(small, embeddings, report.version)["metadatas"]
    by_id = {m[store.DOC_ID]: m for m in metas}
    assert by_id["zephyrine-policy"][store.KIND] == "policy"
    assert by_id["zephyrine-policy"][store.SOURCE_URL] == f"{site}/policy.pdf"
    assert any(m[store.TITLE] == "Evaluator Access Terms" for m in metas)
    # Offline next time: the pages already ingested are kept, and nothing is re-embedded.
    again = run_ingest([tmp_path], small, embeddings)
    assert (again.added, again.removed, again.unchanged) == (0, 0, 2)
