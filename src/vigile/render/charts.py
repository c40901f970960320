"""Charts drawn on the server as SVG: pure functions from numbers to markup, for the
console's pages and for the self-contained reports (breach record, demo) alike.

No script and no inline style (the console's CSP allows neither): colours come from
classes (``svg.chart .clear`` ...), geometry from SVG presentation attributes. The
console's stylesheet (``static/vigile.css``) styles the classes; a page that loads no
stylesheet puts :data:`STANDALONE_STYLE` in its ``<style>``. Every text and attribute
value from the data is escaped here, so a caller may mark the result safe. Each bar
carries its exact figure (``data-count`` and a ``<title>`` tooltip), which is also what
the tests read.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape

__all__ = [
    "STANDALONE_STYLE",
    "HourCounts",
    "SigninMark",
    "activity_timeline",
    "bar_chart",
    "daily_timeline",
    "largest_first",
]

#: The charts' look in a page without the console's stylesheet (the reports).
STANDALONE_STYLE = """\
svg.chart text { font-size: 11px; }
svg.chart.bars text { font-size: 12px; }
svg.chart .bar { fill: #3b6ea8; }
svg.chart .day { fill: #b3261e; }
svg.chart .axis { stroke: #444; }
svg.chart .clear { fill: #d92d20; }
svg.chart .masked { fill: #84adff; }
svg.chart .denied { fill: #98a2b3; }
svg.chart .anomaly { fill: #fef0c7; }
svg.chart .signin { fill: #101828; }
svg.chart .signin.failed polygon { fill: #b3261e; }
"""

_HOUR = timedelta(hours=1)
_KINDS = ("clear", "masked", "denied")  # stacked bottom to top


@dataclass(frozen=True, kw_only=True, slots=True)
class HourCounts:
    """An agent's accesses in one hour: data shown in clear, masked, or denied."""

    hour: datetime  # start of the hour (UTC)
    clear: int = 0
    masked: int = 0
    denied: int = 0

    @property
    def total(self) -> int:
        return self.clear + self.masked + self.denied


@dataclass(frozen=True, kw_only=True, slots=True)
class SigninMark:
    """A sign-in on the timeline, with the country it came from."""

    time: datetime
    country: str | None
    failed: bool = False


def _attrs(**values: object) -> str:
    """``name="value"`` pairs, escaped; ``class_`` -> ``class``, ``data_x`` -> ``data-x``."""
    return " ".join(
        f'{name.rstrip("_").replace("_", "-")}="{escape(str(value), quote=True)}"'
        for name, value in values.items()
    )


def _element(tag: str, title: str | None = None, text: str | None = None, **values: object) -> str:
    """One SVG element; ``title`` becomes its tooltip, ``text`` its content (escaped)."""
    inner = (f"<title>{escape(title)}</title>" if title else "") + escape(text or "")
    if not inner:
        return f"<{tag} {_attrs(**values)}/>"
    return f"<{tag} {_attrs(**values)}>{inner}</{tag}>"


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True, slots=True)
class _Frame:
    """Where the plot sits in the picture."""

    width: int
    height: int
    left: int = 40
    right: int = 10
    top: int = 44
    bottom: int = 24

    @property
    def plot_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom

    @property
    def base(self) -> int:
        return self.top + self.plot_height


def activity_timeline(
    *,
    start: datetime,
    hours: int,
    counts: Sequence[HourCounts],
    anomalous: Collection[datetime] = (),
    signins: Sequence[SigninMark] = (),
    width: int = 960,
    height: int = 240,
) -> str:
    """Accesses per hour from ``start`` (an hour boundary) for ``hours`` hours, stacked
    clear / masked / denied; ``anomalous`` hours shaded behind the bars; sign-ins marked
    above the plot with their countries."""
    frame = _Frame(width, height)
    slot = frame.plot_width / max(hours, 1)
    counts = [c for c in counts if 0 <= _index(start, c.hour) < hours]
    peak = max((c.total for c in counts), default=0) or 1
    parts = [
        _open(width, height, f"Accesses per hour over {hours} hours", "timeline"),
        *_shaded(frame, start, hours, slot, anomalous),
        *_y_axis(frame, peak),
        *_day_ticks(frame, start, hours, slot),
    ]
    for hour in counts:
        parts.extend(_stack(frame, start, hours, slot, peak=peak, hour=hour))
    parts.extend(_signins(frame, start, hours, slot, signins))
    parts.extend(_legend(frame))
    parts.append("</svg>")
    return "\n".join(parts)


def _open(width: int, height: int, label: str, kind: str) -> str:
    """The ``<svg>`` tag: classes ``chart`` and ``kind``; its own size, which a
    stylesheet may override (the console's charts take the width of their column)."""
    box = _attrs(
        class_=f"chart {kind}",
        viewBox=f"0 0 {width} {height}",
        width=width,
        height=height,
        role="img",
        aria_label=label,
    )
    return f'<svg xmlns="http://www.w3.org/2000/svg" {box}><title>{escape(label)}</title>'


def _index(start: datetime, moment: datetime) -> int:
    return int((moment - start) // _HOUR)


def _shaded(
    frame: _Frame, start: datetime, hours: int, slot: float, anomalous: Collection[datetime]
) -> list[str]:
    """One band per run of consecutive anomalous hours."""
    indexes = sorted({i for i in (_index(start, h) for h in anomalous) if 0 <= i < hours})
    runs: list[list[int]] = []
    for i in indexes:
        if runs and runs[-1][1] == i - 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return [
        _element(
            "rect",
            f"{_hour_label(start + a * _HOUR)} to {_hour_label(start + (b + 1) * _HOUR)}: "
            "anomalous",
            class_="anomaly",
            x=_num(frame.left + a * slot),
            y=frame.top,
            width=_num((b - a + 1) * slot),
            height=frame.plot_height,
            data_hours=b - a + 1,
        )
        for a, b in runs
    ]


def _y_axis(frame: _Frame, peak: int) -> list[str]:
    out = []
    for tick in sorted({0, peak // 2, peak}):
        y = _num(frame.base - frame.plot_height * tick / peak)
        right = frame.width - frame.right
        out.append(_element("line", class_="axis", x1=frame.left, x2=right, y1=y, y2=y))
        out.append(
            _element("text", text=str(tick), x=frame.left - 4, y=y, text_anchor="end",
                     dominant_baseline="middle")
        )  # fmt: skip
    return out


def _day_ticks(frame: _Frame, start: datetime, hours: int, slot: float) -> list[str]:
    first = start.replace(hour=0) + (timedelta(days=1) if start.hour else timedelta())
    days = [first + timedelta(days=d) for d in range(hours // 24 + 1)]
    days = [d for d in days if _index(start, d) < hours]
    every = max(1, -(-len(days) // 14))  # at most about 14 labels
    out = []
    for n, day in enumerate(days):
        x = _num(frame.left + _index(start, day) * slot)
        out.append(_element("line", class_="axis", x1=x, x2=x, y1=frame.top, y2=frame.base + 4))
        if n % every == 0:
            label = day.strftime("%b %d")
            out.append(_element("text", text=label, x=x, y=frame.base + 16, text_anchor="middle"))
    return out


def _stack(
    frame: _Frame, start: datetime, hours: int, slot: float, *, peak: int, hour: HourCounts
) -> list[str]:
    index = _index(start, hour.hour)
    if not 0 <= index < hours:
        return []
    x, width = frame.left + index * slot + slot * 0.1, max(slot * 0.8, 0.5)
    y = float(frame.base)
    out = []
    for kind in _KINDS:
        count = getattr(hour, kind)
        if not count:
            continue
        tall = frame.plot_height * count / peak
        y -= tall
        out.append(
            _element(
                "rect",
                f"{_hour_label(hour.hour)}: {count} {kind}",
                class_=kind,
                x=_num(x),
                y=_num(y),
                width=_num(width),
                height=_num(tall),
                data_hour=hour.hour.isoformat(),
                data_count=count,
            )
        )
    return out


def _signins(
    frame: _Frame, start: datetime, hours: int, slot: float, signins: Sequence[SigninMark]
) -> list[str]:
    """A triangle per sign-in above the plot; its country written unless the label would
    overlap the previous one (the tooltip always names it)."""
    out = []
    labelled = float("-inf")
    for mark in sorted(signins, key=lambda m: m.time):
        offset = (mark.time - start) / _HOUR
        if not 0 <= offset < hours:
            continue
        x = frame.left + offset * slot
        country = mark.country or "?"
        failed = " (failed)" if mark.failed else ""
        title = f"sign-in{failed} from {country} at {_hour_label(mark.time, minutes=True)}"
        tip, top = frame.top - 2, frame.top - 10
        points = f"{_num(x - 4)},{top} {_num(x + 4)},{top} {_num(x)},{tip}"
        group = _attrs(class_="signin failed" if mark.failed else "signin", data_country=country)
        label = ""
        if x - labelled >= 8 * len(country) + 6:
            labelled = x
            label = _element("text", text=country, x=_num(x), y=top - 3, text_anchor="middle")
        out.append(
            f"<g {group}><title>{escape(title)}</title>"
            + _element("polygon", points=points)
            + label
            + "</g>"
        )
    return out


_LEGEND = (
    ("clear", "sensitive data in clear"),
    ("masked", "masked or not sensitive"),
    ("denied", "denied"),
    ("anomaly", "anomalous hour"),
)


def _legend(frame: _Frame) -> list[str]:
    out = []
    x = frame.left
    for kind, label in _LEGEND:
        out.append(_element("rect", class_=kind, x=x, y=2, width=10, height=10))
        out.append(_element("text", text=label, x=x + 14, y=11))
        x += 24 + 6 * len(label)
    return out


def _hour_label(moment: datetime, *, minutes: bool = False) -> str:
    return moment.strftime("%Y-%m-%d %H:%M" if minutes else "%Y-%m-%d %H:00") + " UTC"


def bar_chart(items: Sequence[tuple[str, int]], *, label: str, width: int = 460) -> str:
    """Horizontal bars, one per ``(name, count)`` in the order given."""
    row, left, right = 22, 120, 50
    height = row * max(len(items), 1) + 8
    peak = max((count for _, count in items), default=0) or 1
    parts = [_open(width, height, label, "bars")]
    for n, (name, count) in enumerate(items):
        y = 4 + n * row
        length = (width - left - right) * count / peak
        parts.append(_element("text", text=name, x=left - 6, y=y + 14, text_anchor="end"))
        parts.append(
            _element("rect", f"{name}: {count}", class_="bar", x=left, y=y + 3,
                     width=_num(length), height=row - 8, data_label=name, data_count=count)
        )  # fmt: skip
        parts.append(_element("text", text=str(count), x=_num(left + length + 4), y=y + 14))
    parts.append("</svg>")
    return "\n".join(parts)


def largest_first(counts: Mapping[str, int], *, most: int | None = None) -> list[tuple[str, int]]:
    """``counts`` in the order of a bar chart: largest first, ties by name; the first
    ``most`` of them (all by default)."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:most]


def daily_timeline(
    daily: Sequence[tuple[date, int]], *, width: int = 720, height: int = 200
) -> str:
    """A bar per day, in the order given (a caller wanting gaps shown passes zero days);
    the first and last days and the peak written on the axis."""
    label = "Accesses per day"
    if not daily:
        return _open(0, 0, label, "days") + "</svg>"
    peak = max(count for _, count in daily) or 1
    left, bottom, top = 40, 30, 10
    base = height - bottom
    step = (width - left) / len(daily)
    first, last = daily[0][0].isoformat(), daily[-1][0].isoformat()
    parts = [
        _open(width, height, label, "days"),
        _element("line", class_="axis", x1=left, y1=base, x2=width, y2=base),
        _element("text", text=first, x=left, y=height - 10),
        _element("text", text=last, x=width, y=height - 10, text_anchor="end"),
        _element("text", text=str(peak), x=left - 6, y=top + 10, text_anchor="end"),
    ]
    for index, (day, count) in enumerate(daily):
        tall = (base - top) * count / peak
        parts.append(
            _element("rect", f"{day.isoformat()}: {count} accesses", class_="day",
                     x=_num(left + index * step), y=_num(base - tall),
                     width=_num(max(step - 2, 1)), height=_num(tall),
                     data_day=day.isoformat(), data_count=count)
        )  # fmt: skip
    parts.append("</svg>")
    return "\n".join(parts)
