"""News of events (#17 item 1): which events people hear of at once, and what each e-mail says.

Pure: the workflow's news sender (workflows/news_sender.py) calls `news_requests` with the events it has not yet
announced, and sends each request with the `send_news` activity, which finds the people, renders the French
e-mail and sends it once (its key: `news_id`).

Who hears of what:
- a submission: the reviewers of the project's region (they decide in « À décider »);
- a decision (approval, changes requested, rejection) and a new stage: the holder;
- a pause, a resume, an abandon, a moved deadline, a changed planned opening: the holder and the region's
  coordinators;
- an e-mail the mail server refused for good: the region's coordinators, the first time an address is refused
  (unless it was theirs).

The news of one batch of events (what one command produced: an approval that completes a stage also starts the
next one) goes out as one e-mail per audience, each event an item of it: "right, fair and few".
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from labellisation.path.reminders import Role, SendReminder
from labellisation.path.state import Document, Event, EventKind, Project

#: Who hears of each kind of event, at once.
NEWS_AUDIENCES: dict[EventKind, tuple[Role, ...]] = {
    EventKind.STEP_SUBMITTED: (Role.REVIEWERS,),
    EventKind.STEP_APPROVED: (Role.HOLDER,),
    EventKind.CHANGES_REQUESTED: (Role.HOLDER,),
    EventKind.STEP_REJECTED: (Role.HOLDER,),
    EventKind.STAGE_STARTED: (Role.HOLDER,),
    EventKind.PROJECT_PAUSED: (Role.HOLDER, Role.COORDINATOR),
    EventKind.PROJECT_RESUMED: (Role.HOLDER, Role.COORDINATOR),
    EventKind.PROJECT_ABANDONED: (Role.HOLDER, Role.COORDINATOR),
    EventKind.DEADLINE_MOVED: (Role.HOLDER, Role.COORDINATOR),
    EventKind.PLANNED_OPENING_CHANGED: (Role.HOLDER, Role.COORDINATOR),
    EventKind.DELIVERY_FAILED: (Role.COORDINATOR,),
}
#: The order of the audiences' e-mails of one batch.
AUDIENCE_ORDER = (Role.HOLDER, Role.REVIEWERS, Role.COORDINATOR)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StepDue(_Model):
    label: str
    due_at: datetime | None = None


class NewsItem(_Model):
    """One event as its e-mail tells it: the facts, the French labels already looked up."""

    event_id: str
    kind: EventKind
    at: datetime
    step_label: str | None = None
    stage_label: str | None = None
    actor: str | None = None
    #: The reviewer's comment, the holder's, or the reason of a pause, an abandon, a moved deadline.
    comment: str | None = None
    #: The step's deadline after the event (changes requested, a moved deadline).
    due_at: datetime | None = None
    documents: list[Document] = []
    #: A new stage's steps with their deadlines.
    steps: list[StepDue] = []
    review_on: date | None = None
    planned_opening: date | None = None
    #: An e-mail refused for good: the addresses and the mail server's reply.
    refused: list[str] = []
    reason: str | None = None


class SendNews(_Model):
    """The `send_news` activity's input: one e-mail to one audience, its items in the order of the events."""

    #: The idempotency key: the first event's id and the audience.
    news_id: str
    to: Role
    project_id: str
    school_name: str
    city: str
    holder_name: str
    holder_email: str
    region: str
    department: str
    items: list[NewsItem]


class SendRemindersWithNews(_Model):
    """The input of `send_reminders_with_news`: reminders and the news due for the same reader about the same
    project at the same moment, sent as one e-mail listing each (#17 item 3)."""

    requests: list[SendReminder] = Field(min_length=1)
    news: SendNews


class NewsSent(_Model):
    to: list[str]
    message_id: str
    already_sent: bool = False


def event_number(event: Event) -> int:
    """The event's rank in its project (its id is `<project id>-<rank>`)."""
    return int(event.event_id.rsplit("-", 1)[1])


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _item(project: Project, event: Event, batch: list[Event]) -> NewsItem:
    definition = project.process.step(event.step) if event.step else None
    item = NewsItem(
        event_id=event.event_id,
        kind=event.kind,
        at=event.at,
        step_label=definition.label if definition else None,
        actor=event.actor,
        comment=event.comment,
    )
    data = event.data
    if event.kind is EventKind.STEP_SUBMITTED:
        item.documents = [Document.model_validate(d) for d in data.get("documents", [])]
    elif event.kind in (EventKind.CHANGES_REQUESTED, EventKind.DEADLINE_MOVED):
        step = project.find_step(event.step) if event.step else None
        item.due_at = _moment(data.get("due_at")) or (step.due_at if step else None)
    elif event.kind is EventKind.STAGE_STARTED:
        stage = next((s for s in project.process.stages if s.id == data.get("stage")), None)
        labels = {d.id: d.label for d in stage.steps} if stage else {}
        item.stage_label = stage.label if stage else data.get("stage")
        item.steps = [
            StepDue(label=labels[e.step], due_at=_moment(e.data.get("due_at")))
            for e in batch
            if e.kind is EventKind.STEP_STARTED and e.step in labels and event_number(e) > event_number(event)
        ]
    elif event.kind is EventKind.PROJECT_PAUSED:
        item.review_on = date.fromisoformat(data["review_on"]) if data.get("review_on") else None
    elif event.kind is EventKind.DELIVERY_FAILED:
        item.refused = [str(a) for a in data.get("refused", [])]
        item.reason = str(data.get("reason", ""))
    elif event.kind is EventKind.PLANNED_OPENING_CHANGED:
        item.planned_opening = date.fromisoformat(data["planned_opening"]) if data.get("planned_opening") else None
    return item


def news_requests(project: Project, events: list[Event]) -> list[SendNews]:
    """The e-mails `events` (one batch, oldest first) call for: one per audience that hears of any of them."""
    by_audience: dict[Role, list[NewsItem]] = {}
    for event in events:
        if event.kind is EventKind.DELIVERY_FAILED and (
            event.data.get("audience") == Role.COORDINATOR.value or not event.data.get("first", True)
        ):
            continue  # their own address (telling them would be refused too), or an address already told of
        for role in NEWS_AUDIENCES.get(event.kind, ()):
            by_audience.setdefault(role, []).append(_item(project, event, events))
    profile = project.profile
    return [
        SendNews(
            news_id=f"news:{items[0].event_id}:{role.value}",
            to=role,
            project_id=profile.project_id,
            school_name=profile.name,
            city=profile.city,
            holder_name=profile.holder.name,
            holder_email=str(profile.holder.email),
            region=profile.region,
            department=profile.department,
            items=items,
        )
        for role in AUDIENCE_ORDER
        if (items := by_audience.get(role))
    ]
