"""What every benchmark part shares: percentiles, the machine line, and its section of BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from pathlib import Path

import temporalio

BENCHMARKS = Path(__file__).parents[1] / "BENCHMARKS.md"
HEADER = (
    "# Benchmarks\n\nMeasured by `make bench` (`bench/`; `make bench BENCH=path` runs one part), never asserted in\n"
    "tests. Shared, noisy 2-core machines: compare the ratios within one run, not figures across runs.\n"
    "Each part rewrites its own section only.\n"
)


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank q-quantile (0 ≤ q ≤ 1) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _commit() -> str:
    """The code measured: HEAD's short hash, marked when the work tree differs from it."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=BENCHMARKS.parent, capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return f"{head} + uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else head


#: Read once, at import: the code a run measures is the code it loaded then, whatever is committed meanwhile.
COMMIT = _commit()


def machine() -> str:
    """One line to reproduce a figure: CPU, cores, OS, Python, temporalio, the code's commit."""
    return (
        f"{_cpu_model()} ({platform.machine()}), {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
        f"{platform.python_implementation()} {platform.python_version()}; temporalio {temporalio.__version__}; "
        f"code at {COMMIT}"
    )


def write_section(title: str, body: str, path: Path = BENCHMARKS) -> None:
    """Replace the `## title` section of BENCHMARKS.md in place (appended when new); keep the others."""
    text = path.read_text() if path.exists() else HEADER
    section = f"## {title}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    path.write_text(text)
