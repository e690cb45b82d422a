"""`GET /reports/path` (#19 item 1, in part) on a records database seeded by real workflow runs (time-skipping
server): the figures checked against values worked out from the moments the test acted at."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.support.api import DOCS, Api, profile
from tests.support.office_hours import PARIS, working_day

STEP = "opportunity_study"


def working_days(start: datetime, end: datetime) -> int:
    """Worked out with the `holidays` package: working days after `start`'s day up to `end`'s day, in Paris."""
    day, last, count = start.astimezone(PARIS).date(), end.astimezone(PARIS).date(), 0
    while day < last:
        day += timedelta(days=1)
        count += working_day(day)
    return count


async def act(api: Api, who: str, path: str, body: object) -> datetime:
    answered = await api.call(who, "POST", path, body)
    assert answered.status_code in (200, 201), answered.text
    return await api.env.get_current_time()


async def test_days_per_step_loops_review_turnaround_and_funnel(api: Api) -> None:
    a, b = "edp-belfort", "edp-lyon"  # the `holder` and `other_holder` tokens' projects
    moments: dict[str, list[datetime]] = {}
    for project, waits in ((a, (10, 3, 5, 2)), (b, (20, 4))):
        started = await act(api, "coordinator", "/projects", profile(project, process="fnep"))
        moments[project] = [started]
        holder = "holder" if project == a else "other_holder"
        for index, days in enumerate(waits):
            await api.env.sleep(timedelta(days=days))
            body: object
            if index % 2 == 0:
                path, body, who = f"/projects/{project}/steps/{STEP}/submissions", DOCS, holder
            else:
                last = index == len(waits) - 1
                decision = {"decision": "approve"} if last else {"decision": "request_changes", "comment": "Chiffrer"}
                path, body, who = f"/projects/{project}/steps/{STEP}/decisions", decision, "reviewer"
            moments[project].append(await act(api, who, path, body))
    await api.history(a)
    await api.history(b)

    answered = await api.call("coordinator", "GET", "/reports/path?process=fnep")
    assert answered.status_code == 200, answered.text
    report = answered.json()
    [study] = [s for s in report["steps"] if s["step"] == STEP]
    t = moments[a]
    holder_a = ((t[1] - t[0]) + (t[3] - t[2])).total_seconds() / 86400  # about 10 + 5 days
    review_a = ((t[2] - t[1]) + (t[4] - t[3])).total_seconds() / 86400  # about 3 + 2 days
    u = moments[b]
    holder_b, review_b = (u[1] - u[0]).total_seconds() / 86400, (u[2] - u[1]).total_seconds() / 86400
    assert study["projects"] == 2
    assert study["holder_days"]["median"] == round((holder_a + holder_b) / 2, 2)
    assert study["review_days"]["median"] == round((review_a + review_b) / 2, 2)
    assert study["changes_per_project"] == 0.5
    assert study["on_time_rate"] == 1.0  # both submitted well before the six months
    turnarounds = [working_days(t[1], t[2]), working_days(t[3], t[4]), working_days(u[1], u[2])]
    assert study["review_within_10_working_days"] == round(sum(d <= 10 for d in turnarounds) / 3, 3)
    assert report["slowest_steps"][0] == STEP
    funnel = {row["stage"]: row for row in report["funnel"]}
    assert (funnel["opportunity"]["started"], funnel["opportunity"]["passed"]) == (2, 2)
    assert (funnel["association"]["started"], funnel["association"]["still_there"]) == (2, 2)

    other = await api.call("coordinator", "GET", f"/reports/path?process=fnep&year={t[0].year + 1}")
    assert other.json()["projects"] == 0  # filtered by the year of start
    refused = await api.call("coordinator", "GET", "/reports/path?process=inconnu")
    assert refused.status_code == 422 and "process" in refused.json()["detail"]
    assert (await api.call("holder", "GET", "/reports/path")).status_code == 403


async def test_paused_time_counts_for_neither_the_holder_nor_the_review(api: Api) -> None:
    project, path = "edp-belfort", f"/projects/edp-belfort/steps/{STEP}"
    started = await act(api, "coordinator", "/projects", profile(project, process="fnep"))
    pause = {"reason": "Attente du vote de la Région", "review_on": (started + timedelta(days=60)).date().isoformat()}
    moments = [started]
    for who, action, body, wait in (
        ("coordinator", f"/projects/{project}/pause", pause, 10),  # holder's clock: 10 days, then stopped
        ("coordinator", f"/projects/{project}/resume", {}, 30),  # 30 paused days count for nobody
        ("holder", f"{path}/submissions", DOCS, 5),  # holder's clock: 5 more days
        ("coordinator", f"/projects/{project}/pause", pause, 2),  # review's clock: 2 days, then stopped
        ("coordinator", f"/projects/{project}/resume", {}, 40),
        ("reviewer", f"{path}/decisions", {"decision": "approve"}, 3),  # review's clock: 3 more days
    ):
        await api.env.sleep(timedelta(days=wait))
        moments.append(await act(api, who, action, body))
    await api.history(project)

    report = (await api.call("coordinator", "GET", "/reports/path?process=fnep")).json()
    [study] = [s for s in report["steps"] if s["step"] == STEP]
    t = moments
    holder = ((t[1] - t[0]) + (t[3] - t[2])).total_seconds() / 86400  # about 10 + 5, not 45
    review = ((t[4] - t[3]) + (t[6] - t[5])).total_seconds() / 86400  # about 2 + 3, not 45
    assert study["holder_days"]["median"] == round(holder, 2)
    assert study["review_days"]["median"] == round(review, 2)
    assert 14 < holder < 16 and 4 < review < 6
    within = working_days(t[3], t[4]) + working_days(t[5], t[6]) <= 10  # about 4, not 31 with the pause
    assert study["review_within_10_working_days"] == (1.0 if within else 0.0)
