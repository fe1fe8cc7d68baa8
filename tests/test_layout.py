"""The repository layout keeps the packages importable from every entry point."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("standards", "gateway", "adapters", "conformance")


def test_no_script_folder_shadows_a_package() -> None:
    """`python bench/X.py` puts bench/ first on sys.path, so no script there may be named like a package."""
    for folder in ("bench", "tools"):
        shadowing = sorted(p.name for p in (ROOT / folder).glob("*.py") if p.stem in PACKAGES)
        assert [] == shadowing, f"{folder}/ shadows a package: {shadowing}"
