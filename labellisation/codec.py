"""Payloads encrypted for Temporal (#18 item 3): AES-GCM, so Temporal's database holds no readable personal data.

Every payload the clients and workers send (a project's profile, a holder's name and address, comments) is
encrypted before it leaves the process and decrypted when it comes back; Temporal stores ciphertext. Each payload
names its key (`encryption-key-id`), so keys can rotate: the first of `LABELLISATION_PAYLOAD_KEYS` encrypts, every
one listed decrypts. A payload without the encrypted encoding (a history from before, the committed test
histories) is passed through as it is: old histories still replay.

`LABELLISATION_PAYLOAD_KEYS` is `id:base64-key[,id:base64-key...]` with 32-byte keys (AES-256); make one with
`labellisation payload-key` (or `python -c "import os, base64; print(base64.b64encode(os.urandom(32)).decode())"`).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, PayloadCodec

from labellisation.converter import data_converter

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12


class PayloadKeyError(ValueError):
    """`LABELLISATION_PAYLOAD_KEYS` is malformed: the message says where."""


def parse_keys(text: str) -> list[tuple[str, bytes]]:
    """`id:base64,id:base64` into (id, 32-byte key) pairs, the encrypting one first."""
    keys: list[tuple[str, bytes]] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        key_id, sep, encoded = part.partition(":")
        if not sep or not key_id.strip():
            raise PayloadKeyError("chaque clé s'écrit « identifiant:clé-en-base64 »")
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except binascii.Error:
            raise PayloadKeyError(f"la clé « {key_id.strip()} » n'est pas en base64") from None
        if len(key) != 32:
            raise PayloadKeyError(f"la clé « {key_id.strip()} » doit faire 32 octets (AES-256)")
        keys.append((key_id.strip(), key))
    if not keys:
        raise PayloadKeyError("aucune clé")
    if len({k for k, _ in keys}) != len(keys):
        raise PayloadKeyError("deux clés portent le même identifiant")
    return keys


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: list[tuple[str, bytes]]) -> None:
        self.key_id, key = keys[0]
        self._encrypting = AESGCM(key)
        self._keys = {key_id: AESGCM(k) for key_id, k in keys}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for payload in payloads:
            nonce = os.urandom(NONCE_BYTES)
            sealed = self._encrypting.encrypt(nonce, payload.SerializeToString(), None)
            out.append(Payload(metadata={"encoding": ENCODING, KEY_ID: self.key_id.encode()}, data=nonce + sealed))
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                out.append(payload)  # not encrypted: from before, or from a client without keys
                continue
            key_id = payload.metadata.get(KEY_ID, b"").decode()
            aes = self._keys.get(key_id)
            if aes is None:
                raise PayloadKeyError(f"PAYLOAD_KEYS : aucune clé « {key_id} » pour déchiffrer ce contenu")
            opened = aes.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], None)
            out.append(Payload.FromString(opened))
        return out


def converter_with_keys(keys_text: str | None) -> DataConverter:
    """The data converter, with the encryption codec when keys are given (else payloads stay plain)."""
    if not keys_text:
        return data_converter
    return dataclasses.replace(data_converter, payload_codec=EncryptionCodec(parse_keys(keys_text)))


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()
