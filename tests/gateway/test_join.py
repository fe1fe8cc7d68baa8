"""A new department joins the federation end to end, with the real CLI and a real `jgx serve` over mTLS.

request → merge → sign → serve → submit: the department makes its keys and CSR (`jgx init --csr`),
hands in one signed join request (`jgx trust request`), the admin reviews and merges it, signing the
next trust version (`jgx trust merge --key`), the CA operator issues the certificate from the CSR
carried in the request (`jgx pki issue`), and the department's first record is accepted. Its
certificate is then revoked (`jgx pki revoke`) and the running hub refuses it without a restart.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2  # type: ignore[import-untyped]
from grpc_status import rpc_status

import standards
from gateway.crl import load_crl, revoke
from gateway.envelope import seal_message
from gateway.keys import load_private_key
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.pki import create_ca, issue_node_certificate, load_certificate, node_id_from_certificate
from gateway.receipts import verify_receipt
from gateway.tls import channel_credentials
from gateway.trust_update import load_trust
from tests.gateway.nodes import ROOT, ServeProcess, jgx

SUBMIT = "/jgx.exchange.v1.Exchange/Submit"


def _envelope(directory: Path, message_id: str) -> bytes:
    """An SC-08 record from sc.env to sc.hub, signed with the department's own key."""
    now = datetime.now(UTC)
    message = exchange_pb2.Message(
        message_id=message_id,
        sender="sc.env",
        recipient="sc.hub",
        standard="SC-08",
        standard_version="1.0.0",
        operation=exchange_pb2.OPERATION_INSERT,
        business_key=message_id[:16],
        payload=standards.sample("SC-08", version="1.0.0"),
    )
    message.issued_at.FromDatetime(now)
    message.expires_at.FromDatetime(now + timedelta(hours=1))
    key = load_private_key((directory / "keys" / "node.key").read_bytes())
    return seal_message(message, key).SerializeToString()


def _submit(port: int, credentials: grpc.ChannelCredentials, envelope: bytes) -> exchange_pb2.SubmitResponse:
    with grpc.secure_channel(f"127.0.0.1:{port}", credentials) as channel:
        call = channel.unary_unary(SUBMIT, response_deserializer=exchange_pb2.SubmitResponse.FromString)
        response: exchange_pb2.SubmitResponse = call(envelope, timeout=20)
        return response


def _ok(result: object) -> None:
    assert 0 == result.returncode, f"{result.args}\n{result.stdout}\n{result.stderr}"  # type: ignore[attr-defined]


def test_a_department_joins_submits_and_is_revoked(tmp_path: Path) -> None:
    """A department joins with request → merge → issue, is accepted over mTLS, then refused once revoked."""
    hub, env = tmp_path / "hub", tmp_path / "env"
    _ok(jgx("init", str(hub), "--node-id", "sc.hub"))
    _ok(jgx("init", str(env), "--node-id", "sc.env", "--csr"))
    request = tmp_path / "sc.env.request.json"
    _ok(
        jgx(
            "trust",
            "request",
            "--dir",
            str(env),
            "--name-zh",
            "四川省生态环境厅",
            "--name-en",
            "Ecology",
            "--gateway",
            "sc.hub",
            "--recipient",
            "sc.hub",
            "--standard",
            "SC-08",
            "--out",
            str(request),
        )
    )
    merged = jgx(
        "trust",
        "merge",
        str(request),
        "--trust",
        str(hub / "trust.json"),
        "--key",
        str(hub / "keys" / "admin.key"),
        "--out",
        str(tmp_path / "trust.v2.json"),
    )
    _ok(merged)
    assert '+    "sc.env": {' in merged.stdout  # the admin saw the diff
    _ok(jgx("trust", "verify", str(tmp_path / "trust.v2.json"), "--previous", str(hub / "trust.json")))
    for target in (hub / "trust.json", env / "trust.json"):
        shutil.copyfile(tmp_path / "trust.v2.json", target)
    _ok(jgx("pki", "issue", str(request), "--dir", str(hub), "--out", str(env / "tls" / "node.crt")))
    shutil.copyfile(hub / "tls" / "ca.crt", env / "tls" / "ca.crt")
    toml = hub / "jgx.toml"
    toml.write_text(toml.read_text("utf-8").replace("reload_seconds = 10.0", "reload_seconds = 0.0"), "utf-8")

    ca = (env / "tls" / "ca.crt").read_bytes()
    own = channel_credentials(
        (env / "tls" / "node.crt").read_bytes(), (env / "tls" / "node.key").read_bytes(), ca
    )
    now = datetime.now(UTC)
    forged = channel_credentials(
        *issue_node_certificate(*create_ca("jgx CA of sc.hub", now), "sc.env", now=now), ca
    )
    serve = ServeProcess(hub, "--listen", "127.0.0.1:0", "--console", "off")
    try:
        accepted = _submit(serve.port, own, _envelope(env, uuid.uuid4().hex))
        with pytest.raises(grpc.RpcError) as stranger:
            _submit(serve.port, forged, _envelope(env, uuid.uuid4().hex))
        _ok(
            jgx(
                "pki",
                "revoke",
                str(env / "tls" / "node.crt"),
                "--dir",
                str(hub),
                "--reason",
                "key-compromise",
            )
        )
        with pytest.raises(grpc.RpcError) as revoked:
            _submit(serve.port, own, _envelope(env, uuid.uuid4().hex))
    finally:
        assert 0 == serve.terminate()
    trust = load_trust((hub / "trust.json").read_bytes(), now=datetime.now(UTC))
    receipt = verify_receipt(accepted.receipt, trust, issuer="sc.hub", now=datetime.now(UTC))
    assert (exchange_pb2.OUTCOME_ACCEPTED, []) == (receipt.outcome, list(receipt.reason_codes))
    assert grpc.StatusCode.UNAVAILABLE == stranger.value.code()  # type: ignore[attr-defined]
    status = rpc_status.from_call(revoked.value)  # type: ignore[arg-type]
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    status.details[0].Unpack(info)
    assert ("IDENTITY_MISMATCH", True) == (info.reason, "revoked" in info.metadata["detail"])


def guide_commands() -> list[str]:
    """The shell block of the integrator guide's joining walk-through, one command per line."""
    guide = (ROOT / "docs" / "integrator-guide.md").read_text("utf-8")
    section = guide.split("### Joining the federation", 1)[1].split("\n## ", 1)[0]
    block = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)[0]
    return [line for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def test_the_guide_walk_through_runs_as_printed(tmp_path: Path) -> None:
    """Every command of the integrator guide's joining walk-through exits 0 and sets the department up."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    results = [
        (
            command[:60],
            subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, check=False),
        )
        for command in guide_commands()
    ]
    assert [] == [(name, done.returncode, done.stderr) for name, done in results if done.returncode != 0]
    department = tmp_path / "nodes" / "env"
    certificate = load_certificate((department / "tls" / "node.crt").read_bytes())
    certificate.verify_directly_issued_by(load_certificate((department / "tls" / "ca.crt").read_bytes()))
    trust = load_trust((department / "trust.json").read_bytes(), now=datetime.now(UTC))
    assert ("sc.env", True) == (
        node_id_from_certificate(certificate),
        trust.allows("sc.env", "SC-08", "sc.hub"),
    )


def test_a_node_does_not_start_with_a_crl_of_another_ca(tmp_path: Path) -> None:
    """`jgx serve` exits 2, naming the CRL, when the CRL in jgx.toml is not its CA's."""
    _ok(jgx("init", str(tmp_path), "--node-id", "sc.hub"))
    other = create_ca("jgx CA of sc.hub", datetime.now(UTC))
    (tmp_path / "tls" / "ca.crl").write_bytes(revoke(*other, None, [], now=datetime.now(UTC)))
    result = jgx("serve", "--dir", str(tmp_path), "--listen", "127.0.0.1:0", "--console", "off")
    assert (2, True) == (result.returncode, "the CRL" in result.stderr), result.stderr


def test_the_readme_join_session_runs_as_printed(tmp_path: Path) -> None:
    """README's `jgx init` and "A department joins" blocks run as printed, ending in a revocation."""
    readme = (ROOT / "README.md").read_text("utf-8")
    blocks = [
        re.findall(r"```sh\n(.*?)```", readme.split(heading, 1)[1], flags=re.DOTALL)[0]
        for heading in ("## A node in one command", "## A department joins")
    ]
    commands = [line for block in blocks for line in block.replace("\\\n", " ").splitlines() if line.strip()]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    runs = [
        subprocess.run(["bash", "-c", c], cwd=tmp_path, env=env, capture_output=True, check=False)
        for c in commands
    ]
    assert [] == [(c[:50], r.stderr) for c, r in zip(commands, runs, strict=True) if r.returncode != 0]
    serial = load_certificate((tmp_path / "nodes" / "env" / "tls" / "node.crt").read_bytes()).serial_number
    crl = load_crl(
        (tmp_path / "nodes/hub/tls/ca.crl").read_bytes(), (tmp_path / "nodes/hub/tls/ca.crt").read_bytes()
    )
    assert (6, "key-compromise") == (len(commands), crl.revoked[serial].reason)
