"""The data converter: pydantic models in and out, readable refusals of bad payloads.

The pydantic converter of temporalio raises a bare ValidationError, which the
SDK reports as "Failed decoding arguments". Raising an ApplicationError instead
makes Temporal reject the update with the field and the reason.
"""

from __future__ import annotations

from typing import Any

import temporalio.api.common.v1
from pydantic import ValidationError
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)
from temporalio.exceptions import ApplicationError

from labellisation.errors import describe_validation_error

INVALID_PAYLOAD = "invalid"


class ExplainingJSONPayloadConverter(PydanticJSONPlainPayloadConverter):
    def from_payload(self, payload: temporalio.api.common.v1.Payload, type_hint: type | None = None) -> Any:
        try:
            return super().from_payload(payload, type_hint)
        except ValidationError as error:
            raise ApplicationError(
                f"contenu invalide : {describe_validation_error(error)}", type=INVALID_PAYLOAD, non_retryable=True
            ) from None


class LabellisationPayloadConverter(CompositePayloadConverter):
    def __init__(self) -> None:
        explaining = ExplainingJSONPayloadConverter()
        super().__init__(
            *(
                explaining if isinstance(c, JSONPlainPayloadConverter) else c
                for c in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )


data_converter = DataConverter(payload_converter_class=LabellisationPayloadConverter)
