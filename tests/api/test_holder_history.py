"""A holder reads only the events meant for them (#18 item 4): not the reviewers' reminders or escalations, not a
refused signal, no reviewer's address; the coordinator still reads everything."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from labellisation.contract import SIGNAL_DECIDE, workflow_id
from labellisation.path.commands import DecideStep
from tests.support.api import DOCS, PROJECT, Api, profile

STEP = "opportunity_study"


async def test_the_holders_history_leaves_out_what_is_not_theirs(api: Api) -> None:
    assert (await api.call("coordinator", "POST", "/projects", profile())).status_code == 201
    submitted = await api.call("holder", "POST", f"/projects/{PROJECT}/steps/{STEP}/submissions", DOCS)
    assert submitted.status_code == 200, submitted.text
    await api.env.sleep(timedelta(seconds=45))  # demo: the reviewers' reminder (20 s), then its escalation (40 s)
    handle = api.env.client.get_workflow_handle(workflow_id(PROJECT))
    await handle.signal(SIGNAL_DECIDE, DecideStep(actor="intrus@fnep.fr", step="association", decision="approve"))
    decided = await api.call("reviewer", "POST", f"/projects/{PROJECT}/steps/{STEP}/decisions",
                             {"decision": "approve"})  # fmt: skip
    assert decided.status_code == 200, decided.text
    everything = await api.history()
    for _ in range(50):
        kinds = [e["kind"] for e in everything]
        if "signal_refused" in kinds:
            break
        await asyncio.sleep(0.1)
        everything = await api.history()

    reminders = {e["data"]["kind"] for e in everything if e["kind"] == "reminder_sent"}
    assert {"review_pending", "review_escalation"} <= reminders, reminders  # the coordinator reads them
    assert "signal_refused" in [e["kind"] for e in everything]
    mine = await api.call("holder", "GET", f"/projects/{PROJECT}/history")
    assert mine.status_code == 200
    events = mine.json()
    assert not [e for e in events if e["kind"] in ("signal_refused",)]
    assert not [e for e in events if e["kind"] == "reminder_sent" and e["data"]["kind"].startswith("review")]
    assert "romain@fnep.fr" not in mine.text and "intrus@fnep.fr" not in mine.text
    [approval] = [e for e in events if e["kind"] == "step_approved"]
    assert approval["actor"] == "Romain Relecteur"
    [submission] = [e for e in events if e["kind"] == "step_submitted"]
    assert "paul@edp-belfort.fr" in submission["actor"]  # their own address stays
    assert len(events) < len(everything)
