"""The home page sends each signed-in person to the page where they work."""

from __future__ import annotations

import pytest
from jinja2 import Environment, PackageLoader


@pytest.mark.parametrize(
    ("role", "link"), [("reviewer", "/a-decider"), ("coordinator", "/portefeuille"), ("holder", "/mon-dossier")]
)
def test_home_links_to_the_persons_own_page(role: str, link: str) -> None:
    env = Environment(loader=PackageLoader("labellisation.web", "templates"), autoescape=True)
    env.filters["role_fr"] = lambda value: value
    template = env.get_template("accueil.html.j2")
    body = template.blocks["main"](template.new_context({"person": {"user": {"name": "Léa", "role": role}}}))
    text = "".join(body)
    assert f'href="{link}"' in text
    assert "arrivent bientôt" not in text
