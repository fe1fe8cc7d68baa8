"""Authoring source of the 20 standards: Python that writes ``standards/data`` (see tools/author_standards.py)."""
