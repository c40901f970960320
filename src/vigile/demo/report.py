"""The demo's report: one self-contained HTML page (inline CSS and SVG, nothing loaded
from anywhere) telling the story, what the broker refused the attacker, detection with its
reasons, the incident's blast radius, the notification previews, the remediation plan and
the ledger's verification.

No clear contact address reaches the page: the previews' text is shown with every e-mail
address masked, as the broker masks it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from markupsafe import Markup

from vigile.demo.phishing import PhishingRound
from vigile.demo.story import DemoRun, serious
from vigile.errors import OutputError
from vigile.model.times import format_rfc3339, from_micros
from vigile.policy import mask_value
from vigile.render.charts import STANDALONE_STYLE, bar_chart, daily_timeline, largest_first
from vigile.render.templates import template_environment

__all__ = ["mask_addresses", "render_report", "write_report"]

_TEMPLATES = Path(__file__).parent / "templates"
_ADDRESS = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_SHOWN_ACTIONS = 12  # remediation actions listed in the page (all are in the JSON)
_SHOWN_BARS = 12  # the largest groups of a bar chart


def mask_addresses(text: str) -> str:
    """``text`` with every e-mail address masked (``a***@example.org``)."""
    return _ADDRESS.sub(lambda m: mask_value("contact.email", m.group(0)) or "", text)


def render_report(run: DemoRun) -> str:
    """The report as one HTML page."""
    template = template_environment(_TEMPLATES).get_template("demo.html.j2")
    return template.render(**_context(run))


def write_report(run: DemoRun) -> Path:
    """Write the report to ``run.report``."""
    try:
        run.report.write_text(render_report(run), encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"{run.report}: cannot write the report: {exc.strerror}") from exc
    return run.report


def _context(run: DemoRun) -> dict[str, Any]:
    outcome = run.outcome
    attack = (run.truth.get("attacks") or [{}])[0]
    response = run.response
    context: dict[str, Any] = {
        "run": run,
        "attack": attack,
        "summary": run.truth.get("summary", {}),
        "broker": outcome.to_json(),
        "first": format_rfc3339(from_micros(outcome.first_us)) if outcome.first_us else "",
        "last": format_rfc3339(from_micros(outcome.last_us)) if outcome.last_us else "",
        "outcomes": _by_outcome(outcome.by_action),
        "alerts": serious(list(run.alerts)),
        "compromised": set(run.compromised),
        "response": response,
        "previews": [],
        "actions": [],
        "charts": {},
        "chart_style": Markup(STANDALONE_STYLE),  # noqa: S704 - a constant
        "ledger": run.ledger,
        "seconds": {k: f"{v:.1f}" for k, v in run.timings.items()},
        "streaming": run.to_json()["streaming"],
    }
    if response is not None:
        summary = response.radius.summary
        context["charts"] = {
            "tier": _bars(summary.by_tier, label="Customers by tier"),
            "country": _bars(summary.by_country, label="Customers by country"),
            "timeline": Markup(daily_timeline(response.record.daily_accesses)),  # noqa: S704
        }
        context["previews"] = _one_per_language(response.previews)
        context["phishing"] = _phishing(response.phishing)
        context["actions"] = list(response.plan[:_SHOWN_ACTIONS])
        context["by_kind"] = dict(Counter(a.kind.value for a in response.plan))
    return context


def _bars(counts: Mapping[str, int], *, label: str) -> Markup:
    """The largest groups as bars (nothing when there are none)."""
    if not counts:
        return Markup()
    chart = bar_chart(largest_first(counts, most=_SHOWN_BARS), label=label, width=360)
    return Markup(chart)  # noqa: S704 - vigile.render.charts escapes every value


def _by_outcome(by_action: tuple[tuple[str, str, int], ...]) -> list[dict[str, Any]]:
    """One row per action: how many allowed masked, revealed, denied."""
    rows: dict[str, dict[str, Any]] = {}
    for action, outcome, count in by_action:
        row = rows.setdefault(action, {"action": action})
        row[outcome] = row.get(outcome, 0) + count
    return [rows[a] for a in sorted(rows)]


def _phishing(checked: PhishingRound | None) -> dict[str, Any] | None:
    """The round's messages for the page, every address masked."""
    if checked is None:
        return None
    return {
        "round": checked,
        "messages": [
            {
                "kind": m.kind,
                "recipient": mask_addresses(m.recipient),
                "sender": mask_addresses(m.verdict.sender)
                if m.kind == "genuine"
                else m.verdict.sender,
                "subject": mask_addresses(m.verdict.subject),
                "verdict": m.verdict.verdict,
                "score": m.verdict.score,
                "reasons": [(s.weight, mask_addresses(s.reason)) for s in m.verdict.signals],
            }
            for m in checked.messages
        ],
    }


def _one_per_language(previews: tuple[Any, ...]) -> list[dict[str, str]]:
    chosen: dict[str, dict[str, str]] = {}
    for preview in previews:
        if preview.language not in chosen:
            chosen[preview.language] = {
                "language": preview.language,
                "customer": preview.customer,
                "file": preview.path.name,
                "subject": mask_addresses(preview.subject),
                "text": mask_addresses(preview.text),
            }
    return [chosen[k] for k in sorted(chosen)]
