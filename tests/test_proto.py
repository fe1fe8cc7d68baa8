"""The checked-in generated code matches proto/ (``make proto``)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_generated_code_matches_proto_sources() -> None:
    """Regenerating gateway/pb from proto/ yields byte-identical files."""
    result = subprocess.run(
        [sys.executable, "tools/genproto.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_exchange_service_has_the_contracted_methods() -> None:
    """The Exchange and Adapter services expose exactly the RPCs of DESIGN §3."""
    from gateway.pb.jgx.adapter.v1 import adapter_pb2
    from gateway.pb.jgx.exchange.v1 import exchange_pb2

    exchange = exchange_pb2.DESCRIPTOR.services_by_name["Exchange"]
    adapter = adapter_pb2.DESCRIPTOR.services_by_name["Adapter"]
    assert {m.name for m in exchange.methods} == {
        "Submit",
        "SubmitStream",
        "Trace",
        "GetCheckpoint",
        "GetInclusionProof",
        "GetConsistencyProof",
    }
    assert {m.name for m in adapter.methods} == {"Describe", "Deliver", "Export"}
