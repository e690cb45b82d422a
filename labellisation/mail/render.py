"""Reminder e-mails in French, from Jinja2 templates: a subject, plain text and HTML.

One template pair per kind in `templates/` (`overdue.txt.j2`, `overdue.html.j2`,
...) on a shared layout per format. The subject is the `subject` block of the
plain-text template, so a kind's whole wording lives in its two files.
HTML templates are autoescaped; the plain-text ones are not (nothing to
escape in text, and `&` must stay `&`). Undefined names are errors.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Template, select_autoescape
from markupsafe import escape
from pydantic import BaseModel

from labellisation.catalogue import days
from labellisation.french_calendar import format_date_fr
from labellisation.mail import news
from labellisation.mail.messages import ReminderDigest, ReminderEmail, ReminderKind, RenderedEmail, action_label


def days_fr(count: int) -> str:
    """Days in French words: "un jour", "0 jour", "14 jours" (the catalogue's plural rule)."""
    return "un jour" if count == 1 else days(count)


def late_fr(count: int) -> str:
    """How late, in French: "en retard d'un jour", "en retard de 14 jours"."""
    return "en retard d'un jour" if count == 1 else f"en retard de {days(count)}"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("labellisation.mail", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["date_fr"] = format_date_fr
    env.filters["days_fr"] = days_fr
    env.filters["late_fr"] = late_fr
    env.filters["action_label"] = action_label
    env.filters["news_title"] = news.title
    env.filters["news_lines"] = news.lines
    env.filters["news_subject"] = news.subject
    env.filters["listing_count"] = listing_count
    env.tests["bullet"] = news.is_bullet
    return env


def template_names(kind: ReminderKind) -> tuple[str, str]:
    """The plain-text and HTML templates of `kind`."""
    return f"{kind.value}.txt.j2", f"{kind.value}.html.j2"


def _block(template: Template, name: str, context: dict[str, Any]) -> str:
    return "".join(template.blocks[name](template.new_context(context)))


def _tidy_text(text: str) -> str:
    # Templates stay readable with blank lines around blocks; the e-mail gets at most one.
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def render_pair(text_name: str, html_name: str, message: Any) -> RenderedEmail:
    """An e-mail from a template pair that reads `message` as `m`; the subject is the text one's `subject` block."""
    env = _environment()
    text_template = env.get_template(text_name)
    context: dict[str, Any] = {"m": message}
    # One line, whatever a school name holds: a newline in a header is refused (or worse, injected).
    subject = " ".join(_block(text_template, "subject", context).split())
    context["subject"] = subject
    return RenderedEmail(
        subject=subject,
        text=_tidy_text(text_template.render(context)),
        html=env.get_template(html_name).render(context),
    )


def render(email: ReminderEmail) -> RenderedEmail:
    """The French e-mail for `email`; every kind has its own template pair."""
    return render_pair(*template_names(email.kind), email)


def render_news(email: news.NewsEmail) -> RenderedEmail:
    """The French news e-mail: one item per event, on the reminders' layout."""
    return render_pair("news.txt.j2", "news.html.j2", email)


class ReminderPart(BaseModel):
    """One reminder inside an e-mail of several: its title (its own subject, the school left out) and sentence."""

    title: str
    body: str


def listing_count(email: ReminderDigest) -> str:
    """What a grouped e-mail carries, in French: "3 rappels", "1 rappel et 2 nouvelles"."""
    reminders, items = len(email.reminders), len(email.news)
    said = f"{reminders} rappel{'s' if reminders > 1 else ''}"
    return f"{said} et {items} nouvelle{'s' if items > 1 else ''}" if items else said


def render_reminders(email: ReminderDigest) -> RenderedEmail:
    """One e-mail for several reminders to the same reader about the same project, due at the same moment: each
    reminder's sentence from its own kind's templates, each distinct piece of advice once; then the news due for
    the same reader at that moment, one part per item (#17 item 3)."""
    env = _environment()
    texts: list[ReminderPart] = []
    htmls: list[ReminderPart] = []
    advices_text: list[str] = []
    advices_html: list[str] = []
    for reminder in email.reminders:
        text_name, html_name = template_names(reminder.kind)
        text_template, html_template = env.get_template(text_name), env.get_template(html_name)
        context: dict[str, Any] = {"m": reminder}
        subject = " ".join(_block(text_template, "subject", context).split())
        title = subject.removeprefix(f"{reminder.school_name} — ")
        texts.append(ReminderPart(title=title, body=_tidy_text(_block(text_template, "body", context)).strip()))
        htmls.append(ReminderPart(title=title, body=_block(html_template, "body", context).strip()))
        text_advice = _tidy_text(_block(text_template, "action", context)).strip()
        html_advice = _block(html_template, "action", context).strip()
        if text_advice and text_advice not in advices_text:
            advices_text.append(text_advice)
        if html_advice and html_advice not in advices_html:
            advices_html.append(html_advice)
    for item in email.news:
        title, lines = news.title(item), news.lines(item)
        texts.append(ReminderPart(title=title, body="\n".join(lines)))
        htmls.append(ReminderPart(title=title, body="".join(f"<br>{escape(line)}" for line in lines)))
    text_template = env.get_template("reminders.txt.j2")
    context = {"m": email, "parts": texts, "advices": advices_text}
    subject = " ".join(_block(text_template, "subject", context).split())
    return RenderedEmail(
        subject=subject,
        text=_tidy_text(text_template.render({**context, "subject": subject})),
        html=env.get_template("reminders.html.j2").render(
            {"m": email, "parts": htmls, "advices": advices_html, "subject": subject}
        ),
    )
