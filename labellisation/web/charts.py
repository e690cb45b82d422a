"""« Pilotage »'s charts, drawn on the server: pure geometry (no markup, no I/O) for `_charts.html.j2`.

Each function returns the coordinates of one chart in a viewBox `WIDTH` wide, its French one-sentence summary
(the SVG's accessible name; the table beside the chart carries the figures) and its French texts; or, without
data, only the French sentence saying so. Labels stay plain text here: the template escapes every one of them.
Rows put their label above the bar, so that a chart keeps a readable size on a phone's width.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from labellisation.records.cohorts import CohortReport, Outcomes
from labellisation.records.path_report import RegionOnTime, Spread, StageFunnel, StepFigures

WIDTH = 400
LEFT = 12
#: Bars end at LEFT + PLOT at most, their values written at the right edge; box plots leave room for two words.
PLOT = 300
BOX_PLOT = 268
ROW = 38
BOX_ROW = 18
#: Longer labels are cut in the drawing (whole in the table beside it).
LABEL_CHARS = 50
NO_DATA = "Pas encore de données"
#: An axis ends at one of these times a power of ten, with a tick every so many.
NICE = {1: 0.2, 1.5: 0.5, 2: 0.5, 2.5: 0.5, 3: 1.0, 4: 1.0, 5: 1.0, 6: 2.0, 8: 2.0, 10: 2.0}


@dataclass(frozen=True)
class Bar:
    css: str
    x: float
    width: float
    text: str


@dataclass(frozen=True)
class BarRow:
    label: str
    y: float
    bars: tuple[Bar, ...]
    #: Written at the chart's right edge.
    value: str
    strong: bool = False


@dataclass(frozen=True)
class Tick:
    x: float
    text: str


@dataclass(frozen=True)
class Whisker:
    q1: float
    median: float
    q3: float
    p90: float


@dataclass(frozen=True)
class Box:
    css: str
    y: float
    text: str
    shape: Whisker | None


@dataclass(frozen=True)
class BoxGroup:
    label: str
    y: float
    boxes: tuple[Box, ...]


@dataclass(frozen=True)
class Chart:
    """One chart: `rows` (bars) or `groups` (box plots), `ticks` under them, `reference` a vertical line."""

    ident: str
    summary: str
    height: float = 0
    top: float = 0
    bottom: float = 0
    rows: tuple[BarRow, ...] = ()
    groups: tuple[BoxGroup, ...] = ()
    ticks: tuple[Tick, ...] = ()
    legend: tuple[tuple[str, str], ...] = ()
    reference: Tick | None = None
    empty: str | None = None
    width: int = WIDTH
    left: int = LEFT


def number(value: float, decimals: int = 1) -> str:
    """French: "12,5"; "12" rather than "12,0"."""
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{value:.0f}"
    return text.replace(".", ",")


def days(value: float) -> str:
    """French: "1 jour", "0,5 jour", "12,5 jours"."""
    return f"{number(value)} jour{'s' if value >= 2 else ''}"


def percent(rate: float) -> str:
    return f"{round(rate * 100)} %"


def short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


def nice_scale(highest: float, whole: bool = False) -> tuple[float, list[float]]:
    """The axis's end (one of `NICE` times a power of ten, at least `highest`) and its ticks from 0; counting
    `whole` things up to 5, each one a tick."""
    if highest <= 0:
        return 1.0, [0.0, 0.5, 1.0]
    if whole and highest <= 5:
        return float(math.ceil(highest)), [float(i) for i in range(math.ceil(highest) + 1)]
    power = 10 ** math.floor(math.log10(highest))
    times = next(m for m in NICE if m * power >= highest - 1e-9)
    top, step = round(times * power, 9), NICE[times] * power
    return top, [round(i * step, 6) for i in range(round(top / step) + 1)]


def _x(value: float, top: float, plot: float = PLOT) -> float:
    return round(LEFT + value / top * plot, 1)


def _ticks(values: list[float], top: float, text: Callable[[float], str], plot: float = PLOT) -> tuple[Tick, ...]:
    return tuple(Tick(_x(v, top, plot), text(v)) for v in values)


RATE_TICKS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _plural(count: int, one: str, more: str | None = None) -> str:
    return f"{count} {one if count <= 1 else more or one + 's'}"


def _bars(
    ident: str, summary: str, rows: list[BarRow], start: float, ticks: tuple[Tick, ...],
    legend: tuple[tuple[str, str], ...] = (), reference: Tick | None = None,
) -> Chart:  # fmt: skip
    """A chart of `rows` under a margin of `start` (room for a reference's words), ticks below."""
    bottom = start + ROW * len(rows) + 4
    return Chart(ident, summary, bottom + 20, start, bottom, tuple(rows), (), ticks, legend, reference)


def _value_rows(items: Sequence[tuple[str, float | None, str, str]], top: float, start: float) -> list[BarRow]:
    """One bar per (label, value or None: no bar, the value in words, the bar's tooltip) on 0 to `top`."""
    rows = []
    for i, (label, value, words, tooltip) in enumerate(items):
        bars = (Bar("graphique-barre", LEFT, round(_x(value, top) - LEFT, 1), tooltip),) if value else ()
        rows.append(BarRow(short(label), start + ROW * i, bars, words))
    return rows


FUNNEL_PARTS = (("passed", "graphique-franchie", "franchie"), ("still_there", "graphique-en-cours", "en cours"),
                ("abandoned", "graphique-abandon", "abandon"), ("rejected", "graphique-rejet", "rejet"))  # fmt: skip


def funnel_chart(stages: Sequence[tuple[str, StageFunnel]]) -> Chart:
    """Per stage, a bar as long as the projects that started it, split into passed, still there, abandoned,
    rejected."""
    started = [(label, f) for label, f in stages if f.started]
    if not started:
        return Chart("graphique-entonnoir", NO_DATA, empty=f"{NO_DATA} : aucun projet n'a encore commencé de phase.")
    top, ticks = nice_scale(max(f.started for _, f in started), whole=True)
    rows = []
    for i, (label, f) in enumerate(stages):
        bars, at = [], 0
        for field, css, word in FUNNEL_PARTS:
            count = int(getattr(f, field))
            if count:
                left = _x(at, top)
                bars.append(
                    Bar(css, left, round(_x(at + count, top) - left, 1), f"{_plural(count, 'projet')} : {word}")
                )
            at += count
        value = _plural(f.started, "projet")
        rows.append(BarRow(short(label), 4 + ROW * i, tuple(bars), value))
    (first, head), (last, tail) = started[0], stages[-1]
    passed = "aucun n'a franchi" if not tail.passed else f"{tail.passed} {'a' if tail.passed == 1 else 'ont'} franchi"
    summary = (
        "Entonnoir en barres empilées, les projets de chaque phase : franchie, en cours, abandons, rejets ; "
        f"{_plural(head.started, 'projet')} {'a' if head.started == 1 else 'ont'} commencé « {first} », "
        f"{passed} « {last} ». Les chiffres sont dans le tableau qui suit."
    )
    legend = tuple((css, word) for _, css, word in FUNNEL_PARTS)
    return _bars("graphique-entonnoir", summary, rows, 4, ticks=_ticks(ticks, top, number), legend=legend)


def _whisker(s: Spread, top: float) -> Whisker | None:
    if s.median is None or s.q1 is None or s.q3 is None or s.p90 is None:
        return None
    return Whisker(*(_x(v, top, BOX_PLOT) for v in (s.q1, s.median, s.q3, s.p90)))


def steps_chart(steps: Sequence[tuple[str, StepFigures]]) -> Chart:
    """Per step, two box plots on one scale of days: the holder's time and the review's (quartiles, median,
    a whisker to the 90th percentile)."""
    measured = [(label, f) for label, f in steps if f.holder_days.count or f.review_days.count]
    if not measured:
        return Chart("graphique-etapes", NO_DATA, empty=f"{NO_DATA} : aucune étape n'a encore été soumise.")
    top, ticks = nice_scale(max(s.p90 or 0 for _, f in measured for s in (f.holder_days, f.review_days)))
    group = 20 + 2 * BOX_ROW + 8
    groups = []
    for i, (label, f) in enumerate(measured):
        y = 4 + group * i
        boxes = []
        for j, (css, who, s) in enumerate((("graphique-porteur", "porteur", f.holder_days),
                                           ("graphique-relecture", "relecture", f.review_days))):  # fmt: skip
            text = f"{who} {number(s.median)} j" if s.median is not None else f"{who} —"
            boxes.append(Box(css, y + 20 + BOX_ROW * j, text, _whisker(s, top)))
        groups.append(BoxGroup(short(label), y, tuple(boxes)))
    slowest_label, slowest = max(measured, key=lambda m: m[1].holder_days.median or 0)
    summary = (
        "Jours par étape en boîtes à moustaches, le temps du porteur et celui de la relecture à part (médiane, "
        f"quartiles, 9 sur 10 sous la moustache) ; le porteur met le plus de temps sur « {slowest_label} », "
        f"{days(slowest.holder_days.median or 0)} en médiane. Les chiffres sont dans le tableau qui suit."
    )
    bottom = 4 + group * len(measured)
    legend = (("graphique-porteur", "jours du porteur"), ("graphique-relecture", "jours de relecture"))
    return Chart(
        "graphique-etapes", summary, height=bottom + 20, top=4, bottom=bottom, groups=tuple(groups),
        ticks=_ticks(ticks, top, lambda v: f"{number(v)} j", BOX_PLOT), legend=legend,
    )  # fmt: skip


def region_chart(regions: Sequence[tuple[str, RegionOnTime]]) -> Chart:
    """Per region (its French name first), the share of its approved steps submitted on time, on 0 to 100 %."""
    rated = [(name, r.on_time_rate) for name, r in regions if r.on_time_rate is not None]
    if not rated:
        return Chart("graphique-regions", NO_DATA, empty=f"{NO_DATA} : aucune étape n'a encore été approuvée.")
    (low, lowest), (high, highest) = min(rated, key=_rate), max(rated, key=_rate)
    span = (
        f"{percent(highest or 0)} en {high}" if len(rated) == 1
        else f"de {percent(lowest or 0)} ({low}) à {percent(highest or 0)} ({high})"
    )  # fmt: skip
    summary = f"Étapes approuvées à l'heure par région, en barres : {span}. Les chiffres sont dans le tableau qui suit."
    approved = [_plural(r.approved, "étape approuvée", "étapes approuvées") for _, r in regions]
    items = [
        (name, r.on_time_rate, _rate_words(r.on_time_rate), a) for (name, r), a in zip(regions, approved, strict=True)
    ]
    return _bars("graphique-regions", summary, _value_rows(items, 1, 4), 4, ticks=_ticks(list(RATE_TICKS), 1, percent))


def _rate(item: tuple[str, float | None]) -> float:
    return item[1] or 0.0


def _rate_words(rate: float | None) -> str:
    return "—" if rate is None else percent(rate)


def _offers_words(offers: float | None) -> str:
    return "—" if offers is None else number(offers)


def cohort_charts(report: CohortReport) -> tuple[Chart, Chart]:
    """Success at the diploma and job offers per young person, per school and for the network (last, in bold),
    each against the network's reference (a dashed line)."""
    if not report.schools:
        empty = f"{NO_DATA} : aucune cohorte n'est encore enregistrée."
        return Chart("graphique-reussite", NO_DATA, empty=empty), Chart("graphique-offres", NO_DATA, empty=empty)
    ref, network = report.references, report.network
    every: list[tuple[str, Outcomes]] = [(s.name, s.outcomes) for s in report.schools] + [("Réseau", network)]
    rates = [(name, o.success_rate, _rate_words(o.success_rate), f"{o.passed} sur {o.presented}") for name, o in every]
    success = _bars(
        "graphique-reussite",
        f"Réussite au diplôme par école et pour le réseau, en barres, face à la référence de "
        f"{percent(ref.success_rate)} : le réseau est à {_rate_words(network.success_rate)}. "
        "Les chiffres sont dans le tableau qui suit.",
        _strong_last(_value_rows(rates, 1, 24)), 24, ticks=_ticks(list(RATE_TICKS), 1, percent),
        reference=Tick(_x(ref.success_rate, 1), f"référence {percent(ref.success_rate)}"),
    )  # fmt: skip
    top, ticks = nice_scale(max([ref.job_offers_per_young] + [o.job_offers_per_young or 0 for _, o in every]))
    offers = [(name, o.job_offers_per_young, _offers_words(o.job_offers_per_young), _plural(o.job_offers, "offre"))
              for name, o in every]  # fmt: skip
    jobs = _bars(
        "graphique-offres",
        "Offres d'emploi par jeune, par école et pour le réseau, en barres, face à la référence de "
        f"{number(ref.job_offers_per_young)} : le réseau est à {_offers_words(network.job_offers_per_young)}. "
        "Les chiffres sont dans le tableau qui suit.",
        _strong_last(_value_rows(offers, top, 24)), 24, ticks=_ticks(ticks, top, number),
        reference=Tick(_x(ref.job_offers_per_young, top), f"référence {number(ref.job_offers_per_young)}"),
    )  # fmt: skip
    return success, jobs


def _strong_last(rows: list[BarRow]) -> list[BarRow]:
    """The network's row, last, in bold."""
    return [*rows[:-1], replace(rows[-1], strong=True)] if rows else rows
