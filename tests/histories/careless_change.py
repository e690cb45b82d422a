"""A workflow changed without `workflow.patched()`: the replay test must catch it.

Its own module: the workflow sandbox re-imports the module that defines a
workflow, so this one imports nothing but workflow code.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from labellisation.contract import WORKFLOW_NAME, ProjectOutcome, StartProject
    from workflows.school_creation import SchoolCreationWorkflow


@workflow.defn(name=WORKFLOW_NAME)
class ChangedWithoutAPatch(SchoolCreationWorkflow):
    """A new timer before the loop."""

    @workflow.run
    async def run(self, start: StartProject) -> ProjectOutcome:
        await workflow.sleep(timedelta(seconds=1))
        return await super().run(start)
