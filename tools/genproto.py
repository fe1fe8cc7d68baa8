"""Generate gateway/pb from proto/ (``make proto``), or check that the checked-in code is current.

The .proto files import each other as ``jgx/exchange/v1/exchange.proto``; protoc would emit
``from jgx.exchange.v1 import ...``. jgx has no top-level ``jgx`` or ``proto`` package (DESIGN §10),
so the generated modules live under ``gateway.pb`` and their imports are rewritten to match.

Usage: python tools/genproto.py [--check]
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO = ROOT / "proto"
OUT = ROOT / "gateway" / "pb"
_IMPORT = re.compile(r"^(from|import) jgx\.", re.MULTILINE)
_QUALIFIED = re.compile(r"\bjgx\.(exchange|adapter)\.v1\.(\w+_pb2)\b")


def _generate(into: Path) -> None:
    sources = sorted(str(p.relative_to(PROTO)) for p in PROTO.rglob("*.proto"))
    bindir = Path(sys.executable).parent
    cmd = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"-I{PROTO}",
        f"--plugin=protoc-gen-mypy={bindir / 'protoc-gen-mypy'}",
        f"--plugin=protoc-gen-mypy_grpc={bindir / 'protoc-gen-mypy_grpc'}",
        f"--python_out={into}",
        f"--grpc_python_out={into}",
        f"--mypy_out={into}",
        f"--mypy_grpc_out={into}",
        *sources,
    ]
    subprocess.run(cmd, check=True, cwd=PROTO)
    for path in into.rglob("*.py*"):
        text = _IMPORT.sub(r"\1 gateway.pb.jgx.", path.read_text(encoding="utf-8"))
        text = _QUALIFIED.sub(r"gateway.pb.jgx.\1.v1.\2", text)
        path.write_text(text, encoding="utf-8")
    for directory in [into, *(d for d in into.rglob("*") if d.is_dir())]:
        (directory / "__init__.py").touch()
    (into / "__init__.py").write_text(
        '"""Generated from proto/ by tools/genproto.py (make proto). Do not edit."""\n',
        encoding="utf-8",
    )
    (into / "py.typed").touch()


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def main(argv: list[str]) -> int:
    """Generate (default) or compare (--check); exit 1 when the checked-in code has drifted."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "pb"
        fresh.mkdir()
        _generate(fresh)
        if "--check" in argv:
            want, have = _tree(fresh), _tree(OUT) if OUT.exists() else {}
            drift = sorted(k for k in want.keys() | have.keys() if want.get(k) != have.get(k))
            if drift:
                print("gateway/pb differs from proto/; run `make proto`:", *drift, sep="\n  ")
                return 1
            print("gateway/pb is up to date")
            return 0
        if OUT.exists():
            shutil.rmtree(OUT)
        shutil.copytree(fresh, OUT)
    print(f"generated {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
