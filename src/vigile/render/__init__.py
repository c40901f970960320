"""What the console, the reports, the notifications and the exports draw with: SVG
charts (:mod:`vigile.render.charts`), the one Jinja environment factory
(:mod:`vigile.render.templates`) and the one CSV writer, whose cells are never formulas
(:mod:`vigile.render.spreadsheet`). Pure markup; no domain logic, no I/O beyond reading
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
from vigile.render.spreadsheet import csv_cell, csv_text
from vigile.render.templates import template_environment

__all__ = [
    "STANDALONE_STYLE",
    "HourCounts",
    "SigninMark",
    "activity_timeline",
    "bar_chart",
    "csv_cell",
    "csv_text",
    "daily_timeline",
    "largest_first",
    "template_environment",
]
