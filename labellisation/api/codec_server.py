"""The codec endpoint of the Temporal UI (#18 item 3): operators read the encrypted payloads in the UI.

Temporal UI posts `{"payloads": [...]}` (the protobuf JSON of `temporal.api.common.v1.Payloads`) to
`<endpoint>/decode` and shows what comes back. Served by the API only when `LABELLISATION_PAYLOAD_KEYS` is set,
and only decode: nothing may be written through it. It is not for the public: the compose file's proxy serves it
under `/codec/` behind the same basic auth as the UI (`deploy/Caddyfile`), and the API's own port is internal.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from google.protobuf.json_format import MessageToDict, ParseDict, ParseError
from temporalio.api.common.v1 import Payloads

from labellisation.codec import EncryptionCodec, PayloadKeyError, parse_keys

router = APIRouter(include_in_schema=False)


def codec_of(request: Request) -> EncryptionCodec | None:
    keys = request.app.state.settings.payload_keys
    return EncryptionCodec(parse_keys(keys.get_secret_value())) if keys is not None else None


@router.post("/codec/decode")
async def decode(request: Request) -> JSONResponse:
    codec = codec_of(request)
    if codec is None:
        return JSONResponse({"detail": "aucune clé de chiffrement n'est réglée (LABELLISATION_PAYLOAD_KEYS)"}, 404)
    try:
        body: Any = await request.json()
        payloads = ParseDict(body, Payloads())
        decoded = await codec.decode(list(payloads.payloads))
    except (ValueError, ParseError, PayloadKeyError) as error:
        return JSONResponse({"detail": f"contenu illisible : {type(error).__name__}"}, 422)
    return JSONResponse(MessageToDict(Payloads(payloads=decoded)))
