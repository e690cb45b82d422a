"""The HTTP API (FastAPI): the contract of shared/DESIGN.md."""
