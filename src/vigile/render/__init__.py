"""What the console, the reports and the notifications draw with: SVG charts
(:mod:`vigile.render.charts`) and the one Jinja environment factory
(:mod:`vigile.render.templates`). Pure markup; no domain logic, no I/O beyond reading
templates."""

from vigile.render.charts import (
    STANDALONE_STYLE,
    HourCounts,
    SigninMark,
    activity_timeline,
    bar_chart,
    daily_timeline,
    largest_first,
)
from vigile.render.templates import template_environment

__all__ = [
    "STANDALONE_STYLE",
    "HourCounts",
    "SigninMark",
    "activity_timeline",
    "bar_chart",
    "daily_timeline",
    "largest_first",
    "template_environment",
]
