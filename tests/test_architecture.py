"""The import rules of ARCHITECTURE.md, checked on the source: a layer never reaches up or into I/O it must not do."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PURE_MODEL = [
    *sorted((ROOT / "labellisation" / "path").glob("*.py")),
    *(
        ROOT / "labellisation" / name
        for name in (
            "process.py",
            "durations.py",
            "policy.py",
            "french_calendar.py",
            "catalogue.py",
            "overview.py",
            "regions.py",
        )
    ),
]
#: I/O, clocks, randomness and the upper layers.
NOT_IN_PURE_MODEL = (
    "temporalio",
    "sqlalchemy",
    "fastapi",
    "httpx",
    "aiosmtplib",
    "asyncio",
    "os",
    "random",
    "time",
    "socket",
    "labellisation.records",
    "labellisation.mail",
    "labellisation.api",
    "labellisation.settings",
    "workflows",
    "activities",
)
NOT_IN_WORKFLOWS = (
    "sqlalchemy",
    "fastapi",
    "httpx",
    "aiosmtplib",
    "os",
    "random",
    "time",
    "socket",
    "labellisation.records.store",
    "labellisation.mail.sender",
    "labellisation.settings",
    "labellisation.api",
)
NOT_IN_SERVICES = ("workflows", "activities", "labellisation.api", "labellisation.cli")


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (imports inside functions and `with` blocks count)."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def violations(path: Path, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        module
        for module in imported_modules(path)
        if any(module == banned or module.startswith(banned + ".") for banned in forbidden)
    )


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", PURE_MODEL, ids=_name)
def test_the_pure_model_does_no_io_and_knows_no_upper_layer(path: Path) -> None:
    assert violations(path, NOT_IN_PURE_MODEL) == []


@pytest.mark.parametrize("path", sorted((ROOT / "workflows").glob("*.py")), ids=_name)
def test_workflows_reach_no_database_mail_server_or_environment(path: Path) -> None:
    assert violations(path, NOT_IN_WORKFLOWS) == []


@pytest.mark.parametrize(
    "path",
    sorted([*(ROOT / "labellisation" / "records").glob("*.py"), *(ROOT / "labellisation" / "mail").glob("*.py")]),
    ids=_name,
)
def test_records_and_mail_know_nothing_of_temporal_code_or_the_api(path: Path) -> None:
    assert violations(path, NOT_IN_SERVICES) == []


@pytest.mark.parametrize("path", sorted((ROOT / "activities").glob("*.py")), ids=_name)
def test_activities_never_import_workflows_or_the_api(path: Path) -> None:
    assert violations(path, ("workflows", "labellisation.api", "labellisation.cli")) == []


def test_the_checker_sees_an_import_hidden_in_a_function(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("def later():\n    import random\n    from labellisation.records.store import RecordStore\n")
    assert violations(sneaky, NOT_IN_PURE_MODEL) == ["labellisation.records.store", "random"]


@pytest.mark.parametrize(
    "path",
    sorted(
        [
            *(ROOT / "labellisation" / "api").glob("*.py"),
            *(ROOT / "labellisation" / "web").glob("*.py"),
            *(ROOT / "labellisation").glob("cli*.py"),
        ]
    ),
    ids=_name,
)
def test_the_api_the_pages_and_the_cli_reach_workflows_only_through_temporal(path: Path) -> None:
    assert violations(path, ("workflows", "activities")) == []


#: Calls that read the clock or draw at random: a workflow takes `workflow.now()` and `workflow.uuid4()`.
#: The sandbox no longer refuses them in `workflows/` (passed through for speed, labellisation/worker_app.py).
NONDETERMINISTIC_CALLS = frozenset({"now", "utcnow", "today", "uuid1", "uuid4", "time_ns", "monotonic"})


def nondeterministic_calls(path: Path) -> list[str]:
    """`x.now()`, `date.today()`, `uuid.uuid4()`... in a file, except through `workflow.` (Temporal's own)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            through_temporal = isinstance(owner, ast.Name) and owner.id == "workflow"
            if node.func.attr in NONDETERMINISTIC_CALLS and not through_temporal:
                found.append(f"{ast.unparse(node.func)}() line {node.lineno}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in {"uuid4", "now"}:
            found.append(f"{node.func.id}() line {node.lineno}")
    return found


@pytest.mark.parametrize("path", [*sorted((ROOT / "workflows").glob("*.py")), *PURE_MODEL], ids=_name)
def test_workflows_and_the_model_read_no_clock_and_draw_nothing_at_random(path: Path) -> None:
    assert nondeterministic_calls(path) == []


def test_the_clock_checker_sees_a_hidden_now(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("import datetime\n\ndef f():\n    return datetime.datetime.now(), workflow.now()\n")
    assert nondeterministic_calls(sneaky) == ["datetime.datetime.now() line 4"]
