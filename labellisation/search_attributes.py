"""Registering the custom search attributes, idempotently.

`temporal server start-dev --search-attribute` only applies them when the
namespace is first created, so every start asks the operator service instead.
"""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.service import RPCError, RPCStatusCode

from labellisation.contract import SEARCH_ATTRIBUTES


async def register_search_attributes(client: Client, namespace: str = "default") -> list[str]:
    """Add the attributes the namespace lacks; return the names added."""
    try:
        listed = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
        known = set(listed.custom_attributes) | set(listed.system_attributes)
    except RPCError as error:  # the Java time-skipping server cannot list them
        if error.status is not RPCStatusCode.UNIMPLEMENTED:
            raise
        known = set()
    missing = {
        key.name: IndexedValueType.ValueType(SearchAttributeIndexedValueType(key.indexed_value_type).value)
        for key in SEARCH_ATTRIBUTES
        if key.name not in known
    }
    added = []
    for name, value_type in missing.items():
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(namespace=namespace, search_attributes={name: value_type})
            )
            added.append(name)
        except RPCError as error:
            if error.status is not RPCStatusCode.ALREADY_EXISTS:
                raise
    return sorted(added)
