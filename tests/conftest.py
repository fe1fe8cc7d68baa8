"""Fixtures shared by test packages: the one SoftHSM2 of a test session (see `tests.gateway.softhsm`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.gateway.softhsm import Hsm, session_tokens


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hsm]:
    """Every token and key pair the tests use, made before this process first loads SoftHSM (which reads
    its configuration and the tokens present once per process), with SOFTHSM2_CONF and the PIN set."""
    yield from session_tokens(tmp_path_factory.mktemp("softhsm"))
