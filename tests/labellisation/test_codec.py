"""Payloads encrypted for Temporal (#18 item 3): AES-GCM with rotating keys; Temporal's database and its CLI hold
no readable personal data, the product reads everything back, and the committed (plain) histories still replay."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import httpx
import pytest
from google.protobuf.json_format import MessageToDict, ParseDict
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.client import Client
from temporalio.worker import Replayer
from typer.testing import CliRunner

from labellisation.api.app import create_app
from labellisation.cli import app
from labellisation.codec import ENCODING, EncryptionCodec, PayloadKeyError, converter_with_keys, new_key, parse_keys
from labellisation.contract import workflow_id
from labellisation.records.store import RecordStore
from labellisation.settings import Settings
from labellisation.temporal import dev_server_binary
from labellisation.worker_app import WORKFLOWS, sandbox_runner
from tests.histories.test_replay import HISTORIES, load
from tests.support.driver import ProjectDriver, running
from tests.support.mailbox import Mailbox
from tests.support.profiles import make_profile
from tests.support.servers import start_dev_server

HOLDER_NAME = "Association EdP Belfort"


def plain(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=text.encode())


async def test_a_payload_is_sealed_and_opened_and_keys_rotate() -> None:
    old, new = new_key(), new_key()
    before = EncryptionCodec(parse_keys(f"k1:{old}"))
    sealed = await before.encode([plain(f'"{HOLDER_NAME}"')])
    assert sealed[0].metadata["encoding"] == ENCODING and sealed[0].metadata["encryption-key-id"] == b"k1"
    assert HOLDER_NAME.encode() not in sealed[0].data
    rotated = EncryptionCodec(parse_keys(f"k2:{new},k1:{old}"))  # k2 encrypts now; k1 still opens the old ones
    assert (await rotated.decode(sealed))[0].data == f'"{HOLDER_NAME}"'.encode()
    assert (await rotated.encode([plain("x")]))[0].metadata["encryption-key-id"] == b"k2"
    with pytest.raises(PayloadKeyError, match="aucune clé « k1 »"):
        await EncryptionCodec(parse_keys(f"k2:{new}")).decode(sealed)
    unsealed = plain('"from before"')
    assert await rotated.decode([unsealed]) == [unsealed]  # a plain payload (an old history) passes as it is


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "aucune clé"),
        ("k1", "identifiant:clé-en-base64"),
        ("k1:pas de la base64", "n'est pas en base64"),
        ("k1:c2hvcnQ=", "doit faire 32 octets"),
        (f"k1:{'A' * 43}=,k1:{'A' * 43}=", "même identifiant"),
    ],
)
def test_malformed_keys_are_refused_at_start_naming_the_setting(text: str, message: str) -> None:
    with pytest.raises(PayloadKeyError, match=message):
        parse_keys(text)
    with pytest.raises(ValueError, match="payload_keys"):
        Settings(payload_keys=text)


async def test_temporal_holds_ciphertext_and_the_product_reads_it_back(
    sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str
) -> None:
    keys = f"prod-2026:{new_key()}"
    async with await start_dev_server() as env:
        target = env.client.service_client.config.target_host
        sealed_client = await Client.connect(target, data_converter=converter_with_keys(keys))
        async with running(sealed_client, task_queue, sqlite_store, mailbox.settings):
            project = await ProjectDriver.start(sealed_client, task_queue, make_profile(), process="demo")
            await project.submit("opportunity_study")
            status = await project.status()
            await project.quiet()
        raw = await env.client.get_workflow_handle(workflow_id(status.project_id)).fetch_history()
        shown = await asyncio.to_thread(
            subprocess.run,
            [str(dev_server_binary()), "workflow", "show", "--address", target, "-w", workflow_id(status.project_id),
             "-o", "json"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    assert status.name == "École de Production de Belfort"  # read back through the codec
    assert HOLDER_NAME not in raw.to_json() and "Belfort" not in raw.to_json()
    encodings = {p["metadata"]["encoding"] for p in json.loads(raw.to_json())["events"][0]
                 ["workflowExecutionStartedEventAttributes"]["input"]["payloads"]}  # fmt: skip
    assert encodings == {"YmluYXJ5L2VuY3J5cHRlZA=="}  # base64 of binary/encrypted
    assert shown.stdout and HOLDER_NAME not in shown.stdout and "Belfort" not in shown.stdout


async def test_the_committed_plain_histories_replay_with_the_codec_on() -> None:
    replayer = Replayer(
        workflows=WORKFLOWS, data_converter=converter_with_keys(f"k:{new_key()}"), workflow_runner=sandbox_runner()
    )
    last = max(int(q.parent.name[1:]) for q in HISTORIES)
    newest = [p for p in HISTORIES if p.parent.name == f"v{last}"]
    for path in newest:
        result = await replayer.replay_workflow(load(path), raise_on_replay_failure=False)
        assert result.replay_failure is None, f"{Path(path).stem}: {result.replay_failure}"


def test_the_command_line_makes_a_key_the_setting_accepts() -> None:
    result = CliRunner().invoke(app, ["payload-key", "prod-2027"])
    assert result.exit_code == 0, result.output
    line = result.output.strip()
    assert line.startswith("prod-2027:")
    assert Settings(payload_keys=line).payload_keys is not None
    assert parse_keys(line)[0][0] == "prod-2027"


async def test_the_temporal_uis_codec_endpoint_decodes_what_the_workers_encrypted(
    sqlite_store: RecordStore, mailbox: Mailbox
) -> None:
    """Temporal UI's protocol: POST <endpoint>/decode with the protobuf JSON of Payloads; decode only."""
    keys = f"prod-2026:{new_key()}"
    sealed = await EncryptionCodec(parse_keys(keys)).encode([plain(f'"{HOLDER_NAME}"')])
    body = MessageToDict(Payloads(payloads=sealed))
    with_keys = create_app(mailbox.settings.model_copy(update={"payload_keys": SecretStr(keys)}), None, sqlite_store)
    without = create_app(mailbox.settings, None, sqlite_store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=with_keys), base_url="http://api") as http:
        decoded = await http.post("/codec/decode", json=body)
        garbage = await http.post("/codec/decode", json={"payloads": [{"data": "not base64!"}]})
        no_encode = await http.post("/codec/encode", json=body)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=without), base_url="http://api") as http:
        off = await http.post("/codec/decode", json=body)
    assert decoded.status_code == 200
    [payload] = ParseDict(decoded.json(), Payloads()).payloads
    assert payload.data == f'"{HOLDER_NAME}"'.encode() and payload.metadata["encoding"] == b"json/plain"
    assert garbage.status_code == 422 and no_encode.status_code in (404, 405)
    assert off.status_code == 404
