"""`GET /reports/cohorts` (#19 item 2): cohorts recorded through real workflow runs, each school's outcomes and the
network's against the references; a school far below is flagged."""

from __future__ import annotations

from labellisation.contract import Update, workflow_id
from labellisation.path.commands import RecordCohort
from labellisation.path.state import Cohort
from labellisation.process import load_process
from tests.support.api import OTHER, PROJECT, Api, profile
from tests.support.demo_path import approve_stages
from tests.support.driver import ProjectDriver

GOOD = Cohort(label="2027-2029", enrolled=12, dropouts=2, presented=10, passed=10, positive_exits=9, job_offers=60)
WEAK = Cohort(label="2027-2029", enrolled=10, dropouts=0, presented=10, passed=6, positive_exits=5, job_offers=20)


async def test_each_school_and_the_network_against_the_references(api: Api) -> None:
    stages = load_process("demo").stages
    before_seeding = stages[: next(i for i, s in enumerate(stages) if s.id == "seeding")]
    for project_id, cohort in ((PROJECT, GOOD), (OTHER, WEAK)):
        assert (await api.call("coordinator", "POST", "/projects", profile(project_id))).status_code == 201
        project = ProjectDriver(api.env.client.get_workflow_handle(workflow_id(project_id)))
        await approve_stages(project, before_seeding)
        await project.update(Update.RECORD_COHORT, RecordCohort(actor="direction", cohort=cohort))
        await api.history(project_id)
    answered = await api.call("coordinator", "GET", "/reports/cohorts")
    assert answered.status_code == 200, answered.text
    report = answered.json()
    assert report["references"]["success_rate"] == 0.93 and "93 %" in report["references"]["source"]
    schools = {s["project_id"]: s for s in report["schools"]}
    good, weak = schools[PROJECT], schools[OTHER]
    assert good["outcomes"]["success_rate"] == 1.0  # 10 / 10
    assert good["outcomes"]["positive_exit_rate"] == 0.9  # 9 / (12 - 2)
    assert good["outcomes"]["job_offers_per_young"] == 6.0  # 60 / 10
    assert (good["success_rank"], weak["success_rank"]) == (1.0, 0.0)
    assert good["flags"] == []
    assert weak["flags"] == ["réussite au diplôme 60 % contre 93 % pour le réseau",
                             "2,0 offres d'emploi par jeune contre 5 pour le réseau"]  # fmt: skip
    network = report["network"]
    assert (network["presented"], network["passed"]) == (20, 16) and network["success_rate"] == 0.8
    assert network["job_offers_per_young"] == 4.0  # 80 / 20
    assert (await api.call("reviewer", "GET", "/reports/cohorts")).status_code == 403
