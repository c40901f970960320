"""The SVG charts on hand-built inputs: exact bars, bands and marks, escaping."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import pytest

from vigile.render.charts import (
    HourCounts,
    SigninMark,
    activity_timeline,
    bar_chart,
    daily_timeline,
    largest_first,
)

NS = "{http://www.w3.org/2000/svg}"
START = datetime(2021, 5, 16, tzinfo=UTC)


def _at(hours: float) -> datetime:
    return START + timedelta(hours=hours)


def _svg(markup: str) -> ET.Element:
    root = ET.fromstring(markup)  # well-formed XML, or this raises
    assert root.tag == f"{NS}svg"
    return root


def _bars(root: ET.Element) -> list[tuple[str, str, int, float]]:
    """(hour, kind, count, height) of every data bar, in drawing order."""
    return [
        (r.attrib["data-hour"], r.attrib["class"], int(r.attrib["data-count"]),
         float(r.attrib["height"]))
        for r in root.iter(f"{NS}rect")
        if "data-count" in r.attrib
    ]  # fmt: skip


def _timeline(**more: object) -> ET.Element:
    counts = [
        HourCounts(hour=_at(3), clear=2, masked=3, denied=1),
        HourCounts(hour=_at(5), masked=4),
        HourCounts(hour=_at(30), clear=9),  # outside the 24 hours drawn
    ]
    return _svg(activity_timeline(start=START, hours=24, counts=counts, **more))  # type: ignore[arg-type]


def test_bars_are_stacked_clear_masked_denied_with_exact_counts() -> None:
    bars = _bars(_timeline())
    assert [(hour[11:16], kind, count) for hour, kind, count, _ in bars] == [
        ("03:00", "clear", 2),
        ("03:00", "masked", 3),
        ("03:00", "denied", 1),
        ("05:00", "masked", 4),
    ]
    heights = {(hour[11:13], kind): height for hour, kind, _, height in bars}
    # one scale for all: the tallest stack drawn (6 accesses) fills the plot
    plot = 240 - 44 - 24  # the picture's height less its margins
    assert heights == pytest.approx(
        {
            ("03", "clear"): plot * 2 / 6,
            ("03", "masked"): plot * 3 / 6,
            ("03", "denied"): plot * 1 / 6,
            ("05", "masked"): plot * 4 / 6,
        },
        abs=0.01,
    )


def test_bars_sit_in_their_hour_slot() -> None:
    root = _timeline()
    xs = {
        r.attrib["data-hour"][11:13]: float(r.attrib["x"])
        for r in root.iter(f"{NS}rect")
        if "data-count" in r.attrib
    }
    slot = (960 - 40 - 10) / 24
    assert abs(xs["03"] - (40 + 3 * slot + slot * 0.1)) < 0.01
    assert abs(xs["05"] - xs["03"] - 2 * slot) < 0.02


def test_anomalous_hours_are_shaded_in_runs() -> None:
    root = _timeline(anomalous={_at(3), _at(4), _at(10), _at(99)})
    bands = [r for r in root.iter(f"{NS}rect") if "data-hours" in r.attrib]
    assert [(r.attrib["class"], r.attrib["data-hours"]) for r in bands] == [
        ("anomaly", "2"),
        ("anomaly", "1"),
    ]
    titles = [r.find(f"{NS}title").text for r in bands]  # type: ignore[union-attr]
    assert titles[0] == "2021-05-16 03:00 UTC to 2021-05-16 05:00 UTC: anomalous"


def test_signins_are_marked_with_their_country() -> None:
    root = _timeline(
        signins=[
            SigninMark(time=_at(2.8), country="SG"),
            SigninMark(time=_at(6.2), country=None, failed=True),
            SigninMark(time=_at(40), country="FR"),  # outside
        ]
    )
    marks = list(root.iter(f"{NS}g"))
    assert [(g.attrib["class"], g.attrib["data-country"]) for g in marks] == [
        ("signin", "SG"),
        ("signin failed", "?"),
    ]
    assert [g.find(f"{NS}text").text for g in marks] == ["SG", "?"]  # type: ignore[union-attr]


def test_a_country_label_that_would_overlap_the_previous_one_is_left_to_the_tooltip() -> None:
    root = _timeline(
        signins=[
            SigninMark(time=_at(2.5), country="NL"),
            SigninMark(time=_at(2.6), country="SG"),  # 4 px further: triangle and tooltip only
            SigninMark(time=_at(4), country="SG"),
        ]
    )
    marks = list(root.iter(f"{NS}g"))
    assert [g.attrib["data-country"] for g in marks] == ["NL", "SG", "SG"]
    labels = [getattr(g.find(f"{NS}text"), "text", None) for g in marks]
    assert labels == ["NL", None, "SG"]
    assert "from SG at 2021-05-16 02:36 UTC" in str(marks[1].find(f"{NS}title").text)  # type: ignore[union-attr]


def test_text_from_the_data_is_escaped() -> None:
    markup = activity_timeline(
        start=START,
        hours=24,
        counts=[],
        signins=[SigninMark(time=_at(1), country='<script>"x"</script>')],
    )
    assert "<script>" not in markup
    root = _svg(markup)
    [mark] = root.iter(f"{NS}g")
    assert mark.attrib["data-country"] == '<script>"x"</script>'
    bars = bar_chart([('a"b<c>', 1)], label="<tiers>")
    assert "<tiers>" not in bars
    assert "<c>" not in bars
    assert _svg(bars).attrib["aria-label"] == "<tiers>"


def test_an_empty_timeline_is_still_a_chart() -> None:
    root = _svg(activity_timeline(start=START, hours=48, counts=[]))
    assert _bars(root) == []
    days = [t.text for t in root.iter(f"{NS}text") if t.attrib.get("text-anchor") == "middle"]
    assert days == ["May 16", "May 17"]


def test_bar_chart_lengths_follow_the_counts() -> None:
    root = _svg(bar_chart([("enterprise", 12), ("smb", 5), ("government", 3)], label="tiers"))
    bars = [r for r in root.iter(f"{NS}rect") if "data-count" in r.attrib]
    assert [(r.attrib["data-label"], int(r.attrib["data-count"])) for r in bars] == [
        ("enterprise", 12),
        ("smb", 5),
        ("government", 3),
    ]
    widths = [float(r.attrib["width"]) for r in bars]
    assert widths[0] == 460 - 120 - 50  # the largest fills the row
    assert abs(widths[1] / widths[0] - 5 / 12) < 0.001
    assert _bars(_svg(bar_chart([], label="nothing"))) == []


def test_largest_first_orders_bars_by_count_then_name() -> None:
    counts = {"smb": 5, "government": 5, "enterprise": 12, "startup": 1}
    assert largest_first(counts) == [
        ("enterprise", 12),
        ("government", 5),
        ("smb", 5),
        ("startup", 1),
    ]
    assert largest_first(counts, most=2) == [("enterprise", 12), ("government", 5)]


def test_a_chart_has_its_own_size_and_says_what_it_is() -> None:
    root = _svg(bar_chart([("smb", 5)], label="tiers", width=360))
    assert (root.attrib["width"], root.attrib["height"]) == ("360", "30")
    assert root.attrib["viewBox"] == "0 0 360 30"
    assert root.attrib["class"] == "chart bars"
    assert root.find(f"{NS}title").text == "tiers"  # type: ignore[union-attr]


def _days(root: ET.Element) -> list[tuple[str, int, float]]:
    return [
        (r.attrib["data-day"], int(r.attrib["data-count"]), float(r.attrib["height"]))
        for r in root.iter(f"{NS}rect")
    ]


def test_daily_timeline_draws_a_bar_per_day_scaled_to_the_peak() -> None:
    daily = [(date(2021, 5, 20), 2), (date(2021, 5, 21), 0), (date(2021, 5, 22), 4)]
    root = _svg(daily_timeline(daily))
    assert root.attrib["class"] == "chart days"
    assert _days(root) == [
        ("2021-05-20", 2, 80.0),
        ("2021-05-21", 0, 0.0),
        ("2021-05-22", 4, 160.0),
    ]
    assert [t.text for t in root.iter(f"{NS}text")] == ["2021-05-20", "2021-05-22", "4"]
    titles = [r.find(f"{NS}title").text for r in root.iter(f"{NS}rect")]  # type: ignore[union-attr]
    assert titles[0] == "2021-05-20: 2 accesses"


def test_an_empty_daily_timeline_draws_nothing() -> None:
    markup = daily_timeline([])
    assert "<rect" not in markup
    assert _svg(markup).attrib["width"] == "0"
