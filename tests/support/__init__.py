"""Helpers shared by the tests: builders, drivers, a mailbox, the API under test."""
