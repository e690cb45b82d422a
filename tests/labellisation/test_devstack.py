"""`labellisation dev` as a user runs it: a real subprocess, real Temporal dev server."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.client import Client

from labellisation.contract import QUERY_STATUS, TASK_QUEUE, WORKFLOW_NAME, StartProject, Update, workflow_id
from labellisation.devstack import DevOptions, _banner, _first_start, free_port
from labellisation.path.commands import DecideStep, SubmitStep
from labellisation.path.state import StepStatus
from labellisation.path.status import ProjectStatus
from tests.support.driver import DOCUMENT
from tests.support.launcher import LAUNCHER, Launcher
from tests.support.profiles import make_profile


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Launcher]:
    started = Launcher(tmp_path / "data")
    yield started
    started.kill()


async def status_of(client: Client, project_id: str) -> ProjectStatus:
    status: ProjectStatus = await client.get_workflow_handle(workflow_id(project_id)).query(
        QUERY_STATUS, result_type=ProjectStatus
    )
    return status


async def visible_in_stage(client: Client, stage: str, wid: str) -> bool:
    for _ in range(40):
        found = [w.id async for w in client.list_workflows(f'SchoolStage = "{stage}"')]
        if wid in found:
            return True
        await asyncio.sleep(0.25)
    return False


async def test_dev_stack_finds_projects_by_stage_and_resumes_them_after_a_restart(launcher: Launcher) -> None:
    profile = make_profile()
    wid = workflow_id(profile.project_id)
    launcher.start()
    client = await launcher.client()
    handle = await client.start_workflow(
        WORKFLOW_NAME, StartProject(profile=profile, process_id="demo"), id=wid, task_queue=TASK_QUEUE
    )
    submit = SubmitStep(actor="porteur", step="opportunity_study", documents=[DOCUMENT])
    await handle.execute_update(Update.SUBMIT, submit, result_type=ProjectStatus)
    approve = DecideStep(actor="fnep", step="opportunity_study", decision="approve")
    await handle.execute_update(Update.DECIDE, approve, result_type=ProjectStatus)
    assert await visible_in_stage(client, "association", wid)

    assert launcher.interrupt() == 0
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", launcher.temporal_port)) != 0, "the Temporal server is still up"

    launcher.start()
    client = await launcher.client()
    status = await status_of(client, profile.project_id)
    assert status.current_stage == "association"
    assert status.steps[0].status is StepStatus.APPROVED
    handle = client.get_workflow_handle(wid)
    submit = SubmitStep(actor="porteur", step="association", documents=[DOCUMENT])
    await handle.execute_update(Update.SUBMIT, submit, result_type=ProjectStatus)
    # A submission nobody decides: the reviewers hear of it at once, and in the demo process they are reminded
    # after 20 s.
    outbox = launcher.data_dir / "outbox"

    def mails(kind: str) -> list[str]:
        found = [path.read_bytes().decode() for path in sorted(outbox.glob("*.eml"))]
        return [m for m in found if f"X-Labellisation-Kind: {kind}\r\n" in m and "relecteurs@fnep.fr" in m]

    for _ in range(120):
        if mails("review_pending"):
            break
        await asyncio.sleep(0.5)
    assert mails("review_pending"), "no reminder reached the reviewers within a minute"
    # the first step's submission, before the restart, and this one: each once
    assert len(mails("news")) == 2, "the reviewers did not hear of each submission once"
    approve = DecideStep(actor="fnep", step="association", decision="approve")
    status = await handle.execute_update(Update.DECIDE, approve, result_type=ProjectStatus)
    assert status.current_stage == "feasibility"
    assert await visible_in_stage(client, "feasibility", wid)
    assert launcher.interrupt() == 0


def test_dev_refuses_an_unknown_process_without_a_stack_trace(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(LAUNCHER), "dev", "--process", "inconnu", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "processus inconnu 'inconnu'" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_dev_says_which_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [str(LAUNCHER), "dev", "--data-dir", str(tmp_path), "--temporal-port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"le port {port} est déjà utilisé" in result.stderr
    assert "Traceback" not in result.stderr


def test_ports_we_pick_stay_out_of_the_ephemeral_range_and_never_repeat() -> None:
    """The dev server's internal services and outgoing connections take ephemeral ports (32768+)."""
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == len(ports)
    assert all(20000 <= port < 32768 for port in ports)


def test_first_start_says_to_source_the_tokens_before_the_curl_line_that_uses_them(tmp_path: Path) -> None:
    options = DevOptions(data_dir=tmp_path)
    shown = _first_start(options, {"LABELLISATION_COORDINATOR_TOKEN": "lab_x"}).splitlines()
    source = next(i for i, line in enumerate(shown) if line.strip() == f"source {tmp_path / 'demo-tokens.env'}")
    curl = next(i for i, line in enumerate(shown) if "curl" in line)
    assert source < curl
    assert "export LABELLISATION_COORDINATOR_TOKEN=lab_x" in (tmp_path / "demo-tokens.env").read_text()


def test_every_later_start_says_where_the_tokens_are(tmp_path: Path) -> None:
    options = DevOptions(data_dir=tmp_path)
    assert "demo-tokens.env" not in _banner(options)  # not created yet: nothing to point to
    (tmp_path / "demo-tokens.env").write_text("export LABELLISATION_COORDINATOR_TOKEN=lab_x\n")
    assert f"source {tmp_path / 'demo-tokens.env'}" in _banner(options)
