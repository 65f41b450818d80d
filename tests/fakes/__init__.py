"""Fake external services for tests (importable thanks to pytest ``pythonpath = ["tests"]``)."""
