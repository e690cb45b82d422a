"""The browser suite's tools: Debian's Chromium driven by Playwright, the product as `make run` starts it, axe-core.

Playwright's own browser download does not work here: the suite drives `/usr/bin/chromium` (Debian's package
`chromium`, which `make test` installs where it can) and is skipped, with one line saying why, where there is none.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import httpx
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize

from tests.support.launcher import Launcher

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)
#: What axe-core reports that the pages must never have.
BLOCKING_IMPACTS = {"serious", "critical"}

#: The demo people of `make run` (labellisation/tokens.py DEMO_USERS), by role.
DEMO = {
    "coordinator": ("Claire Coordination", "coordinateur", "coordination@fnep.fr"),
    "reviewer": ("Romain Relecteur", "relecteur", "relecteurs@fnep.fr"),
    "holder": ("Paul Porteur", "porteur", "porteur@edp-lyon.fr"),
}
_BANNER_LINK = re.compile(r"^\s+(.+?) \((\w+)\)\s+(http://127\.0\.0\.1:\d+/connexion/lien/[A-Za-z0-9_-]{43})$")
_MAIL_LINK = re.compile(r"http://127\.0\.0\.1:\d+/connexion/lien/[A-Za-z0-9_-]{43}")


def chromium_missing() -> str | None:
    """Why no Chromium can drive the suite here, or None when `/usr/bin/chromium` is there and starts."""
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} missing (Debian's package chromium; `make test` installs it as root)"
    try:
        shown = subprocess.run(
            [str(CHROMIUM), *CHROMIUM_ARGS, "--dump-dom", "about:blank"], capture_output=True, timeout=60, check=True
        )
    except (OSError, subprocess.SubprocessError) as error:
        return f"{CHROMIUM} does not start ({error})"
    if b"<body>" not in shown.stdout:
        return f"{CHROMIUM} does not show a page"
    return None


@dataclass
class Stack:
    """`labellisation dev` on ports of its own: the API's base URL, its outbox and the banner's sign-in links."""

    launcher: Launcher
    links: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.launcher.api_port}"

    @property
    def outbox(self) -> Path:
        return self.launcher.data_dir / "outbox"

    def read_banner(self) -> None:
        """The banner's single-use sign-in link of each demo person, by role."""
        roles = {label: role for role, (_, label, _) in DEMO.items()}
        for line in self.launcher.output:
            match = _BANNER_LINK.match(line)
            if match:
                self.links[roles[match[2]]] = match[3]
        assert set(self.links) == set(DEMO), "".join(self.launcher.output)[-2000:]

    async def wait_until_up(self) -> None:
        async with httpx.AsyncClient(base_url=self.base_url) as http:
            for _ in range(200):
                try:
                    await http.get("/connexion")
                    return
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
        raise AssertionError("the API does not answer")

    def token(self, role: str) -> str:
        """The demo person's API token (the first start writes them to `<data-dir>/demo-tokens.env`)."""
        variable = {"coordinator": "COORDINATOR", "reviewer": "REVIEWER", "holder": "HOLDER"}[role]
        text = (self.launcher.data_dir / "demo-tokens.env").read_text()
        match = re.search(rf"^export LABELLISATION_{variable}_TOKEN=(\S+)$", text, re.MULTILINE)
        assert match, text
        return match[1]

    def api(self, role: str) -> httpx.AsyncClient:
        """The JSON API as that demo person (to set the scene a page is then looked at in)."""
        return httpx.AsyncClient(
            base_url=self.base_url, headers={"Authorization": f"Bearer {self.token(role)}"}, timeout=30
        )

    def messages(self) -> list[EmailMessage]:
        """Every e-mail the SMTP sink stored, oldest first."""
        parsed = []
        for path in sorted(self.outbox.glob("*.eml"), key=lambda p: (p.stat().st_mtime_ns, p.name)):
            message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            assert isinstance(message, EmailMessage)
            parsed.append(message)
        return parsed

    async def sign_in_link_mailed_to(self, address: str, already: int) -> str:
        """The link of the newest sign-in e-mail to `address` once there are more than `already` (sent after the
        answer, so it may take a moment)."""
        for _ in range(300):
            mails = [m for m in self.messages() if address in str(m["To"])]
            if len(mails) > already:
                part = mails[-1].get_body(("plain",))
                assert part is not None
                found = _MAIL_LINK.findall(part.get_content())
                assert found, part.get_content()
                return str(found[0])
            await asyncio.sleep(0.1)
        raise AssertionError(f"no sign-in e-mail to {address} in {self.outbox}")

    def mails_to(self, address: str) -> int:
        return sum(address in str(m["To"]) for m in self.messages())


async def new_context(browser: Browser, viewport: ViewportSize | None = None) -> BrowserContext:
    """A fresh browser profile (its own cookies), in French, on Paris time."""
    return await browser.new_context(
        viewport=viewport or DESKTOP,
        locale="fr-FR",
        timezone_id="Europe/Paris",
    )


async def sign_in_by_mail(page: Page, stack: Stack, role: str) -> None:
    """As a new user would: ask for a link on /connexion, open the e-mail in the sink, follow its link."""
    await sign_in_as(page, stack, DEMO[role][2])


async def sign_in_as(page: Page, stack: Stack, address: str) -> None:
    """`sign_in_by_mail` for anyone invited (by address)."""
    already = stack.mails_to(address)
    await page.goto(f"{stack.base_url}/connexion")
    await page.get_by_label("Adresse e-mail").fill(address)
    await page.get_by_role("button", name=re.compile("lien", re.IGNORECASE)).click()
    await page.wait_for_load_state()
    link = await stack.sign_in_link_mailed_to(address, already)
    await page.goto(link)


_AXE = Axe()


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it stands (axe-core is bundled: no network)."""
    results = await _AXE.run(page)
    violations: list[dict[str, Any]] = results.response["violations"]
    return [v for v in violations if v.get("impact") in BLOCKING_IMPACTS]


def describe(violations: list[dict[str, Any]]) -> str:
    """One line per violation and the first elements it names, for an assertion's message."""
    lines = []
    for violation in violations:
        targets = [str(node.get("target")) for node in violation.get("nodes", [])[:3]]
        lines.append(f"{violation['impact']}: {violation['id']} — {violation['help']} {targets}")
    return "\n".join(lines)


def screenshots_dir(tmp_path: Path) -> Path:
    chosen = os.environ.get("SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def check(name: str, page: Page, folder: Path) -> None:
    """At desktop and phone width: no serious or critical axe violation, nothing wider than the screen; a picture."""
    for width, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        await page.set_viewport_size(viewport)
        violations = await axe_violations(page)
        assert not violations, f"{name} ({width}):\n{describe(violations)}"
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} ({width}) is {overflow}px wider than the screen"
        shot = folder / f"{name}-{width}.png"
        await page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 0
