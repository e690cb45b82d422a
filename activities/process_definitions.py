"""Loading a shipped process definition: file I/O, so an activity."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from labellisation.contract import ACTIVITY_LOAD_PROCESS, LoadProcess
from labellisation.process import ProcessDefinition, ProcessDefinitionError, load_process


class ProcessDefinitions:
    """Reads definitions when a project starts; the result is snapshotted in history."""

    @activity.defn(name=ACTIVITY_LOAD_PROCESS)
    def load_process_definition(self, request: LoadProcess) -> ProcessDefinition:
        try:
            return load_process(request.process_id)
        except ProcessDefinitionError as error:
            raise ApplicationError(str(error), type="ProcessDefinitionError", non_retryable=True) from None
