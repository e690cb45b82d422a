"""The production compose file: it parses, and every service gets what it needs.

No Docker engine runs on these machines: the file is checked, never started here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from temporalio.common import SearchAttributeIndexedValueType

from labellisation.contract import SEARCH_ATTRIBUTES
from labellisation.settings import Settings

ROOT = Path(__file__).parents[2]
COMPOSE = ROOT / "docker-compose.yml"
#: What the worker and the API cannot run without in production.
REQUIRED = {
    "LABELLISATION_TEMPORAL_ADDRESS", "LABELLISATION_TEMPORAL_NAMESPACE", "LABELLISATION_DATABASE_URL",
    "LABELLISATION_SMTP_HOST", "LABELLISATION_SMTP_PORT", "LABELLISATION_MAIL_FROM", "LABELLISATION_REVIEWERS_EMAIL",
    "LABELLISATION_COORDINATOR_EMAIL", "LABELLISATION_PUBLIC_BASE_URL",
}  # fmt: skip


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


#: What a production start must be given (an .env file beside the compose file): no value has a default.
PRODUCTION_ENV = {
    "POSTGRES_PASSWORD": "superuser-secret", "TEMPORAL_DB_PASSWORD": "temporal-secret",
    "RECORDS_DB_PASSWORD": "records-secret", "SMTP_HOST": "smtp.fnep.fr", "PUBLIC_HOST": "suivi.fnep.fr",
    "SECRET_KEY": "k" * 48, "TEMPORAL_UI_USER": "exploitation", "TEMPORAL_UI_PASSWORD_HASH": "$2a$14$hash",
    "PAYLOAD_KEYS": "prod-2026:" + "A" * 43 + "=",
}  # fmt: skip


def docker_compose_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV}
    return subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True, env={**clean, **env}
    )


needs_compose = pytest.mark.skipif(
    shutil.which("docker-compose") is None, reason="docker-compose not installed (make test does)"
)


@needs_compose
def test_docker_compose_accepts_the_file_given_every_secret() -> None:
    result = docker_compose_config(PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr


@needs_compose
@pytest.mark.parametrize("missing", sorted(PRODUCTION_ENV))
def test_docker_compose_refuses_to_start_without_a_secret_and_names_it(missing: str) -> None:
    result = docker_compose_config({k: v for k, v in PRODUCTION_ENV.items() if k != missing})
    assert result.returncode != 0
    assert f"set {missing}" in result.stderr, result.stderr


def test_no_access_log_writes_the_secrets_in_paths() -> None:
    """Sign-in links and calendar feeds carry their secret in the path: uvicorn's access log is off (the API's own
    request log names the route's template)."""
    assert "--no-access-log" in compose()["services"]["api"]["command"]


def test_the_api_serves_its_metrics_on_an_internal_port() -> None:
    api = compose()["services"]["api"]
    assert api["environment"]["LABELLISATION_API_METRICS_PORT"] == "9465" and "ports" not in api


def test_only_the_proxy_is_published() -> None:
    """Temporal's gRPC, its UI, PostgreSQL, the API and the metrics stay on the internal network."""
    services = compose()["services"]
    published = {name: service["ports"] for name, service in services.items() if service.get("ports")}
    assert published == {"proxy": ["443:443", "80:80"]}
    assert all("expose" not in service or name == "proxy" for name, service in services.items())


def test_the_proxy_serves_the_site_and_the_read_only_temporal_ui_behind_sign_in() -> None:
    services = compose()["services"]
    ui = services["temporal-ui"]["environment"]
    assert ui["TEMPORAL_DISABLE_WRITE_ACTIONS"] == "true" and ui["TEMPORAL_UI_PUBLIC_PATH"] == "/temporal"
    assert ui["TEMPORAL_CODEC_ENDPOINT"].endswith("/codec")  # encrypted payloads shown through the API's codec
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in services["proxy"]["volumes"]
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    temporal = caddyfile[caddyfile.index("handle /temporal/* {") :]
    temporal = temporal[: temporal.index("\n\t}")]
    assert "basic_auth" in temporal and "reverse_proxy temporal-ui:8080" in temporal
    codec = caddyfile[caddyfile.index("handle /codec/* {") :]
    assert "basic_auth" in codec[: codec.index("reverse_proxy api:8000")]
    assert "respond /metrics 404" in caddyfile
    assert "reverse_proxy api:8000" in caddyfile and "{$PUBLIC_HOST} {" in caddyfile


def test_the_fake_smtp_relay_is_for_trials_only() -> None:
    services = compose()["services"]
    assert services["mailpit"]["profiles"] == ["trial"]
    assert "mailpit" not in services["worker"]["depends_on"]
    assert services["worker"]["environment"]["LABELLISATION_SMTP_HOST"].startswith("${SMTP_HOST:?")


def test_the_application_and_temporal_have_their_own_roles_and_neither_is_superuser() -> None:
    services = compose()["services"]
    url = services["worker"]["environment"]["LABELLISATION_DATABASE_URL"]
    assert url.startswith("postgresql+asyncpg://records:${RECORDS_DB_PASSWORD:?")
    assert services["temporal"]["environment"]["POSTGRES_USER"] == "temporal"
    script = (ROOT / "deploy" / "postgres-init.sh").read_text()
    assert "CREATE ROLE temporal LOGIN CREATEDB NOSUPERUSER NOCREATEROLE" in script
    assert "CREATE ROLE records LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE" in script
    assert "CREATE DATABASE records OWNER records;" in script
    volumes = services["postgresql"]["volumes"]
    assert "./deploy/postgres-init.sh:/docker-entrypoint-initdb.d/10-roles.sh:ro" in volumes


def test_every_secret_is_required_but_the_smtp_login() -> None:
    """No trial fallback: `${VAR:?...}` for every secret; a relay may need no login (empty default)."""
    for service, name in secrets_of(compose()):
        value = environment(compose()["services"][service])[name] or ""
        match = SUBSTITUTION.fullmatch(value)
        assert match is not None, (service, name, value)
        if name == "LABELLISATION_SMTP_PASSWORD":
            assert (match["op"], match["default"]) == (":-", ""), value
        else:
            assert match["op"] == ":?", (service, name, value)


def test_every_service_the_readme_names_exists() -> None:
    services = set(compose()["services"])
    assert services == {
        "postgresql", "temporal", "temporal-admin", "temporal-ui", "mailpit", "db-upgrade", "worker", "api", "proxy",
    }  # fmt: skip
    readme = (ROOT / "README.md").read_text()
    for service in services:
        assert f"`{service}`" in readme, f"the README does not explain {service}"


@pytest.mark.parametrize("service", ["worker", "api", "db-upgrade"])
def test_the_app_services_get_every_setting_they_need(service: str) -> None:
    env = compose()["services"][service]["environment"]
    assert set(env) >= REQUIRED
    known = {f"LABELLISATION_{name.upper()}" for name in Settings.model_fields}
    assert set(env) <= known, f"unknown settings: {set(env) - known}"
    assert "postgresql+asyncpg://" in env["LABELLISATION_DATABASE_URL"]


def test_start_order_and_scale() -> None:
    services = compose()["services"]
    assert services["worker"]["deploy"]["replicas"] == 2
    for app in ("worker", "api"):
        assert services[app]["depends_on"]["db-upgrade"]["condition"] == "service_completed_successfully"
        assert services[app]["depends_on"]["temporal-admin"]["condition"] == "service_completed_successfully"
    assert services["temporal"]["depends_on"]["postgresql"]["condition"] == "service_healthy"
    admin = " ".join(services["temporal-admin"]["command"])
    for key in SEARCH_ATTRIBUTES:  # every one the product uses, with its type
        kind = "Datetime" if key.indexed_value_type is SearchAttributeIndexedValueType.DATETIME else "Keyword"
        assert f"{key.name}={kind}" in admin
    assert "--retention" in admin


#: Words that make a setting a secret, as whole `_`-separated parts of its name (so KEYWORD is not one).
SECRET_WORDS = {"PASSWORD", "PASSWD", "PWD", "PASS", "SECRET", "TOKEN", "KEY", "APIKEY", "CREDENTIALS", "PRIVATE"}
#: One whole compose substitution: `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`.
SUBSTITUTION = re.compile(r"\$\{(?P<var>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<default>[^}]*))?\}")
#: `scheme://user:password@host`, substitutions masked: the credentials of a URL.
URL_CREDENTIALS = re.compile(r"^[a-z][a-z0-9+.-]*://(?P<user>[^:@/\s]*):(?P<password>[^@/\s]*)@", re.IGNORECASE)


#: Named like secrets, but switches: the Temporal UI's "send the browser's credentials to the codec endpoint".
NOT_SECRETS = {"TEMPORAL_CODEC_INCLUDE_CREDENTIALS"}


def is_secret(name: str) -> bool:
    return name.upper() not in NOT_SECRETS and any(part in SECRET_WORDS for part in name.upper().split("_"))


def environment(service: dict[str, Any]) -> dict[str, str | None]:
    """A service's `environment`, in either compose form: a mapping, or a list of `NAME=value` (or bare `NAME`)."""
    env = service.get("environment") or {}
    if isinstance(env, dict):
        return {str(name): None if value is None else str(value) for name, value in env.items()}
    pairs = [str(item).split("=", 1) for item in env]
    return {pair[0]: pair[1] if len(pair) == 2 else None for pair in pairs}


def url_password(value: str) -> str | None:
    """The password of a URL with credentials (`scheme://user:password@host`), or None.

    Substitutions are masked while the URL is split: `${USER:-a}:${PASSWORD:-b}` holds colons of its own.
    """
    masked: list[str] = []

    def mask(match: re.Match[str]) -> str:
        masked.append(match[0])
        return f"\0{len(masked) - 1}\0"

    url = URL_CREDENTIALS.match(SUBSTITUTION.sub(mask, value))
    if url is None:
        return None
    return re.sub(r"\0(\d+)\0", lambda m: masked[int(m[1])], url["password"])


def secret_problem(value: str | None) -> str | None:
    """Why `value` is not an acceptable secret, or None.

    Acceptable: nothing (taken from the shell as is), or exactly one substitution of a variable whose default, if
    any, is empty or marked `local-only` (a laptop default, never a real secret). `$${X}` is compose's escape for a
    literal `${X}`: a literal.
    """
    if value is None:
        return None
    match = SUBSTITUTION.fullmatch(value)
    if match is None:
        return f"a literal ({value!r}), not a ${{VARIABLE}} from the environment"
    default = match["default"] or ""
    if match["op"] in (":-", "-") and default and "local-only" not in default:
        return f"a default that is not marked local-only ({default!r})"
    return None


def hard_coded_secrets(path: Path) -> list[tuple[str, str, str]]:
    """(service, setting, why) for every environment value of every service of the compose file at `path` that
    hard-codes a secret.

    A setting named like a secret must come from a substitution; so must the password inside a URL
    (`postgresql://user:${PASSWORD}@host`), whatever the setting's name.
    """
    data = yaml.safe_load(path.read_text())
    found = []
    for service_name, service in (data.get("services") or {}).items():
        for name, value in environment(service).items():
            if is_secret(name) and (problem := secret_problem(value)):
                found.append((service_name, name, problem))
            password = url_password(value or "")
            if password is not None and (problem := secret_problem(password)):
                found.append((service_name, name, f"a URL whose password is {problem}"))
    return found


def secrets_of(data: dict[str, Any]) -> set[tuple[str, str]]:
    return {(name, key) for name, service in data["services"].items() for key in environment(service) if is_secret(key)}


def test_no_secret_is_hard_coded() -> None:
    assert hard_coded_secrets(COMPOSE) == []


def test_the_file_has_secrets_to_check() -> None:
    """The check above looks at something: the passwords of PostgreSQL, Temporal and the SMTP relay."""
    assert secrets_of(compose()) >= {
        ("postgresql", "POSTGRES_PASSWORD"), ("temporal", "POSTGRES_PWD"), ("worker", "LABELLISATION_SMTP_PASSWORD"),
        ("api", "LABELLISATION_SMTP_PASSWORD"),
    }  # fmt: skip


BAD_COMPOSE = """
services:
  postgresql:
    image: postgres:16
    environment:
      POSTGRES_USER: labellisation
      POSTGRES_PASSWORD: hunter2
      POSTGRES_DB: records
  temporal:
    image: temporalio/auto-setup:1.29
    environment:
      - DB=postgres12
      - POSTGRES_PWD=hunter2
      - POSTGRES_SEEDS
  worker:
    image: labellisation:latest
    environment:
      LABELLISATION_DATABASE_URL: postgresql+asyncpg://labellisation:hunter2@postgresql:5432/records
      LABELLISATION_SMTP_PASSWORD: ${SMTP_PASSWORD:-hunter2}
      LABELLISATION_API_TOKEN: $${TOKEN}
      LABELLISATION_SECRET_KEY: ${SECRET_KEY}
      LABELLISATION_SMTP_USER: ${SMTP_USER:-}
      LABELLISATION_KEYWORDS: not-a-secret
"""


def test_the_check_finds_a_hard_coded_secret_in_either_environment_form(tmp_path: Path) -> None:
    bad = tmp_path / "docker-compose.yml"
    bad.write_text(BAD_COMPOSE)
    found = hard_coded_secrets(bad)
    assert [(service, name) for service, name, _ in found] == [
        ("postgresql", "POSTGRES_PASSWORD"),
        ("temporal", "POSTGRES_PWD"),  # the list form
        ("worker", "LABELLISATION_DATABASE_URL"),  # a password inside a URL
        ("worker", "LABELLISATION_SMTP_PASSWORD"),  # a real-looking default
        ("worker", "LABELLISATION_API_TOKEN"),  # $${...}: compose's escape, a literal
    ], found
    assert found[0][2] == "a literal ('hunter2'), not a ${VARIABLE} from the environment"
    assert found[2][2] == "a URL whose password is a literal ('hunter2'), not a ${VARIABLE} from the environment"
    assert found[3][2] == "a default that is not marked local-only ('hunter2')"


def test_the_check_finds_each_secret_of_the_real_file_made_literal(tmp_path: Path) -> None:
    """Copies of the production file, each with one secret (and the database URL's password) made a plain value."""
    text = COMPOSE.read_text()
    bad = tmp_path / "docker-compose.yml"
    secrets = sorted(secrets_of(compose()))
    for service, name in secrets:
        data = yaml.safe_load(text)  # fresh: `environment: *app-env` is one mapping shared by three services
        data["services"][service]["environment"][name] = "hunter2"
        bad.write_text(yaml.safe_dump(data))
        found = hard_coded_secrets(bad)
        assert (service, name, "a literal ('hunter2'), not a ${VARIABLE} from the environment") in found
    data = yaml.safe_load(text)
    url = data["services"]["worker"]["environment"]["LABELLISATION_DATABASE_URL"]
    data["services"]["worker"]["environment"]["LABELLISATION_DATABASE_URL"] = url.replace(
        "${RECORDS_DB_PASSWORD:?set RECORDS_DB_PASSWORD}", "hunter2"
    )
    bad.write_text(yaml.safe_dump(data))
    assert ("worker", "LABELLISATION_DATABASE_URL") in {(service, name) for service, name, _ in hard_coded_secrets(bad)}
