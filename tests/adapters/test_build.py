"""The build digest in an adapter's manifest follows the source it runs."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.sdk.build import build_digest


@pytest.fixture
def package(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "jgx_build_probe"
    root.mkdir()
    (root / "__init__.py").write_text("VALUE = 1\n")
    sys.path.insert(0, str(tmp_path))
    yield root
    sys.path.remove(str(tmp_path))
    sys.modules.pop("jgx_build_probe", None)


def test_the_build_digest_changes_when_a_source_file_changes(package: Path) -> None:
    """Editing one byte of a package's source gives another digest; reading twice gives the same one."""
    first, again = build_digest(["jgx_build_probe"]), build_digest(["jgx_build_probe"])
    (package / "__init__.py").write_text("VALUE = 2\n")
    assert (first, True) == (again, first != build_digest(["jgx_build_probe"]))
