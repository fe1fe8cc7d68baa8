"""国密 SM2-with-SM3: the standards' worked examples, interop with two other libraries, the key interface."""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import gmssl_pyx
import pytest
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from gateway import sm2
from gateway.errors import ReasonCode, VerificationError
from gateway.freshness import MemorySeenIds
from gateway.keys import Algorithm, PrivateKey, generate_key, load_private_key, load_public_key
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.pipeline import judge
from gateway.testing import Federation
from gateway.trust import TrustConfig, key_record
from gateway.trust_update import load_trust, sign_trust
from tests.gateway.sm2_reference import Curve, sign_with_nonce

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "sm2-sm3.json").read_text("utf-8"))
SIGN_VECTORS = {v["name"]: v for v in VECTORS["sm2_sign"]}
NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def _int(vector: dict[str, str], name: str) -> int:
    return int(vector[name], 16)


def _domain(vector: dict[str, dict[str, str]]) -> sm2.CurveDomain:
    c = vector["curve"]
    return sm2.CurveDomain(int(c["a"], 16), int(c["b"], 16), int(c["gx"], 16), int(c["gy"], 16))


@pytest.mark.parametrize("case", VECTORS["sm3"], ids=lambda c: c["name"])
@pytest.mark.parametrize("source", ["in use", *sm2.SM3_IMPLEMENTATIONS])
def test_sm3_reproduces_the_gbt_32905_examples(case: dict[str, str], source: str) -> None:
    """SM3 gives GB/T 32905's digests for "abc" and the 64-byte message, from every source jgx may use."""
    sm3 = sm2.sm3 if source == "in use" else sm2.SM3_IMPLEMENTATIONS[source]
    assert case["digest"] == sm3(bytes.fromhex(case["message_hex"])).hex()


def test_z_and_e_reproduce_annex_a() -> None:
    """Z_A and e computed by jgx equal the values GB/T 32918.2 Annex A prints."""
    v = SIGN_VECTORS["annex_a"]
    z = sm2.z_value(_int(v, "public_x"), _int(v, "public_y"), v["signer_id"].encode(), _domain(v))
    assert v["z"].lower() == z.hex()
    assert v["e"].lower() == sm2.digest_to_sign(z, v["message"].encode()).hex()


@pytest.mark.parametrize("name", sorted(SIGN_VECTORS))
def test_the_deterministic_k_hook_reproduces_the_worked_signatures(name: str) -> None:
    """With the example's k, the signing equation gives the published (r, s) on each curve."""
    v = SIGN_VECTORS[name]
    curve = Curve.from_hex(v["curve"])
    d = _int(v, "d")
    public = curve.multiply(d)
    assert public is not None
    if "public_x" in v:
        assert (_int(v, "public_x"), _int(v, "public_y")) == public
    z = sm2.z_value(public[0], public[1], v["signer_id"].encode(), _domain(v))
    e = int.from_bytes(sm2.digest_to_sign(z, v["message"].encode()), "big")
    assert (_int(v, "r"), _int(v, "s")) == sign_with_nonce(curve, d, e, _int(v, "k"))


def test_production_verification_accepts_the_recommended_curve_example() -> None:
    """Tongsuo-backed verification accepts the published signature and refuses it altered by one."""
    v = SIGN_VECTORS["recommended"]
    key = sm2.SM2SigningKey.from_scalar(_int(v, "d")).verifying_key
    verifier = sm2.SM2VerifyingKey.from_spki(key.spki_der, v["signer_id"].encode())
    r, s = _int(v, "r"), _int(v, "s")
    message = v["message"].encode()
    assert verifier.verify(encode_dss_signature(r, s), message)
    assert not verifier.verify(encode_dss_signature(r, s + 1), message)
    assert not verifier.verify(encode_dss_signature(r, s), message + b"!")
    # the same signature under the default signer id is another Z_A, so it must not verify
    assert not sm2.SM2VerifyingKey.from_spki(key.spki_der).verify(encode_dss_signature(r, s), message)


def test_the_public_key_matches_the_reference_multiplication() -> None:
    """The key Tongsuo derives from d is d·G as the textbook computes it."""
    v = SIGN_VECTORS["recommended"]
    signing = sm2.SM2SigningKey.from_scalar(_int(v, "d"))
    point = Curve.from_hex(v["curve"]).multiply(_int(v, "d"))
    assert point is not None
    uncompressed = b"\x04" + point[0].to_bytes(32, "big") + point[1].to_bytes(32, "big")
    assert signing.verifying_key.spki_der.endswith(uncompressed)


def _raw_public(key: sm2.SM2VerifyingKey) -> bytes:
    return key.spki_der[-64:]


@pytest.mark.parametrize("signer_id", [sm2.DEFAULT_SIGNER_ID, b"sc.amr@jgx.sc.gov.cn"])
def test_signatures_interoperate_with_gmssl(signer_id: bytes) -> None:
    """jgx's SM2 signatures verify in GmSSL and GmSSL's verify in jgx, for the default and another id."""
    key = sm2.SM2SigningKey.generate()
    key = sm2.SM2SigningKey(key._key, signer_id)
    message = b"DSSEv1 33 application/vnd.jgx.message.v1+protobuf 5 hello"
    raw_public = _raw_public(key.verifying_key)
    assert gmssl_pyx.sm2_verify(raw_public, message, key.sign(message), signer_id=signer_id)

    d = key._key.private_numbers().private_value.to_bytes(32, "big")
    theirs = gmssl_pyx.sm2_sign(d, raw_public, message, signer_id=signer_id)
    assert key.verifying_key.verify(theirs, message)
    assert not key.verifying_key.verify(theirs, message + b"x")


def test_signatures_interoperate_with_openssl(tmp_path: Path) -> None:
    """OpenSSL 3 verifies jgx's signature (default id) and jgx verifies OpenSSL's."""
    key = generate_key(Algorithm.SM2_SM3)
    (tmp_path / "k.pem").write_bytes(key.to_pem())
    (tmp_path / "p.pem").write_bytes(key.public_key.to_pem())
    (tmp_path / "m").write_bytes(b"a message for two implementations")
    (tmp_path / "jgx.sig").write_bytes(key.sign(b"a message for two implementations"))
    common = ["-rawin", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678", "-in", str(tmp_path / "m")]
    verified = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "p.pem"),
         "-sigfile", str(tmp_path / "jgx.sig"), *common],
        capture_output=True, text=True, check=False,
    )
    assert "Signature Verified Successfully" in verified.stdout, verified.stderr
    subprocess.run(
        ["openssl", "pkeyutl", "-sign", "-inkey", str(tmp_path / "k.pem"),
         "-out", str(tmp_path / "openssl.sig"), *common],
        check=True, capture_output=True,
    )
    theirs = (tmp_path / "openssl.sig").read_bytes()
    assert key.public_key.verify(theirs, b"a message for two implementations")


def test_keys_round_trip_and_key_ids_are_sha256_of_the_sm2_spki() -> None:
    """An SM2 key loads back from PEM and DER; its key id hashes an SPKI naming the SM2 curve OID."""
    key = generate_key(Algorithm.SM2_SM3)
    assert Algorithm.SM2_SM3 == key.algorithm
    assert key.key_id == load_private_key(key.to_pem()).key_id
    public = load_public_key(key.public_key.to_pem())
    assert key.key_id == public.key_id == load_public_key(public.spki_der).key_id
    assert hashlib.sha256(public.spki_der).hexdigest() == key.key_id
    assert sm2.CURVE_OID in public.spki_der
    assert public.verify(key.sign(b"m"), b"m")


def test_each_signature_draws_a_fresh_nonce() -> None:
    """Two signatures over the same bytes differ in r (k is random, never derived from a weak source)."""
    key = generate_key(Algorithm.SM2_SM3)
    r1, _ = decode_dss_signature(key.sign(b"same"))
    r2, _ = decode_dss_signature(key.sign(b"same"))
    assert r1 != r2


@pytest.mark.parametrize(
    "signature",
    [b"", b"\x30\x00", b"\x00" * 64, b"\xff" * 200, encode_dss_signature(0, 1), encode_dss_signature(1, 0)],
    ids=["empty", "empty-seq", "raw-zeros", "long", "r=0", "s=0"],
)
def test_malformed_signatures_are_false_never_an_exception(signature: bytes) -> None:
    """Verification answers False for any malformed or out-of-range signature."""
    assert not generate_key(Algorithm.SM2_SM3).public_key.verify(signature, b"m")


def test_raw_r_s_converts_to_der() -> None:
    """A 64-byte r‖s signature from another library converts to the DER form jgx verifies."""
    key = generate_key(Algorithm.SM2_SM3)
    r, s = decode_dss_signature(key.sign(b"m"))
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert key.public_key.verify(sm2.der_from_raw(raw), b"m")


def test_an_sm2_federation_passes_the_pipeline() -> None:
    """An envelope signed with SM2 by a node registered as sm2-sm3 is accepted at the hub."""
    fed = Federation.create(NOW, algorithm=Algorithm.SM2_SM3)
    verdict = judge(
        fed.envelope(fed.message("sc.amr", "sc.hub")),
        trust=fed.trust, local_node="sc.hub", now=NOW, seen=MemorySeenIds(),
    )
    assert () == verdict.reasons


def test_a_mixed_federation_verifies_each_node_by_its_registered_algorithm() -> None:
    """Ed25519, P-256 and SM2 nodes coexist in one trust configuration; each is verified by its record."""
    fed = Federation.create(NOW)
    for node_id, algorithm in (("sc.amr", Algorithm.SM2_SM3), ("sc.sjs", Algorithm.ECDSA_P256_SHA256)):
        key = generate_key(algorithm)
        fed.keys[node_id] = key
        fed.resign(fed.trust.with_node_key(node_id, key_record(key.public_key)))
    for sender, standard in (("sc.amr", "SC-06"), ("sc.sjs", "SC-05"), ("sc.12315", "SC-11")):
        verdict = judge(
            fed.envelope(fed.message(sender, "sc.hub", standard=standard)),
            trust=fed.trust, local_node="sc.hub", now=NOW, seen=MemorySeenIds(),
        )
        assert () == verdict.reasons, sender


def test_a_raw_r_s_signature_for_an_sm2_key_is_an_algorithm_mismatch() -> None:
    """A 64-byte r‖s signature (not GB/T 35276 DER) is named ALGORITHM_MISMATCH, not a forgery."""
    fed = Federation.create(NOW, algorithm=Algorithm.SM2_SM3)
    envelope = exchange_pb2.Envelope.FromString(fed.envelope(fed.message("sc.amr", "sc.hub")))
    r, s = decode_dss_signature(envelope.signatures[0].sig)
    envelope.signatures[0].sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    verdict = judge(
        envelope.SerializeToString(), trust=fed.trust, local_node="sc.hub", now=NOW, seen=MemorySeenIds()
    )
    assert (ReasonCode.ALGORITHM_MISMATCH,) == verdict.reasons


def test_a_trust_configuration_signed_by_an_sm2_admin_loads() -> None:
    """Trust administration works with SM2 admin keys: a document they sign loads and verifies."""
    admin = generate_key(Algorithm.SM2_SM3)
    later = NOW + timedelta(days=30)
    trust = TrustConfig.new([admin.public_key], threshold=1, issued_at=NOW, expires_at=later)
    assert 1 == load_trust(sign_trust(trust, [admin]), now=NOW).version


def test_a_recorded_signer_id_is_the_one_signatures_are_checked_under() -> None:
    """With a recorded signer_id the node signs under it (trust.signing_key) and the hub verifies under it."""
    fed = Federation.create(NOW, algorithm=Algorithm.SM2_SM3)
    key = fed.keys["sc.amr"]
    node = fed.trust.node("sc.amr")
    record = key_record(key.public_key, signer_id="sc.amr@scjg.sc.gov.cn")
    fed.resign(fed.trust.with_node(replace(node, keys=(record,))))
    trust = load_trust(fed.signed_trust, now=NOW)  # through the JSON: the id survives the round trip
    assert "sc.amr@scjg.sc.gov.cn" == trust.node("sc.amr").keys[0].signer_id

    def verdict(signing_key: PrivateKey) -> tuple[ReasonCode, ...]:
        envelope = fed.envelope(fed.message("sc.amr", "sc.hub"), key=signing_key)
        return judge(envelope, trust=trust, local_node="sc.hub", now=NOW, seen=MemorySeenIds()).reasons

    assert () == verdict(trust.signing_key(key))
    assert (ReasonCode.SIGNATURE_INVALID,) == verdict(key)  # the default id is another Z_A


def test_a_signer_id_on_a_key_that_is_not_sm2_is_refused() -> None:
    """Only SM2 has a signer id; a record giving one to an Ed25519 key is an ALGORITHM_MISMATCH."""
    with pytest.raises(VerificationError) as raised:
        key_record(generate_key(Algorithm.ED25519).public_key, signer_id="x")
    assert ReasonCode.ALGORITHM_MISMATCH == raised.value.reason


async def test_an_sm2_hub_answers_over_grpc_with_sm2_receipts_and_checkpoints(tmp_path: Path) -> None:
    """Over a real gRPC socket an SM2 hub accepts an SM2 envelope; its receipt and checkpoint verify."""
    from gateway.checkpoint import verify_checkpoint
    from gateway.logbook import log_origin, log_verifier
    from tests.gateway.test_server import NOW as SERVER_NOW
    from tests.gateway.test_server import start_node

    fed = Federation.create(SERVER_NOW, algorithm=Algorithm.SM2_SM3)
    node = await start_node(fed, tmp_path / "hub.db")
    try:
        receipt = await node.submit(fed.envelope(fed.message("sc.amr", "sc.hub")))
        assert exchange_pb2.OUTCOME_ACCEPTED == receipt.outcome
        note = (await node.stub.GetCheckpoint(exchange_pb2.GetCheckpointRequest())).note
        verifier = log_verifier("sc.hub", fed.trust.node("sc.hub").keys[0].public_key)
        assert 1 == verify_checkpoint(note, log_origin("sc.hub"), [verifier]).size
    finally:
        await node.channel.close()
        await node.server.stop(grace=1)
        await node.server.hub.store.close()


def test_the_readme_sm2_block_runs_as_printed(tmp_path: Path) -> None:
    """README's 国密 commands (init, keys generate, demo with --algorithm sm2) run and make SM2 keys."""
    import os
    import re
    import sys

    readme = (Path(__file__).parents[2] / "README.md").read_text("utf-8")
    block = re.findall(r"```sh\n(.*?)```", readme.split("### 国密", 1)[1], flags=re.DOTALL)[0]
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    runs = [subprocess.run(["bash", "-c", c], cwd=tmp_path, env=env, capture_output=True, check=False)
            for c in commands]  # fmt: skip
    assert [] == [(c, r.stderr[-500:]) for c, r in zip(commands, runs, strict=True) if r.returncode != 0]
    assert Algorithm.SM2_SM3 == load_private_key((tmp_path / "keys" / "sc.amr.key").read_bytes()).algorithm
    hub_key = load_private_key((tmp_path / "nodes/hub/keys/node.key").read_bytes())
    assert Algorithm.SM2_SM3 == hub_key.algorithm


@pytest.mark.parametrize(
    ("sender", "registered", "signed_with", "reason"),
    [
        ("sc.amr", Algorithm.SM2_SM3, Algorithm.ED25519, ReasonCode.ALGORITHM_MISMATCH),
        ("sc.sjs", Algorithm.ECDSA_P256_SHA256, Algorithm.ED25519, ReasonCode.ALGORITHM_MISMATCH),
        ("sc.12315", Algorithm.ED25519, Algorithm.SM2_SM3, ReasonCode.ALGORITHM_MISMATCH),
        ("sc.12315", Algorithm.ED25519, Algorithm.ECDSA_P256_SHA256, ReasonCode.ALGORITHM_MISMATCH),
        # SM2 and P-256 signatures are both DER SEQUENCE{r, s} of 256-bit integers: the shape cannot name
        # the mistake, so the registered algorithm's verification fails (refused all the same).
        ("sc.amr", Algorithm.SM2_SM3, Algorithm.ECDSA_P256_SHA256, ReasonCode.SIGNATURE_INVALID),
        ("sc.sjs", Algorithm.ECDSA_P256_SHA256, Algorithm.SM2_SM3, ReasonCode.SIGNATURE_INVALID),
    ],
)
def test_a_mixed_federation_refuses_a_signature_of_another_algorithm_than_registered(
    sender: str, registered: Algorithm, signed_with: Algorithm, reason: ReasonCode
) -> None:
    """In a trust configuration holding Ed25519, P-256 and SM2 nodes at once, a node whose signature
    (under its registered key id) is of another algorithm is ALGORITHM_MISMATCH, never accepted."""
    fed = Federation.create(NOW)
    for node_id, algorithm in (("sc.amr", Algorithm.SM2_SM3), ("sc.sjs", Algorithm.ECDSA_P256_SHA256)):
        key = generate_key(algorithm)
        fed.keys[node_id] = key
        fed.resign(fed.trust.with_node_key(node_id, key_record(key.public_key)))
    assert {r.public_key.algorithm for n in ("sc.amr", "sc.sjs", "sc.12315")
            for r in fed.trust.node(n).keys} == set(Algorithm)  # fmt: skip
    assert fed.keys[sender].public_key.algorithm is registered
    standard = {"sc.amr": "SC-06", "sc.sjs": "SC-05", "sc.12315": "SC-11"}[sender]
    envelope = exchange_pb2.Envelope.FromString(
        fed.envelope(fed.message(sender, "sc.hub", standard=standard), key=generate_key(signed_with))
    )
    envelope.signatures[0].key_id = fed.keys[sender].public_key.key_id
    verdict = judge(
        envelope.SerializeToString(), trust=fed.trust, local_node="sc.hub", now=NOW, seen=MemorySeenIds()
    )
    assert (reason,) == verdict.reasons
