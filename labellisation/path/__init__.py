"""The pure path model: states, commands, transitions, deadlines, status.

Nothing here imports Temporal, reads the clock or does I/O: the workflow
passes `now` in and runs whatever side effects the new state implies.
"""
