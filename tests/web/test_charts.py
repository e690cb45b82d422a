"""« Pilotage »'s charts (labellisation/web/charts.py): the geometry a reader sees (bar lengths, box positions on a
known scale), the French texts, the sentence without data, and labels escaped once drawn (_charts.html.j2)."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from labellisation.records.cohorts import CohortReport, Outcomes, References, SchoolOutcomes
from labellisation.records.path_report import RegionOnTime, Spread, StageFunnel, StepFigures
from labellisation.web.charts import (
    LEFT,
    PLOT,
    Chart,
    cohort_charts,
    funnel_chart,
    nice_scale,
    number,
    region_chart,
    steps_chart,
)
from labellisation.web.pages import _environment


def draw(macro: str, chart: Chart) -> str:
    drawn: Markup = getattr(_environment().get_template("_charts.html.j2").module, macro)(chart)
    return str(drawn)


def stage(started: int, passed: int, still: int = 0, abandoned: int = 0, rejected: int = 0) -> StageFunnel:
    return StageFunnel(stage="s", started=started, still_there=still, passed=passed, abandoned=abandoned,
                       rejected=rejected)  # fmt: skip


def step(holder: Spread, review: Spread) -> StepFigures:
    return StepFigures(step="s", projects=4, holder_days=holder, review_days=review, on_time_rate=None,
                       changes_per_project=None, review_within_10_working_days=None,
                       review_within_20_working_days=None)  # fmt: skip


def outcomes(passed: int, presented: int, offers: int, young: int) -> Outcomes:
    return Outcomes(cohorts=1, enrolled=young, dropouts=0, presented=presented, passed=passed, positive_exits=0,
                    job_offers=offers, success_rate=round(passed / presented, 3), positive_exit_rate=None,
                    job_offers_per_young=round(offers / young, 2))  # fmt: skip


def cohorts(*schools: tuple[str, Outcomes], network: Outcomes) -> CohortReport:
    return CohortReport(
        references=References(success_rate=0.93, job_offers_per_young=5, source="FNEP"), network=network,
        schools=[SchoolOutcomes(project_id=f"p{i}", name=name, outcomes=o, success_rank=None, flags=[])
                 for i, (name, o) in enumerate(schools)],
    )  # fmt: skip


def widths(chart: Chart) -> list[list[tuple[str, float]]]:
    return [[(bar.css, bar.width) for bar in row.bars] for row in chart.rows]


def test_a_stage_half_passed_draws_its_passed_part_half_as_long_as_its_bar() -> None:
    chart = funnel_chart(
        [("Émergence", stage(6, passed=3, still=2, rejected=1)), ("Ouverture", stage(3, passed=0, still=3))]
    )
    (passed, still, rejected), (later,) = chart.rows[0].bars, chart.rows[1].bars
    assert (
        passed.css == "graphique-franchie" and still.css == "graphique-en-cours" and rejected.css == "graphique-rejet"
    )
    whole = passed.width + still.width + rejected.width
    assert passed.width == whole / 2 and whole == PLOT and later.width == PLOT / 2
    assert (passed.x, still.x, rejected.x) == (LEFT, LEFT + PLOT / 2, LEFT + PLOT * 5 / 6)
    assert [t.text for t in chart.ticks] == ["0", "2", "4", "6"]
    assert [r.value for r in chart.rows] == ["6 projets", "3 projets"]
    assert passed.text == "3 projets : franchie" and chart.legend[3] == ("graphique-rejet", "rejet")
    assert "6 projets ont commencé « Émergence », aucun n'a franchi « Ouverture »" in chart.summary
    html = draw("bar_chart", chart)
    assert 'role="img" aria-labelledby="graphique-entonnoir-titre"' in html and "aria-hidden" not in html
    assert f'<title id="graphique-entonnoir-titre">{escape(chart.summary)}</title>' in html
    assert (
        '<rect class="graphique-franchie" x="12.0" y="22" width="150.0" height="14"><title>3 projets : franchie</title>'
        in html
    )


def test_box_plots_put_quartiles_median_and_whisker_on_one_scale_of_days() -> None:
    holder = Spread(count=5, median=10, q1=5, q3=20, p90=38)  # the scale ends at 40 days: 1 day is 268 / 40
    chart = steps_chart([("Étude d'opportunité", step(holder, Spread(count=2, median=2.5, q1=2, q3=4, p90=4)))])
    (group,) = chart.groups
    porteur, relecture = group.boxes
    assert porteur.shape is not None and relecture.shape is not None
    day = 268 / 40
    at = [round(LEFT + days * day, 1) for days in (5, 10, 20, 38)]
    assert [porteur.shape.q1, porteur.shape.median, porteur.shape.q3, porteur.shape.p90] == at
    assert porteur.y < relecture.y and relecture.shape.median == round(LEFT + 2.5 * day, 1)
    assert (porteur.text, relecture.text) == ("porteur 10 j", "relecture 2,5 j")
    assert [t.text for t in chart.ticks] == ["0 j", "10 j", "20 j", "30 j", "40 j"]
    assert "« Étude d'opportunité », 10 jours en médiane" in chart.summary
    html = draw("box_chart", chart)
    assert '<rect class="graphique-porteur" x="45.5" y="24" width="100.5" height="14"/>' in html
    assert "relecture 2,5 j" in html and "Étude d&#39;opportunité" in html


def test_a_step_without_review_yet_has_its_holder_box_and_a_dash_for_review() -> None:
    chart = steps_chart([("Étude", step(Spread(count=1, median=3, q1=3, q3=3, p90=3), Spread(count=0)))])
    porteur, relecture = chart.groups[0].boxes
    assert porteur.shape is not None and relecture.shape is None and relecture.text == "relecture —"


def test_on_time_by_region_draws_rates_on_0_to_100_percent() -> None:
    chart = region_chart([("Bretagne", RegionOnTime(region="bretagne", approved=4, on_time_rate=0.25)),
                          ("Grand Est", RegionOnTime(region="grand-est", approved=2, on_time_rate=1.0))])  # fmt: skip
    assert widths(chart) == [[("graphique-barre", PLOT / 4)], [("graphique-barre", PLOT)]]
    assert [r.value for r in chart.rows] == ["25 %", "100 %"]
    assert [t.text for t in chart.ticks] == ["0 %", "25 %", "50 %", "75 %", "100 %"]
    assert "de 25 % (Bretagne) à 100 % (Grand Est)" in chart.summary
    assert chart.rows[0].bars[0].text == "4 étapes approuvées"


def test_cohorts_stand_against_the_reference_and_the_network_comes_last_in_bold() -> None:
    report = cohorts(("Belfort", outcomes(6, 10, 20, 10)), network=outcomes(6, 10, 20, 10))
    success, offers = cohort_charts(report)
    assert [(r.label, r.value, r.strong) for r in success.rows] == [
        ("Belfort", "60 %", False),
        ("Réseau", "60 %", True),
    ]
    assert success.reference is not None and success.reference.x == round(LEFT + 0.93 * PLOT, 1)
    assert success.reference.text == "référence 93 %" and "le réseau est à 60 %" in success.summary
    assert offers.reference is not None and offers.reference.text == "référence 5"
    assert [r.value for r in offers.rows] == ["2", "2"]
    assert offers.rows[0].bars[0].width == PLOT * 2 / 5 and offers.reference.x == LEFT + PLOT  # 2 offers of 5
    assert 'class="graphique-etiquette graphique-fort"' in draw("bar_chart", success)


def test_a_school_name_is_escaped_in_the_drawing() -> None:
    report = cohorts(("<script>alert(1)</script> & fils", outcomes(9, 10, 50, 10)), network=outcomes(9, 10, 50, 10))
    html = draw("bar_chart", cohort_charts(report)[0])
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; fils" in html


def test_without_data_a_chart_says_so_in_french_instead_of_an_empty_drawing() -> None:
    empty: list[Any] = []
    for chart in (funnel_chart([("Émergence", stage(0, 0))]), steps_chart(empty), region_chart(empty),
                  *cohort_charts(cohorts(network=outcomes(0, 1, 0, 1)))):  # fmt: skip
        assert chart.empty is not None and chart.empty.startswith("Pas encore de données : ")
        html = draw("bar_chart", chart)
        assert "<svg" not in html and f'<p class="graphique-vide">{escape(chart.empty)}</p>' in html


def test_french_numbers_and_round_axes() -> None:
    assert (number(12.5), number(12.0), number(0.25, 2)) == ("12,5", "12", "0,25")
    assert nice_scale(55) == (60, [0, 20, 40, 60]) and nice_scale(3, whole=True) == (3, [0, 1, 2, 3])
    assert nice_scale(0.3)[0] == 0.3 and nice_scale(0) == (1, [0, 0.5, 1])
