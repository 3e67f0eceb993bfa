"""The gap report as one self-contained HTML page a maintainer can mail or attach.

Charts are matplotlib PNGs (Agg canvas, no display needed) embedded as base64 data URIs,
and the style is inline, so the page needs no server, no network and no JavaScript.
"""
from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence

from bot.report import Gap, Report, StaleCard, Week

COLOURS = {"questions": "#3569a8", "declined": "#c0392b", "not helpful": "#e67e22"}
STACK = ("#3569a8", "#e67e22", "#27ae60", "#8e44ad", "#c0392b", "#7f8c8d", "#16a085")
MAX_BARS = 15
STYLE = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;color:#222;margin:0;background:#f6f7f9}
main{max-width:1000px;margin:0 auto;padding:24px;background:#fff}
h1{margin:0 0 4px} h2{margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}
.period{color:#555;margin-top:0} .summary{display:flex;flex-wrap:wrap;gap:12px}
.stat{background:#f0f3f8;border-radius:6px;padding:8px 14px;min-width:110px}
.stat b{display:block;font-size:24px} img{max-width:100%;display:block;margin:12px 0}
table{border-collapse:collapse;width:100%;font-size:14px} td,th{border-bottom:1px solid #e5e5e5;
padding:5px 8px;text-align:left;vertical-align:top} .why{white-space:nowrap}
.muted{color:#888;font-style:italic} footer{margin-top:32px;color:#666;font-size:13px}
"""
TEXT_POLICY = {
    "never": "Question text is never kept.",
    "gaps": "Question text is kept only for declined and not-helpful answers, and deleted "
            "after the retention period.",
    "always": "Question text is kept for every answer until the retention period ends.",
}


def _png(figure) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(9, height))


def _empty(ax, message: str = "No questions in this period") -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", color="#888", fontsize=13)
    ax.set_axis_off()


def bar_chart(rows: Sequence[tuple[str, int]], labels: dict[str, str], colour: str) -> str:
    """Horizontal bars, largest on top: one per bottleneck or route."""
    rows = list(rows)[:MAX_BARS]
    figure = _figure(max(2.2, 0.42 * len(rows) + 1))
    ax = figure.add_subplot()
    if not any(n for _, n in rows):
        _empty(ax)
        return _png(figure)
    names = [labels.get(name, name)[:48] for name, _ in reversed(rows)]
    values = [n for _, n in reversed(rows)]
    ax.barh(names, values, color=colour)
    for y, value in enumerate(values):
        ax.text(value, y, f" {value}", va="center", fontsize=9)
    ax.set_xlabel("questions")
    ax.spines[["top", "right"]].set_visible(False)
    return _png(figure)


def trend_chart(weeks: Sequence[Week]) -> str:
    """Questions, declined and not helpful per week: is the gap closing?"""
    figure = _figure(3.2)
    ax = figure.add_subplot()
    if not any(w.questions for w in weeks):
        _empty(ax)
        return _png(figure)
    x = [w.start.isoformat()[5:] for w in weeks]
    for name, values in (("questions", [w.questions for w in weeks]),
                         ("declined", [w.declined for w in weeks]),
                         ("not helpful", [w.not_helpful for w in weeks])):
        ax.plot(x, values, marker="o", label=name, color=COLOURS[name])
    ax.set_xlabel("week starting (MM-DD)")
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(figure)


def weekly_bottleneck_chart(weeks: Sequence[Week], order: Sequence[str]) -> str:
    """Stacked bars: which bottlenecks each week's questions hit."""
    figure = _figure(3.2)
    ax = figure.add_subplot()
    names = [b for b in order if any(w.bottlenecks.get(b) for w in weeks)]
    if not names:
        _empty(ax, "No bottlenecks named in this period")
        return _png(figure)
    x = [w.start.isoformat()[5:] for w in weeks]
    bottom = [0] * len(weeks)
    for colour, name in zip(STACK * 3, names):
        values = [w.bottlenecks.get(name, 0) for w in weeks]
        ax.bar(x, values, bottom=bottom, label=name, color=colour)
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.legend(frameon=False, fontsize=8, ncols=min(len(names), 5))
    ax.set_xlabel("week starting (MM-DD)")
    ax.spines[["top", "right"]].set_visible(False)
    return _png(figure)


def _img(chart: str, src: str, alt: str) -> str:
    return f'<img data-chart="{chart}" alt="{html.escape(alt)}" src="{src}">'


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Cells arrive escaped (they may hold markup of ours); headers are escaped here."""
    top = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{top}</tr></thead><tbody>{body}</tbody></table>"


def _gap_row(gap: Gap, titles: dict[str, str]) -> list[str]:
    text = (html.escape(gap.text) if gap.text is not None
            else '<span class="muted">text not kept</span>')
    offered = ", ".join(html.escape(titles.get(r, r)) for r in gap.routes) or "-"
    return [html.escape(gap.at.replace("T", " ")[:16]), html.escape(gap.platform),
            f'<span class="why">{html.escape(gap.why)}</span>', text, offered,
            html.escape(", ".join(gap.bottlenecks)) or "-"]


def _stale_row(card: StaleCard) -> list[str]:
    return [html.escape(card.title), f"<code>{html.escape(card.card_id)}</code>",
            html.escape(card.last_verified or "?"), str(card.citations)]


def _summary(report: Report) -> str:
    stats = (("questions", report.questions), ("declined", report.declined),
             ("asked to clarify", report.clarifying), ("helpful votes", report.helpful),
             ("not helpful votes", report.not_helpful), ("knowledge gaps", len(report.gaps)))
    return '<div class="summary">' + "".join(
        f'<div class="stat"><b>{n}</b>{html.escape(label)}</div>' for label, n in stats) + "</div>"


def _situation(report: Report) -> str:
    rows = [[html.escape(name), html.escape(", ".join(f"{k} ({n})" for k, n in counts)) or "-"]
            for name, counts in report.situation.items()]
    return _table(["asker said", "how often"], rows)


def render_page(report: Report, keep_question_text: str = "gaps") -> str:
    """The whole page as one string."""
    titles = report.titles
    weeks = report.weeks
    sections = [
        f"<h1>What researchers are blocked on</h1><p class=\"period\">AccessBot questions "
        f"{html.escape(report.since[:10])} to {html.escape(report.until[:10])}</p>",
        _summary(report),
        "<h2>Questions per bottleneck</h2>",
        _img("bottlenecks", bar_chart(report.bottlenecks, {}, "#3569a8"),
             "bar chart of questions per bottleneck"),
        "<h2>Routes offered</h2>",
        _img("routes", bar_chart(report.routes, titles, "#27ae60"),
             "bar chart of questions per route offered"),
        "<h2>Trends by week</h2>",
        _img("weeks", trend_chart(weeks), "questions, declined and not helpful per week"),
        _img("weekly-bottlenecks", weekly_bottleneck_chart(weeks, [b for b, _ in report.bottlenecks]),
             "bottlenecks per week"),
        f"<h2>Knowledge gaps ({len(report.gaps)})</h2><p>Questions AccessBot declined, or "
        "answered and a researcher voted Not helpful: what the knowledge base should cover "
        "next. <code>accessbot report --export-eval FILE</code> turns them into draft eval cases.</p>",
        _table(["asked (UTC)", "where", "why", "question", "routes offered", "bottlenecks"],
               [_gap_row(g, titles) for g in report.gaps]) if report.gaps
        else "<p class=\"muted\">No gaps in this period.</p>",
        "<h2>Stale cards cited most</h2>",
        _table(["card", "id", "last verified", "citations"],
               [_stale_row(c) for c in report.stale_cards]) if report.stale_cards
        else "<p class=\"muted\">No stale card was cited in this period.</p>",
        "<h2>Who asked</h2>", _situation(report),
        f"<footer>User ids are stored only as salted hashes. "
        f"{html.escape(TEXT_POLICY.get(keep_question_text, ''))} Votes not linked to a "
        f"question: {report.unlinked_helpful} helpful, {report.unlinked_not_helpful} not "
        f"helpful.</footer>",
    ]
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>AccessBot gap report {html.escape(report.until[:10])}</title>"
            f"<style>{STYLE}</style></head><body><main>{''.join(sections)}</main></body></html>\n")
