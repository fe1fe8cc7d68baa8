"""`jgx trust request`/`merge` and `jgx pki`: what the admin and the CA operator refuse and why."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from gateway.cli import main
from gateway.cli.init import initialise
from gateway.crl import load_crl
from gateway.keys import Algorithm, generate_key, load_private_key
from gateway.pki import create_ca, create_csr, issue_node_certificate, load_certificate
from gateway.trust import Node, TrustConfig, key_record
from gateway.trust_update import load_trust, sign_trust

NOW = datetime.now(UTC)  # the hub's trust and CA are made for the real clock, as the CLI reads it


def run(*args: str | Path) -> Result:
    """The CLI in-process."""
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def hub(tmp_path: Path) -> Path:
    """A hub node directory (own CA, admin key, trust version 1)."""
    initialise(tmp_path / "hub", "sc.hub", now=NOW)
    return tmp_path / "hub"


def department(tmp_path: Path, node_id: str, *extra: str) -> Path:
    """A department made with `jgx init --csr` and its join request; the request file's path."""
    directory = tmp_path / node_id
    if not directory.exists():
        initialise(directory, node_id, now=NOW, csr=True)
    out = tmp_path / f"{node_id}.{len(list(tmp_path.glob(node_id + '*.json')))}.request.json"
    args = ["trust", "request", "--dir", directory, "--name-zh", "部门", "--name-en", "Dept", "--out", out]
    result = run(*args, *(extra or ("--gateway", "sc.hub", "--recipient", "sc.hub", "--standard", "SC-08")))
    assert 0 == result.exit_code, result.output
    return out


def merge(hub: Path, *requests: Path, extra: tuple[str, ...] = ()) -> Result:
    """`jgx trust merge` against the hub's trust, signing with its admin key."""
    out = hub.parent / "next.json"
    return run(
        "trust",
        "merge",
        *requests,
        "--trust",
        hub / "trust.json",
        "--key",
        hub / "keys" / "admin.key",
        "--out",
        out,
        *extra,
    )


def _edit_payload(path: Path, change: Callable[[dict[str, object]], None]) -> None:
    doc = json.loads(path.read_text("utf-8"))
    payload = json.loads(base64.b64decode(doc["payload"]))
    change(payload)
    doc["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    path.write_text(json.dumps(doc), "utf-8")


class TestMerge:
    def test_a_clean_request_becomes_the_next_signed_version(self, hub: Path, tmp_path: Path) -> None:
        """The merged version is N+1, chains from N, registers the node, its key and its ACL entry."""
        result = merge(hub, department(tmp_path, "sc.env"))
        assert 0 == result.exit_code, result.output
        previous = load_trust((hub / "trust.json").read_bytes(), now=NOW)
        nxt = load_trust((tmp_path / "next.json").read_bytes(), now=NOW, previous=previous)
        assert (2, "sc.hub", True, False) == (
            nxt.version,
            nxt.node("sc.env").gateway,
            nxt.allows("sc.env", "SC-08", "sc.hub"),
            nxt.allows("sc.env", "SC-06", "sc.hub"),
        )

    def test_dry_run_writes_nothing_and_without_a_key_the_version_is_unsigned(
        self, hub: Path, tmp_path: Path
    ) -> None:
        """--dry-run only reviews; without --key the next version waits for `jgx trust sign`."""
        request = department(tmp_path, "sc.env")
        review = run("trust", "merge", request, "--trust", hub / "trust.json", "--dry-run")
        assert (0, False) == (review.exit_code, (tmp_path / "next.json").exists())
        assert '+  "version": 2' in review.output
        unsigned = run(
            "trust", "merge", request, "--trust", hub / "trust.json", "--out", tmp_path / "next.json"
        )
        assert 0 == unsigned.exit_code
        assert "jgx trust sign" in unsigned.output
        signed = run(
            "trust",
            "sign",
            tmp_path / "next.json",
            "--key",
            hub / "keys" / "admin.key",
            "--out",
            tmp_path / "signed.json",
        )
        verified = run("trust", "verify", tmp_path / "signed.json", "--previous", hub / "trust.json")
        assert (0, 0) == (signed.exit_code, verified.exit_code), verified.output

    def test_a_key_that_is_no_admin_key_is_a_usage_error(self, hub: Path, tmp_path: Path) -> None:
        """Signing with a key that is not one of version N's admins writes nothing and exits 2."""
        request = department(tmp_path, "sc.env")
        result = run(
            "trust",
            "merge",
            request,
            "--trust",
            hub / "trust.json",
            "--key",
            tmp_path / "sc.env" / "keys" / "node.key",
            "--out",
            tmp_path / "next.json",
        )
        assert (2, False) == (result.exit_code, (tmp_path / "next.json").exists())


def _tamper_name(payload: dict[str, object]) -> None:
    payload["node"]["name_zh"] = "冒名"  # type: ignore[index]


def _widen_acl(payload: dict[str, object]) -> None:
    payload["acl"] = [{"sender": "sc.env", "recipients": ["*"], "standards": ["*"]}]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("renamed-after-signing", "SIGNATURE_INVALID"),
        ("acl-widened-after-signing", "SIGNATURE_INVALID"),
        ("signature-of-another-key", "SIGNATURE_INVALID"),
        ("node-already-present", "already in version 1"),
        ("key-of-another-node", "already belongs to node sc.hub"),
        ("two-requests-one-node", "two requests register node sc.env"),
        ("recipient-unknown", "are no nodes"),
        ("gateway-unknown", "is no node"),
        ("another-payload-type", "PAYLOAD_TYPE_UNKNOWN"),
        ("not-json", "MALFORMED"),
    ],
)
def test_tampered_and_conflicting_requests_are_refused(
    hub: Path, tmp_path: Path, case: str, expected: str
) -> None:
    """Each refused request exits 1 with its reason, and no next version is written."""
    requests = [department(tmp_path, "sc.env")]
    if case == "renamed-after-signing":
        _edit_payload(requests[0], _tamper_name)
    elif case == "acl-widened-after-signing":
        _edit_payload(requests[0], _widen_acl)
    elif case == "signature-of-another-key":
        doc = json.loads(requests[0].read_text("utf-8"))
        other = generate_key(Algorithm.ED25519)
        doc["signatures"][0]["sig"] = base64.b64encode(other.sign(b"anything")).decode()
        requests[0].write_text(json.dumps(doc), "utf-8")
    elif case == "node-already-present":
        requests = [department(tmp_path, "sc.hub", "--recipient", "sc.hub", "--standard", "SC-08")]
    elif case == "key-of-another-node":
        out = tmp_path / "stolen.json"
        result = run(
            "trust",
            "request",
            "--node-id",
            "sc.env",
            "--key",
            hub / "keys" / "node.key",
            "--name-zh",
            "部门",
            "--name-en",
            "Dept",
            "--out",
            out,
        )
        assert 0 == result.exit_code
        requests = [out]
    elif case == "two-requests-one-node":
        requests.append(department(tmp_path, "sc.env"))
    elif case == "recipient-unknown":
        requests = [department(tmp_path, "sc.env", "--recipient", "sc.nowhere", "--standard", "SC-08")]
    elif case == "gateway-unknown":
        requests = [department(tmp_path, "sc.env", "--gateway", "sc.nowhere")]
    elif case == "another-payload-type":
        requests[0].write_text('{"payload": "e30=", "payloadType": "x", "signatures": []}', "utf-8")
    else:
        requests[0].write_text("not json", "utf-8")
    result = merge(hub, *requests)
    assert (1, False) == (result.exit_code, (tmp_path / "next.json").exists()), result.output
    assert expected in result.output


def test_replace_needs_a_signature_by_a_key_the_node_already_has(hub: Path, tmp_path: Path) -> None:
    """--replace updates a node only when a current key of the node signed the request."""
    assert 0 == merge(hub, department(tmp_path, "sc.env")).exit_code
    (tmp_path / "next.json").replace(hub / "trust.json")
    old_key = tmp_path / "sc.env" / "keys" / "node.key"
    new_key = tmp_path / "new.key"
    new_key.write_bytes(generate_key(Algorithm.ED25519).to_pem())
    common = ("--node-id", "sc.env", "--name-zh", "部门", "--name-en", "Dept", "--gateway", "sc.hub")
    takeover, rotation = tmp_path / "takeover.json", tmp_path / "rotation.json"
    assert 0 == run("trust", "request", *common, "--key", new_key, "--out", takeover).exit_code
    assert (
        0 == run("trust", "request", *common, "--key", old_key, "--key", new_key, "--out", rotation).exit_code
    )
    refused = merge(hub, takeover, extra=("--replace",))
    accepted = merge(hub, rotation, extra=("--replace",))
    assert (1, 0) == (refused.exit_code, accepted.exit_code), refused.output + accepted.output
    assert "must be signed by one of its current keys" in refused.output
    # Then the old key is dropped: the request signed by the new key alone leaves it in place, revoked.
    (tmp_path / "next.json").replace(hub / "trust.json")
    assert 0 == merge(hub, takeover, extra=("--replace",)).exit_code
    old_id, new_id = (load_private_key(k.read_bytes()).key_id for k in (old_key, new_key))
    final = load_trust((tmp_path / "next.json").read_bytes(), now=NOW)
    assert {new_id: False, old_id: True} == {k.key_id: k.revoked for k in final.node("sc.env").keys}


def test_a_request_whose_csr_names_another_node_is_not_written(tmp_path: Path) -> None:
    """The department's own tool refuses a request carrying someone else's CSR (exit 2)."""
    initialise(tmp_path / "env", "sc.env", now=NOW, csr=True)
    (tmp_path / "amr.csr").write_bytes(create_csr("sc.amr")[0])
    result = run(
        "trust",
        "request",
        "--dir",
        tmp_path / "env",
        "--csr",
        tmp_path / "amr.csr",
        "--name-zh",
        "部门",
        "--name-en",
        "Dept",
        "--out",
        tmp_path / "r.json",
    )
    assert (2, False) == (result.exit_code, (tmp_path / "r.json").exists())
    assert "the CSR names sc.amr" in result.output


class TestPkiCommands:
    def test_csr_then_issue_then_revoke(self, hub: Path, tmp_path: Path) -> None:
        """The CA operator issues from a CSR file and revokes by certificate; the CRL lists its serial."""
        csr, key, crt = tmp_path / "env.csr", tmp_path / "env.key", tmp_path / "env.crt"
        made = run(
            "pki", "csr", "--node-id", "sc.env", "--out", csr, "--key-out", key, "--host", "env.example.cn"
        )
        issued = run("pki", "issue", csr, "--dir", hub, "--out", crt, "--days", "30")
        revoked = run("pki", "revoke", crt, "--dir", hub, "--reason", "superseded")
        assert (0, 0, 0) == (made.exit_code, issued.exit_code, revoked.exit_code), (
            issued.output + revoked.output
        )
        cert = load_certificate(crt.read_bytes())
        crl = load_crl((hub / "tls" / "ca.crl").read_bytes(), (hub / "tls" / "ca.crt").read_bytes())
        assert (["env.example.cn"], "superseded") == (
            cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
                x509.DNSName
            ),
            crl.revoked[cert.serial_number].reason,
        )
        assert serialization.load_pem_private_key(key.read_bytes(), None).public_key() == cert.public_key()

    def test_a_tampered_csr_is_a_verdict(self, hub: Path, tmp_path: Path) -> None:
        """A CSR changed after signing is refused with exit 1 and no certificate is written."""
        pem = create_csr("sc.env")[0]
        der = bytearray(x509.load_pem_x509_csr(pem).public_bytes(serialization.Encoding.DER))
        at = bytes(der).index(b"sc.env")
        der[at : at + 6] = b"sc.amr"
        (tmp_path / "bad.csr").write_bytes(bytes(der))
        result = run("pki", "issue", tmp_path / "bad.csr", "--dir", hub, "--out", tmp_path / "x.crt")
        assert (1, False) == (result.exit_code, (tmp_path / "x.crt").exists())
        assert "tampered" in result.output

    def test_usage_and_io_errors_exit_2(self, hub: Path, tmp_path: Path) -> None:
        """Missing files, no CA given, a certificate of another CA, a bad serial: exit 2, bilingual."""
        other = issue_node_certificate(*create_ca("other", NOW), "sc.env", now=NOW)[0]
        (tmp_path / "other.crt").write_bytes(other)
        results = [
            run("pki", "issue", tmp_path / "missing.csr", "--dir", hub, "--out", tmp_path / "x.crt"),
            run("pki", "issue", tmp_path / "missing.csr", "--out", tmp_path / "x.crt"),
            run("pki", "revoke", tmp_path / "other.crt", "--dir", hub),
            run("pki", "revoke", "--serial", "xyz", "--dir", hub),
            run("pki", "crl", "--ca-cert", hub / "tls" / "ca.crt", "--ca-key", hub / "tls" / "ca.key"),
            run("pki", "csr", "--node-id", "Not Valid", "--out", tmp_path / "a", "--key-out", tmp_path / "b"),
        ]
        assert [2] * len(results) == [r.exit_code for r in results], [r.output for r in results]
        assert all("错误" in r.output and "error" in r.output for r in results)

    def test_crl_refresh_keeps_entries_and_moves_next_update(self, hub: Path) -> None:
        """`jgx pki crl` re-signs the list: same entries, higher number, the new nextUpdate."""
        assert 0 == run("pki", "revoke", "--serial", "0a:bc", "--dir", hub, "--days", "1").exit_code
        before = load_crl((hub / "tls" / "ca.crl").read_bytes(), (hub / "tls" / "ca.crt").read_bytes())
        assert 0 == run("pki", "crl", "--dir", hub, "--days", "60").exit_code
        after = load_crl((hub / "tls" / "ca.crl").read_bytes(), (hub / "tls" / "ca.crt").read_bytes())
        assert (before.number + 1, before.revoked, {0xABC}) == (
            after.number,
            after.revoked,
            set(after.revoked),
        )
        assert after.next_update > before.next_update


@pytest.mark.parametrize(
    "verb",
    [
        ("pki",),
        ("pki", "csr"),
        ("pki", "issue"),
        ("pki", "revoke"),
        ("pki", "crl"),
        ("trust", "request"),
        ("trust", "merge"),
        ("init",),
    ],
)
def test_every_new_verb_explains_itself_with_an_example(verb: tuple[str, ...]) -> None:
    """--help on each new verb exits 0 and shows an example."""
    result = run(*verb, "--help")
    assert (0, True) == (result.exit_code, "Example" in result.output)


def test_with_a_threshold_of_two_the_admins_sign_in_turn(tmp_path: Path) -> None:
    """One admin's merge writes version N+1 and says it needs more; the second admin's `sign` completes it."""
    admins = [generate_key(Algorithm.ED25519) for _ in range(2)]
    for index, key in enumerate(admins):
        (tmp_path / f"admin{index}.key").write_bytes(key.to_pem())
    hub_key = generate_key(Algorithm.ED25519)
    current = TrustConfig.new([k.public_key for k in admins], threshold=2, issued_at=NOW,
                              expires_at=NOW + timedelta(days=30))  # fmt: skip
    current = current.with_node(Node("sc.hub", "枢纽", "Hub", "hub", (key_record(hub_key.public_key),)))
    (tmp_path / "trust.json").write_bytes(sign_trust(current, admins))
    request = department(tmp_path, "sc.env")
    first = run("trust", "merge", request, "--trust", tmp_path / "trust.json",
                "--key", tmp_path / "admin0.key", "--out", tmp_path / "next.json")  # fmt: skip
    early = run("trust", "verify", tmp_path / "next.json", "--previous", tmp_path / "trust.json")
    second = run("trust", "sign", tmp_path / "next.json", "--key", tmp_path / "admin1.key")
    done = run("trust", "verify", tmp_path / "next.json", "--previous", tmp_path / "trust.json")
    assert (0, 1, 0, 0) == (first.exit_code, early.exit_code, second.exit_code, done.exit_code), first.output
    assert "TRUST_THRESHOLD_NOT_MET" in first.output
