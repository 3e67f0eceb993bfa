"""`accessbot` command line: ingest, ask, chat (and the transports' entry points)."""
from __future__ import annotations

import argparse
import atexit
import datetime as dt
import gc
import json
import logging
import os
import sys
from pathlib import Path

from bot import messages


def _quiet_libraries() -> None:
    # No network here or on most research machines: never let a library try the hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="accessbot",
        description="Which model-access route, program or bottleneck applies to you?",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="embed knowledge documents into the index")
    ingest.add_argument("paths", nargs="*", type=Path,
                        help="files or folders (default: the knowledge_path setting)")
    ingest.add_argument("--json", action="store_true", help="print the summary as JSON")
    ingest.add_argument("--force", action="store_true",
                        help="publish even if the eval gate finds a regression")
    ingest.add_argument("--check", action="store_true",
                        help="list stale, low-confidence and broken cards; change nothing")

    ask = sub.add_parser("ask", help="answer one question")
    ask.add_argument("question", nargs="?", help="the question (omit with --batch)")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.add_argument("--batch", type=Path, metavar="FILE",
                     help="one question per line; prints one JSON object per line")

    sub.add_parser("chat", help="talk to AccessBot in the terminal")

    status = sub.add_parser("status", help="which index version is live, its size and stale cards")
    status.add_argument("--json", action="store_true")

    evaluate = sub.add_parser("eval", help="score answers against the eval set in eval/")
    evaluate.add_argument("--cases", type=Path, help="eval questions (default eval/questions.yaml)")
    evaluate.add_argument("--thresholds", type=Path,
                          help="minimum scores (default eval/thresholds.yaml)")
    evaluate.add_argument("-v", "--verbose", action="store_true", help="list failing questions")
    evaluate.add_argument("--json", action="store_true", help="print scores as JSON")

    slack = sub.add_parser("slack", help="run the Slack app (Socket Mode if SLACK_APP_TOKEN "
                                         "is set, else HTTP on --port)")
    slack.add_argument("--port", type=int, default=3000, help="HTTP mode port (default 3000)")
    slack.add_argument("--host", default="0.0.0.0", help="HTTP mode address")

    discord = sub.add_parser("discord", help="run the Discord bot")
    discord.add_argument("--sync-commands", metavar="SCOPE", nargs="?", const="global",
                         help="register /ask etc. with Discord ('global' or a guild id) and exit")

    report = sub.add_parser("report", help="what researchers are blocked on: bottlenecks, "
                                           "routes, knowledge gaps and stale cards")
    when = report.add_mutually_exclusive_group()
    when.add_argument("--since", type=dt.date.fromisoformat, metavar="YYYY-MM-DD",
                      help="questions from this UTC date on")
    when.add_argument("--days", type=int, default=30, help="the last N days (default 30)")
    report.add_argument("--html", type=Path, metavar="FILE",
                        help="write a self-contained page with charts")
    report.add_argument("--json", action="store_true", help="print the report as JSON")
    report.add_argument("--export-eval", type=Path, metavar="FILE",
                        help="write the knowledge gaps as draft eval cases (YAML)")
    report.add_argument("--forget", metavar="PLATFORM:USER_ID",
                        help="delete one user's questions and votes, e.g. slack:U123")
    return parser


def _cmd_check(args: argparse.Namespace, settings) -> int:
    from ingest.check import check_cards

    report = check_cards(args.paths or [settings.knowledge_path], settings.max_document_bytes,
                         settings.review_age_days)
    if args.json:
        print(json.dumps(report.to_dict()))
        return 0 if report.ok else 1
    for title, items in (("stale", report.stale), ("low confidence", report.low_confidence),
                         ("broken", report.broken)):
        print(f"{title}: {len(items)}")
        for item in items:
            print(f"  {item['path']}: {item['problem']}")
    return 0 if report.ok else 1


def _cmd_ingest(args: argparse.Namespace, settings) -> int:
    if args.check:
        return _cmd_check(args, settings)
    from bot import operations
    from bot.embeddings import AccessBotEmbeddings
    from ingest.pipeline import terminal_progress

    embeddings = AccessBotEmbeddings(settings.embedding_model)
    result = operations.reingest(settings, embeddings, args.paths or None, force=args.force,
                                 wait=True, progress=terminal_progress())
    report = result.report
    notice = operations.changes_notice(result.changes)
    if args.json:
        print(json.dumps({**report.to_dict(), "changes": [c.to_dict() for c in result.changes]}))
    else:
        print(f"ingest: {report.added} added, {report.updated} updated, {report.removed} removed, "
              f"{report.unchanged} unchanged ({report.chunks_written} chunks embedded, "
              f"{report.chunks_deleted} deleted)")
        for err in report.errors:
            print(f"  error: {err['path']}: {err['error']}", file=sys.stderr)
        if notice:
            print(notice)
    if not report.published:
        print("accessbot: the new version was NOT published; the previous one keeps serving. "
              "Eval gate:", file=sys.stderr)
        for line in report.gate_failures:
            print(f"  {line}", file=sys.stderr)
        print("Fix the cards, or publish anyway with `accessbot ingest --force`.", file=sys.stderr)
    if notice and settings.notify_slack_channel:
        from bot.transports.slack_admin import notify_from_cli

        notify_from_cli(settings, notice)  # optional: logs a failure, never fails the ingest
    if notice and settings.notify_discord_channel:
        from bot.transports.discord_notify import notify_from_cli as notify_discord

        notify_discord(settings, notice)
    return 1 if report.errors or not report.published else 0


def _cmd_ask(args: argparse.Namespace, settings) -> int:
    from bot.advisor import Advisor
    from bot.transports import cli

    if args.batch is None and args.question is None:
        print("accessbot ask: give a QUESTION or --batch FILE", file=sys.stderr)
        return 2
    advisor = Advisor.from_settings(settings)
    advisor.snapshot  # fail early with the missing-index message
    if args.batch is not None:
        try:
            with args.batch.open(encoding="utf-8", errors="replace") as lines:
                return cli.batch(advisor, lines)
        except FileNotFoundError:
            print(f"accessbot ask: no such file {args.batch}", file=sys.stderr)
            return 2
    return cli.ask(advisor, args.question, args.json)


def _cmd_chat(args: argparse.Namespace, settings) -> int:
    from bot.advisor import Advisor
    from bot.transports import cli

    advisor = Advisor.from_settings(settings)
    advisor.snapshot
    return cli.chat(advisor)


def _cmd_status(args: argparse.Namespace, settings) -> int:
    from bot.advisor import Advisor

    advisor = Advisor.from_settings(settings, log_questions=False)
    info = advisor.status()
    if args.json:
        print(json.dumps(info))
    else:
        for key, value in info.items():
            shown = ", ".join(value) if isinstance(value, list) else value
            print(f"{key.replace('_', ' '):<16} {shown}")
    return 0


def _cmd_eval(args: argparse.Namespace, settings) -> int:
    from bot import evaluation
    from bot.advisor import Advisor
    from bot.settings import PROJECT_ROOT

    cases = evaluation.load_cases(args.cases or PROJECT_ROOT / "eval" / "questions.yaml")
    thresholds = evaluation.load_thresholds(
        args.thresholds or PROJECT_ROOT / "eval" / "thresholds.yaml")
    advisor = Advisor.from_settings(settings, log_questions=False)
    results = [evaluation.run_case(advisor, case) for case in cases]
    scores = evaluation.score(results)
    failed = evaluation.below(scores, thresholds)
    if args.json:
        print(json.dumps({"scores": scores, "cases": len(results), "below_threshold": failed}))
    else:
        print("\n".join(evaluation.report_lines(scores, thresholds, results, args.verbose)))
        for line in failed:
            print(f"below threshold: {line}", file=sys.stderr)
    return 1 if failed else 0


def _cmd_slack(args: argparse.Namespace, settings) -> int:
    from bot.transports import slack

    return slack.run(args, settings)


def _cmd_discord(args: argparse.Namespace, settings) -> int:
    from bot.transports import discord

    return discord.run(args, settings)


def _cmd_report(args: argparse.Namespace, settings) -> int:
    from bot import report

    return report.run(args, settings)


COMMANDS = {"ingest": _cmd_ingest, "ask": _cmd_ask, "chat": _cmd_chat, "eval": _cmd_eval,
            "status": _cmd_status,
            "slack": _cmd_slack, "discord": _cmd_discord, "report": _cmd_report}


def main(argv: list[str] | None = None) -> int:
    _quiet_libraries()
    args = build_parser().parse_args(argv)
    if args.command == "ask":
        # A one-shot answer: importing torch, transformers and chromadb creates millions
        # of objects the collector would scan again and again, and again at exit. Pausing
        # it takes `ask` from ~4.2 s to ~3.5 s (benchmarks/cold_start.py). Long-running
        # commands keep the collector on.
        gc.disable()
        atexit.register(gc.freeze)
    from bot.embeddings import EmbeddingModelError
    from bot.settings import SettingsError, load_settings
    from bot.store import IndexMissing
    from ingest.lock import IngestBusy

    try:
        settings = load_settings()
        logging.basicConfig(level=settings.log_level.upper(),
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        for handler in logging.getLogger().handlers:  # libraries (bm25s) force DEBUG on import
            handler.setLevel(settings.log_level.upper())
        return COMMANDS[args.command](args, settings)
    except (SettingsError, EmbeddingModelError, IndexMissing, IngestBusy) as exc:
        print(f"accessbot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `accessbot ask ... | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
