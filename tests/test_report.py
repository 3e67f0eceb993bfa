"""The question log and `accessbot report`: counts from a log written through the real
recording path, the HTML page in a real headless Chromium, privacy (hashing, forgetting,
text retention) and the rule that a broken log never costs a researcher their answer."""
from __future__ import annotations

import datetime as dt
import html
import json
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.advisor.types import Answer, Citation, Profile, Question, RouteDecision
from bot.cli import main
from bot.evaluation import load_cases
from bot.feedback import FeedbackStore
from bot.records import FEEDBACK_WINDOW, QuestionLog, question_log_for, split_user
from bot.report import period_for, report_from_log
from tests.conftest import make_settings

FIXED_NOW = dt.datetime(2026, 3, 4, 15, 0, tzinfo=dt.timezone.utc)  # a Wednesday
OLD_CARD, FRESH_CARD = "2024-01-01", "2026-02-01"  # stale / fresh at review_age_days=120
CVP, RESEARCHER = "anthropic-cvp", "openai-researcher-access"
CYBER = ("Fable's cyber safeguards keep refusing our AI control experiments, "
         "is there a way around that?")


class Clock:
    """The log's clock, moved by the test, so questions land in chosen weeks."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def route(card_id: str) -> RouteDecision:
    return RouteDecision(card_id, card_id.replace("-", " ").title(), 1.0, "fits", "apply", True)


def cite(card_id: str, verified: str, stale: bool = False) -> Citation:
    return Citation(1, card_id.replace("-", " ").title(), f"https://example.org/{card_id}",
                    "quote", verified, card_id, stale)


def answered(routes: tuple[str, ...] = (), bottlenecks: tuple[str, ...] = (),
             cited: tuple[Citation, ...] = (), grounded: bool = True) -> Answer:
    return Answer("q", "text", grounded, routes=[route(r) for r in routes],
                  bottlenecks=list(bottlenecks), citations=list(cited),
                  profile=Profile(kinds=("academic",), needs=("fewer-safeguards",)))


@dataclass
class Generated:
    path: Path
    mondays: list[dt.date]
    answers: dict[str, list[Answer]] = field(default_factory=dict)


def generate_log(path: Path, now: dt.datetime, keep_text: str = "gaps") -> Generated:
    """Five complete weeks before `now`'s week. Week k (0..4) holds k+1 safeguards questions
    (route anthropic-cvp, citing a stale card), one costs question (a fresh card) and one
    declined question. Right after their answers: not-helpful votes in weeks 1 and 3 (linked
    by answer_id) and week 4 (an older transport's vote: the answer id as message_ref), and
    helpful votes on the costs answers; one vote matching no question; one question long
    before the period."""
    this_monday = now.date() - dt.timedelta(days=now.weekday())
    mondays = [this_monday - dt.timedelta(weeks=5 - k) for k in range(5)]
    clock = Clock(now - dt.timedelta(days=80))
    log = QuestionLog(path, keep_text=keep_text, now=clock)
    votes = FeedbackStore(path)
    gen = Generated(path, mondays, {"safeguards": [], "costs": [], "declined": []})

    def ask(kind: str, when: dt.datetime, answer: Answer, user: str) -> Answer:
        clock.now = when
        log.record(Question(f"{kind} question asked {when:%Y-%m-%d %H:%M}", platform="slack",
                            user_id=user), answer)
        gen.answers[kind].append(answer)
        return answer

    ask("declined", clock.now, answered(grounded=False), "U0LONGAGO")
    for k, monday in enumerate(mondays):
        start = dt.datetime.combine(monday, dt.time(9), dt.timezone.utc)
        for i in range(k + 1):
            got = ask("safeguards", start + dt.timedelta(hours=i),
                      answered((CVP,), ("safeguards",), (cite(CVP, OLD_CARD, True),)),
                      f"U0ALICE{i % 2}")
            if (k, i) in ((1, 0), (3, 0)):
                votes.record("slack", f"C1:{got.id}", "U0VOTER", False, [CVP], answer_id=got.id)
            elif (k, i) == (4, 1):
                votes.record("slack", got.id, "U0VOTER", False, [CVP])  # the legacy link
        costs = ask("costs", start + dt.timedelta(days=2),
                    answered((RESEARCHER,), ("costs-rate-limits",), (cite(RESEARCHER, FRESH_CARD),)),
                    "U0BOB")
        ask("declined", start + dt.timedelta(days=3), answered(grounded=False), "U0CAROL")
        votes.record("slack", f"C1:{costs.id}", "U0VOTER", True, [RESEARCHER], answer_id=costs.id)
    votes.record("discord", "9999", "U0VOTER", True, [CVP])  # links to nothing
    clock.now = now
    log.purge()
    votes.close()
    log.close()
    return gen


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder the in-process CLI uses, holding a log written up to the real now."""
    data = tmp_path / "data"
    monkeypatch.setenv("ACCESSBOT_DATA_DIR", str(data))
    generate_log(data / "feedback.sqlite3", dt.datetime.now(dt.timezone.utc))
    return data


def test_a_log_over_several_weeks_gives_the_expected_counts(tmp_path):
    gen = generate_log(tmp_path / "feedback.sqlite3", FIXED_NOW)
    log = QuestionLog(gen.path, now=Clock(FIXED_NOW))
    report = report_from_log(log, period_for(None, 42, FIXED_NOW), review_age_days=120)

    assert report.questions == 25 and report.declined == 5
    assert dict(report.bottlenecks) == {"safeguards": 15, "costs-rate-limits": 5, "non-release": 0,
                                        "deployment-lag": 0, "elicitation": 0}
    assert report.bottlenecks[0] == ("safeguards", 15)
    assert dict(report.routes) == {CVP: 15, RESEARCHER: 5}
    assert (report.helpful, report.not_helpful) == (5, 3)  # one linked by its message_ref
    weeks = {w.start: (w.questions, w.declined, w.not_helpful) for w in report.weeks}
    assert [weeks[m] for m in gen.mondays] == [(3, 1, 0), (4, 1, 1), (5, 1, 0), (6, 1, 1),
                                                (7, 1, 1)]
    assert sum(w.questions for w in report.weeks) == 25  # the old question is outside
    assert [w.bottlenecks.get("safeguards", 0) for w in report.weeks if w.start in gen.mondays] \
        == [1, 2, 3, 4, 5]
    assert sorted(g.why for g in report.gaps) == ["declined"] * 5 + ["not helpful"] * 3
    assert {g.answer_id for g in report.gaps if g.why == "not helpful"} == {
        gen.answers["safeguards"][i].id for i in (1, 6, 11)}
    assert [(c.card_id, c.citations, c.last_verified) for c in report.stale_cards] == [
        (CVP, 15, OLD_CARD)]

    since = period_for(gen.mondays[3], 0, FIXED_NOW)
    assert report_from_log(log, since, 120).questions == 6 + 7
    log.close()


def test_report_text_and_json_from_the_command_line(data_dir, capsys):
    assert main(["report", "--days", "42"]) == 0
    text = capsys.readouterr().out
    assert "Questions per bottleneck" in text and "Knowledge gaps (declined or not helpful): 8" in text
    assert re.search(r"safeguards\s+15", text) and "Stale cards cited most" in text

    assert main(["report", "--days", "42", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["questions"] == 25 and data["bottlenecks"]["safeguards"] == 15
    assert data["routes"] == {CVP: 15, RESEARCHER: 5} and len(data["gaps"]) == 8
    assert data["stale_cards"][0]["card_id"] == CVP
    assert (data["unlinked_helpful"], data["unlinked_not_helpful"]) == (1, 0)

    since = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=3)).date().isoformat()
    assert main(["report", "--since", since, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["questions"] == 0


def test_export_eval_writes_draft_cases_the_eval_loader_reads(data_dir, tmp_path, capsys):
    target = tmp_path / "gaps.yaml"
    assert main(["report", "--days", "42", "--export-eval", str(target)]) == 0
    cases = load_cases(target)
    assert len(cases) == 8 and all(c.id.startswith("gap-") for c in cases)
    assert {c.question.split(" question")[0] for c in cases} == {"declined", "safeguards"}
    assert all(not c.routes and c.bottlenecks is None and not c.cite and not c.decline
               for c in cases)  # blank expectations for a maintainer to fill in
    text = target.read_text()
    assert text.count("\n  answered:\n") == 8 and f"routes: [{CVP}]" in text
    assert "wrote 8 draft eval cases" in capsys.readouterr().err


# ---------------------------------------------------------------- the page in a browser
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("chromium is not installed; scripts/test installs Debian's package "
                    "(apt-get install -y chromium) when run as root or with CI=true")
    return found


def run_chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             "--hide-scrollbars", f"--user-data-dir={profile}"]
    return subprocess.run([chromium(), *flags, *args], capture_output=True, text=True,
                          timeout=90)


PROBE = ("<script>addEventListener('load', () => { document.body.dataset.probe = "
         "JSON.stringify([...document.images].map(i => [i.dataset.chart, i.complete, "
         "i.naturalWidth, i.naturalHeight])); });</script>")


def decoded_images(page: Path, tmp_path: Path) -> list[list]:
    """Every <img> with its decoded size, read from the live DOM after the load event."""
    probed = tmp_path / "probed.html"
    probed.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    done = run_chromium("--virtual-time-budget=5000", "--dump-dom", probed.as_uri(),
                        profile=tmp_path / "profile-dom")
    match = re.search(r'data-probe="([^"]*)"', done.stdout)
    assert match, done.stderr[-2000:]
    return json.loads(html.unescape(match.group(1)))


def pixels_near(image, colour: tuple[int, int, int], tolerance: int = 12) -> int:
    rgb = image.convert("RGB")
    return sum(n for n, px in rgb.getcolors(rgb.width * rgb.height)
               if all(abs(a - b) <= tolerance for a, b in zip(px, colour)))


@pytest.mark.slow
def test_the_html_page_renders_its_charts_in_headless_chromium(data_dir, tmp_path):
    from PIL import Image

    chromium()
    page = tmp_path / "out.html"
    assert main(["report", "--days", "42", "--html", str(page)]) == 0
    source = page.read_text()
    assert not re.search(r'(src|href)="(?!data:)', source) and "<script" not in source
    assert "Knowledge gaps (8)" in source and "safeguards question asked" in source

    images = decoded_images(page, tmp_path)
    assert [i[0] for i in images] == ["bottlenecks", "routes", "weeks", "weekly-bottlenecks"]
    assert all(complete and width > 300 and height > 100 for _, complete, width, height in images)

    shot = tmp_path / "shot.png"
    done = run_chromium(f"--screenshot={shot}", "--window-size=1200,2400", page.as_uri(),
                        profile=tmp_path / "profile-shot")
    assert shot.exists() and shot.stat().st_size > 20_000, done.stderr[-2000:]
    with Image.open(shot) as image:
        assert image.size == (1200, 2400)
        assert pixels_near(image, (0x35, 0x69, 0xa8)) > 5_000  # the bottleneck bars
        assert pixels_near(image, (0x27, 0xae, 0x60)) > 5_000  # the route bars


# ---------------------------------------------------------------- privacy
def test_no_raw_user_id_appears_anywhere_in_the_database_file(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    slack_user, discord_user = "U0RAWSLACKID", "112233445566778899"
    log = QuestionLog(path, keep_text="always")
    votes = FeedbackStore(path)
    for platform, user in (("slack", slack_user), ("discord", discord_user)):
        for grounded in (True, False):
            answer = answered((CVP,), ("safeguards",), (cite(CVP, OLD_CARD),), grounded)
            text = f"<@{user}> asks: I am {user}, <@U0OTHERPERSON> said ask here"
            log.record(Question(text, platform=platform, user_id=user), answer)
            votes.record(platform, f"m-{answer.id}", user, grounded, [CVP], answer_id=answer.id)
    assert len(log.entries(FIXED_NOW.replace(year=2000), FIXED_NOW.replace(year=2100))) == 4
    log.close()
    votes.close()

    data = b"".join(p.read_bytes() for p in tmp_path.iterdir())  # the file and any journal
    for raw in (slack_user, discord_user, "U0OTHERPERSON"):
        assert raw.encode() not in data and raw.encode("utf-16-le") not in data
    assert b"asks: I am @someone" in data  # the text was kept, with the ids scrubbed


def test_forget_removes_exactly_that_users_rows(tmp_path, capsys, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setenv("ACCESSBOT_DATA_DIR", str(data))
    path = data / "feedback.sqlite3"
    log = QuestionLog(path)
    votes = FeedbackStore(path)
    assert votes.user_hash("slack", "U1") == log.user_hash("slack", "U1")  # one salt
    asked = [("slack", "U1"), ("slack", "U1"), ("slack", "U2"), ("discord", "U1")]
    for platform, user in asked:
        answer = answered((CVP,), ("safeguards",))
        log.record(Question("which route?", platform=platform, user_id=user), answer)
        votes.record(platform, answer.id, "U2" if user == "U1" else "U1", True, answer_id=answer.id)
    votes.record("slack", "another", "U1", False)
    log.close()
    votes.close()

    assert main(["report", "--forget", "slack:U1"]) == 0
    assert capsys.readouterr().out.strip() == "forgot slack:U1: 2 questions, 2 feedback votes deleted"
    db = sqlite3.connect(path)
    left = db.execute("SELECT platform, user_hash FROM questions ORDER BY id").fetchall()
    votes_left = db.execute("SELECT platform, user_hash FROM feedback ORDER BY id").fetchall()
    db.close()
    check = QuestionLog(path)
    assert left == [("slack", check.user_hash("slack", "U2")),
                    ("discord", check.user_hash("discord", "U1"))]
    assert votes_left == [("slack", check.user_hash("slack", "U2")),
                          ("slack", check.user_hash("slack", "U2")),
                          ("discord", check.user_hash("discord", "U2"))]
    check.close()
    assert main(["report", "--forget", "U1"]) == 2
    assert "PLATFORM:USER_ID" in capsys.readouterr().err
    assert split_user("discord:123:4") == ("discord", "123:4")


def texts(log: QuestionLog) -> dict[str, str | None]:
    wide = (FIXED_NOW - dt.timedelta(days=400), FIXED_NOW + dt.timedelta(days=400))
    return {e.answer_id: e.text for e in log.entries(*wide)}


def record(log: QuestionLog, text: str, platform: str = "slack", grounded: bool = True) -> str:
    answer = answered((CVP,), ("safeguards",), grounded=grounded)
    log.record(Question(text, platform=platform, user_id="U0ASKER"), answer)
    return answer.id


@pytest.mark.parametrize("policy", ["never", "gaps", "always"])
def test_question_text_is_kept_as_the_setting_says(tmp_path, policy):
    path = tmp_path / "feedback.sqlite3"
    clock = Clock(FIXED_NOW)
    log = QuestionLog(path, keep_text=policy, retention_days=90, now=clock)
    votes = FeedbackStore(path)
    ids = {name: record(log, f"text of {name}", platform, grounded) for name, platform, grounded in (
        ("declined", "slack", False), ("cli answer", "cli", True), ("liked", "slack", True),
        ("disliked", "slack", True), ("unvoted", "slack", True))}
    votes.record("slack", "m1", "U0VOTER", True, answer_id=ids["liked"])
    votes.record("slack", "m2", "U0VOTER", False, answer_id=ids["disliked"])
    kept = {name for name, aid in ids.items() if texts(log)[aid]}
    at_answer = {"never": set(), "gaps": set(ids) - {"cli answer"}, "always": set(ids)}[policy]
    assert kept == at_answer

    clock.now += dt.timedelta(hours=2)
    log.purge()  # the vote is in: a helpful answer was no gap
    after_votes = {"never": set(), "gaps": {"declined", "disliked", "unvoted"},
                   "always": set(ids)}[policy]
    assert {n for n, a in ids.items() if texts(log)[a]} == after_votes

    clock.now += FEEDBACK_WINDOW
    reopened = QuestionLog(path, keep_text=policy, retention_days=90, now=clock)  # startup purge
    after_window = {"never": set(), "gaps": {"declined", "disliked"}, "always": set(ids)}[policy]
    assert {n for n, a in ids.items() if texts(reopened)[a]} == after_window

    clock.now = FIXED_NOW + dt.timedelta(days=91)
    reopened.purge()
    assert not any(texts(reopened).values())  # retention ends every kept text
    reopened.close()
    log.close()
    votes.close()
    assert b"text of" not in path.read_bytes()  # secure_delete: no bytes left behind


def test_switching_to_never_drops_kept_text_at_the_next_start(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    seen = []
    for policy in ("always", "always", "never"):
        log = QuestionLog(path, keep_text=policy)
        aid = seen[0][0] if seen else record(log, "please keep me")
        seen.append((aid, texts(log)[aid]))
        log.close()
    assert [text for _, text in seen] == ["please keep me", "please keep me", None]


# ---------------------------------------------------------------- wiring and failure
def test_feedback_store_keeps_its_old_signature_and_upgrades_old_files(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    old = sqlite3.connect(path)
    old.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('salt', 'oldsalt');
        CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL,
            platform TEXT NOT NULL, message_ref TEXT NOT NULL, user_hash TEXT NOT NULL,
            helpful INTEGER NOT NULL, cards TEXT NOT NULL DEFAULT '',
            UNIQUE (platform, message_ref, user_hash));""")
    old.close()
    store = FeedbackStore(path)
    store.record("slack", "C1:1", "U1", True, ["a"])  # as the transports call it today
    store.record("slack", "C1:1", "U1", False, ["a"], answer_id="abc")  # a changed vote, linked
    store.record("slack", "C1:1", "U1", False, ["a"])  # an unlinked re-click keeps the link
    (row,) = store.rows()
    assert (row["helpful"], row["answer_id"]) == (0, "abc")
    log = QuestionLog(path)
    assert store.user_hash("slack", "U1") == log.user_hash("slack", "U1")
    log.close()
    store.close()


def test_answers_from_the_real_advisor_land_in_the_log(kb_settings, embeddings, tmp_path):
    from bot.advisor import Advisor

    path = tmp_path / "feedback.sqlite3"
    log = QuestionLog(path)
    advisor = Advisor(kb_settings, embeddings, on_answer=log.record)
    cyber = advisor.answer(Question(CYBER, platform="slack", user_id="U0REAL"))
    off_topic = advisor.answer(Question("What is a good sourdough hydration for rye bread?",
                                        platform="discord", user_id="42424242"))
    FeedbackStore(path).record("slack", "C:1", "U0REAL", False, answer_id=cyber.id)
    now = dt.datetime.now(dt.timezone.utc)
    report = report_from_log(log, period_for(None, 1, now + dt.timedelta(minutes=1)), 120)
    assert report.questions == 2 and report.declined == 1 and not off_topic.grounded
    assert dict(report.bottlenecks)["safeguards"] == 1
    assert {r for r, n in report.routes} == {r.card_id for r in cyber.routes}
    assert {(g.answer_id, g.why) for g in report.gaps} == {(cyber.id, "not helpful"),
                                                          (off_topic.id, "declined")}
    log.close()


def test_a_failing_log_never_costs_the_answer(kb_settings, embeddings, tmp_path, caplog):
    from bot.advisor import Advisor

    broken = QuestionLog(tmp_path / "feedback.sqlite3")
    broken.close()  # every record now raises sqlite3.ProgrammingError
    advisor = Advisor(kb_settings, embeddings, on_answer=broken.record)
    answer = advisor.answer(Question(CYBER, platform="slack", user_id="U1"))
    assert answer.grounded and answer.routes
    assert "recording the answered question failed" in caplog.text


def test_the_product_advisor_records_unless_told_not_to(tmp_path):
    from bot.advisor import Advisor

    settings = make_settings(tmp_path / "data")
    advisor = Advisor.from_settings(settings)
    assert isinstance(advisor.on_answer.__self__, QuestionLog)
    assert advisor.on_answer.__self__.path == settings.feedback_db
    assert Advisor.from_settings(settings, log_questions=False).on_answer is None  # eval, status
    assert question_log_for(make_settings(tmp_path / "data", question_log=False)) is None
    unusable = make_settings(tmp_path / "data", feedback_db=tmp_path)  # a folder, not a file
    assert question_log_for(unusable) is None
