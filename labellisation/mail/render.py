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
from labellisation.mail.digest import DailyDigestEmail, DigestPart
from labellisation.mail.digest import subject as digest_subject
from labellisation.mail.messages import ReminderDigest, ReminderEmail, ReminderKind, RenderedEmail, action_label
from labellisation.path.news import NewsItem


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
        # Templates are the package's own: read once, not checked on disk at every e-mail (two stat calls each).
        auto_reload=False,
    )
    env.filters["date_fr"] = format_date_fr
    env.filters["days_fr"] = days_fr
    env.filters["late_fr"] = late_fr
    env.filters["action_label"] = action_label
    env.filters["news_title"] = news.title
    env.filters["news_lines"] = news.lines
    env.filters["news_subject"] = news.subject
    env.filters["listing_count"] = listing_count
    env.filters["digest_subject"] = digest_subject
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


def _reminder_part(reminder: ReminderEmail, html: bool) -> tuple[ReminderPart, str]:
    """A reminder as one part of an e-mail of several: its title (its subject, the school left out) and sentence
    from its kind's template (plain text or HTML), and what to do (its `action` block)."""
    env = _environment()
    text_name, html_name = template_names(reminder.kind)
    context: dict[str, Any] = {"m": reminder}
    subject = " ".join(_block(env.get_template(text_name), "subject", context).split())
    title = subject.removeprefix(f"{reminder.school_name} — ")
    if html:
        template = env.get_template(html_name)
        return ReminderPart(title=title, body=_block(template, "body", context).strip()), _block(
            template, "action", context
        ).strip()
    template = env.get_template(text_name)
    body = _tidy_text(_block(template, "body", context)).strip()
    return ReminderPart(title=title, body=body), _tidy_text(_block(template, "action", context)).strip()


def _news_part(item: NewsItem) -> ReminderPart:
    return ReminderPart(title=news.title(item), body="\n".join(news.lines(item)))


def digest_parts(email: ReminderEmail | ReminderDigest | news.NewsEmail) -> list[DigestPart]:
    """What an e-mail says, as parts of « Votre point du jour »: each reminder's title, sentence and advice, each
    news item's title and sentences (plain text; the digest's HTML escapes them)."""
    reminders = [email] if isinstance(email, ReminderEmail) else getattr(email, "reminders", [])
    items = email.items if isinstance(email, news.NewsEmail) else getattr(email, "news", [])
    parts: list[DigestPart] = []
    for reminder in reminders:
        part, advice = _reminder_part(reminder, html=False)
        parts.append(DigestPart(title=part.title, body=f"{part.body}\n{advice}".strip()))
    parts += [DigestPart(**_news_part(item).model_dump()) for item in items]
    return parts


def render_digest(email: DailyDigestEmail) -> RenderedEmail:
    """« Votre point du jour »: what waits for one person, by project."""
    return render_pair("digest.txt.j2", "digest.html.j2", email)


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
        for html, parts, advices in ((False, texts, advices_text), (True, htmls, advices_html)):
            part, advice = _reminder_part(reminder, html)
            parts.append(part)
            if advice and advice not in advices:
                advices.append(advice)
    for item in email.news:
        texts.append(_news_part(item))
        htmls.append(ReminderPart(title=news.title(item), body="".join(f"<br>{escape(x)}" for x in news.lines(item))))
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
