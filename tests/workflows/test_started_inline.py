"""A new project recorded and welcomed in its first workflow task (#20 part 3, patch `started-inline`): its first
record batch and its first news e-mails each tried once as a local activity; when one fails short of a refusal for
good, it goes the usual way, an activity retried with backoff."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from labellisation.contract import ACTIVITY_RECORD_EVENTS, ACTIVITY_SEND_NEWS
from labellisation.devstack import free_port
from labellisation.mail.sink import start_sink
from labellisation.path.state import EventKind, Holder
from labellisation.people import invite
from labellisation.records.store import RecordStore
from labellisation.settings import Settings
from tests.support.driver import ProjectDriver, running
from tests.support.mailbox import Mailbox, until
from tests.support.profiles import make_profile
from tests.workflows.test_records_inline import InlineUnreachable, local_activity

HOLDER = "porteur@edp-belfort.fr"


def steps(history: WorkflowHistory) -> list[str]:
    """The history's workflow tasks completed, activities scheduled and markers recorded, in order."""
    kinds = []
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            kinds.append("task")
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            kinds.append(f"activity {event.activity_task_scheduled_event_attributes.activity_type.name}")
        elif (local := local_activity(event)) is not None:
            kinds.append(f"local {local}")
    return kinds


def assert_fell_back(kinds: list[str], failed: str) -> None:
    """In the first workflow task: both local activities, then the usual activity for the one that failed, after it
    (the two local ones end in either order)."""
    local = [f"local {ACTIVITY_RECORD_EVENTS}", f"local {ACTIVITY_SEND_NEWS}"]
    assert kinds[0] == "task" and sorted(kinds[1:4]) == sorted([*local, f"activity {failed}"]), kinds
    assert kinds.index(f"local {failed}") < kinds.index(f"activity {failed}"), kinds


def welcomes(mailbox: Mailbox) -> list[str]:
    return [str(m["Subject"]) for m in mailbox.news() if HOLDER in str(m["To"])]


async def test_a_new_project_is_recorded_and_welcomed_in_its_first_workflow_task(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str
) -> None:
    async with running(client, task_queue, sqlite_store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, make_profile())
        await until(lambda: welcomes(mailbox))
        recorded = await project.recorded(sqlite_store)
        history = await project.handle.fetch_history()
    assert welcomes(mailbox) == ["École de Production de Belfort — Nouvelle phase : Étude d'opportunité"]
    assert [e.kind.value for e in recorded][:2] == ["project_started", "stage_started"]
    # one workflow task, with the record batch and the welcome e-mail in it: no activity task, no second task
    kinds = steps(history)
    assert kinds[0] == "task" and sorted(kinds[1:]) == [
        f"local {ACTIVITY_RECORD_EVENTS}",
        f"local {ACTIVITY_SEND_NEWS}",
    ]


async def test_a_records_database_the_first_task_cannot_reach_records_the_project_later(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str
) -> None:
    store = InlineUnreachable(sqlite_store.engine)
    async with running(client, task_queue, store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, make_profile())
        await project.recorded(store)
        await project.quiet()
        history = await project.handle.fetch_history()
    assert store.inline_attempts == 1
    assert welcomes(mailbox) == ["École de Production de Belfort — Nouvelle phase : Étude d'opportunité"]
    kinds = steps(history)
    assert_fell_back(kinds, ACTIVITY_RECORD_EVENTS)
    assert f"activity {ACTIVITY_SEND_NEWS}" not in kinds


async def test_a_welcome_the_mail_server_could_not_take_at_first_goes_out_once_later(
    client: Client, sqlite_store: RecordStore, task_queue: str, time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    """The SMTP server down when the project starts: the local attempt fails, the activity retries until it is up."""
    port = free_port()
    settings = Settings(smtp_port=port, data_dir=tmp_path, public_base_url="https://suivi.fnep.fr")
    mailbox = Mailbox(tmp_path / "outbox", settings)
    async with running(client, task_queue, sqlite_store, settings):
        project = await ProjectDriver.start(client, task_queue, make_profile())
        await project.recorded(sqlite_store)
        assert await project.pending_activities() == 1  # the welcome, retrying
        sink = start_sink(mailbox.outbox, port)
        try:
            await time_skipping_env.sleep(timedelta(minutes=2))  # past the retry's backoff
            await until(lambda: welcomes(mailbox))
            await project.quiet()
            history = await project.handle.fetch_history()
        finally:
            sink.stop()
    assert welcomes(mailbox) == ["École de Production de Belfort — Nouvelle phase : Étude d'opportunité"]
    kinds = steps(history)
    assert_fell_back(kinds, ACTIVITY_SEND_NEWS)
    assert kinds.count(f"activity {ACTIVITY_SEND_NEWS}") == 1


async def test_a_welcome_refused_for_good_in_the_first_task_is_recorded_and_not_sent_again(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str
) -> None:
    """The local attempt's refusal is the refusal: no activity tries the holder's address again (the one `send_news`
    activity is the coordinator's news of the refused address)."""
    refused = "porteur@refuse.example"
    coordinator = "coordination@fnep-bfc.fr"
    await invite(
        sqlite_store, role="coordinator", name="Camille", email=coordinator, regions=["bourgogne-franche-comte"]
    )
    profile = make_profile().model_copy(update={"holder": Holder(name="Association EdP Belfort", email=refused)})
    async with running(client, task_queue, sqlite_store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, profile)
        await until(lambda: [m for m in mailbox.news() if coordinator in str(m["To"])])
        await project.quiet()
        status = await project.status(include_history=True)
        history = await project.handle.fetch_history()
    [failed] = [e for e in status.history or [] if e.kind is EventKind.DELIVERY_FAILED]
    assert failed.data["refused"] == [refused] and failed.data["reason"].startswith("550 5.1.1")
    kinds = steps(history)
    assert f"local {ACTIVITY_SEND_NEWS}" in kinds and kinds.count(f"activity {ACTIVITY_SEND_NEWS}") == 1
    assert [m for m in mailbox.messages() if refused in str(m["To"])] == []
