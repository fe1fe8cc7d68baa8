"""Generate the language-neutral test vectors of the foundation (PAE, key ids, envelopes, trust rotation).

Every key derives from a fixed seed (SHA-256 of "jgx test vector " + name), Ed25519 signatures are
deterministic and ECDSA uses RFC 6979 nonces, so the files are reproducible byte for byte; a test
regenerates them and fails on drift. Another implementation needs only the JSON files.

    python tests/vectors/generate.py        # rewrite tests/vectors/*.json
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

import standards
from gateway.dsse import MESSAGE_TYPE, RECEIPT_TYPE, pae
from gateway.envelope import seal
from gateway.keys import Ed25519PrivateKey, P256PrivateKey, PrivateKey
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.trust import AclEntry, Node, TrustConfig, key_record
from gateway.trust_update import sign_trust

HERE = Path(__file__).resolve().parent
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def seed(name: str) -> bytes:
    """The 32-byte seed of the vector key `name`."""
    return hashlib.sha256(b"jgx test vector " + name.encode()).digest()


def ed(name: str) -> PrivateKey:
    """The Ed25519 vector key `name` (private key = seed)."""
    return Ed25519PrivateKey(ed25519.Ed25519PrivateKey.from_private_bytes(seed(name)))


def p256(name: str) -> PrivateKey:
    """The P-256 vector key `name` (private scalar = seed mod n)."""
    scalar = int.from_bytes(seed(name), "big") % _P256_ORDER
    return P256PrivateKey(ec.derive_private_key(scalar, ec.SECP256R1()))


def _hex(data: bytes) -> str:
    return data.hex()


def pae_vectors() -> list[dict[str, str]]:
    """PAE cases, the first being the DSSE specification's own example."""
    cases = [
        ("http://example.com/HelloWorld", b"hello world"),
        (MESSAGE_TYPE, b""),
        (RECEIPT_TYPE, bytes(range(8))),
        ("application/vnd.jgx.message.v1+protobuf", "监管".encode()),
    ]
    return [{"payload_type": t, "body_hex": _hex(b), "pae_hex": _hex(pae(t, b))} for t, b in cases]


def keyid_vectors() -> list[dict[str, str]]:
    """Key ids of fixed keys: SHA-256 over the DER SubjectPublicKeyInfo."""
    out = []
    for name, key in (("sc.amr", ed("sc.amr")), ("sc.sjs", p256("sc.sjs"))):
        out.append(
            {
                "name": name,
                "algorithm": key.algorithm.value,
                "spki_der_hex": _hex(key.public_key.spki_der),
                "public_key_pem": key.public_key.to_pem().decode("ascii"),
                "key_id": key.key_id,
            }
        )
    return out


def vector_trust() -> tuple[TrustConfig, dict[str, PrivateKey]]:
    """The trust configuration the envelope vectors are judged against."""
    keys = {
        "sc.hub": ed("sc.hub"),
        "sc.amr": ed("sc.amr"),
        "sc.sjs": p256("sc.sjs"),
        "cn.national": ed("cn.national"),
    }
    revoked = ed("sc.amr/revoked")
    trust = TrustConfig.new(
        [ed("admin").public_key],
        threshold=1,
        issued_at=NOW - timedelta(days=1),
        expires_at=NOW + timedelta(days=365),
    )
    gateways = {"sc.amr": "sc.hub", "sc.sjs": "sc.hub"}
    roles = {"sc.hub": "hub", "sc.amr": "department", "sc.sjs": "department", "cn.national": "national"}
    for node_id, key in keys.items():
        records = (key_record(key.public_key),)
        if node_id == "sc.amr":
            records += (key_record(revoked.public_key),)
        trust = trust.with_node(
            Node(node_id, node_id, node_id, roles[node_id], records, gateway=gateways.get(node_id, ""))
        )
    trust = trust.with_key_revoked(revoked.key_id)
    trust = trust.with_acl(AclEntry("sc.amr", ("sc.hub", "cn.national"), ("SC-06",)))
    trust = trust.with_acl(AclEntry("sc.sjs", ("sc.hub",), ("SC-09",)))
    keys["sc.amr/revoked"] = revoked
    return trust, keys


def record(standard: str) -> bytes:
    """The standard's sample record as compact UTF-8 JSON: a payload that passes step 8."""
    parsed = json.loads(standards.sample(standard))
    return json.dumps(parsed, ensure_ascii=False, separators=(",", ":")).encode()


def key_table(keys: dict[str, PrivateKey]) -> list[dict[str, str]]:
    """Every vector key with its seed, so another implementation re-derives and re-signs."""
    return [
        {
            "name": name,
            "algorithm": key.algorithm.value,
            "seed_hex": seed(name).hex(),
            "spki_der_hex": _hex(key.public_key.spki_der),
            "key_id": key.key_id,
        }
        for name, key in sorted(keys.items())
    ]


def _message(**fields: Any) -> exchange_pb2.Message:
    issued = fields.pop("issued_at", NOW - timedelta(minutes=1))
    standard = fields.pop("standard", "SC-06")
    message = exchange_pb2.Message(
        message_id=fields.pop("message_id", "amr-20261128-000001"),
        sender=fields.pop("sender", "sc.amr"),
        recipient=fields.pop("recipient", "sc.hub"),
        standard=standard,
        standard_version="1.0.0",
        operation=exchange_pb2.OPERATION_INSERT,
        business_key=fields.pop("business_key", "CF-510100-2026-0001"),
        batch_id="2026112800001",
        payload=fields.pop("payload", None) or record(standard),
        **fields,
    )
    message.issued_at.FromDatetime(issued)
    message.expires_at.FromDatetime(issued + timedelta(hours=1))
    return message


def envelope_vectors() -> dict[str, Any]:
    """Valid envelopes and one for each kind of invalid one, with the expected verdict."""
    trust, keys = vector_trust()

    def sealed(
        message: exchange_pb2.Message, key: str, payload_type: str = MESSAGE_TYPE
    ) -> exchange_pb2.Envelope:
        return seal(message.SerializeToString(), payload_type, [keys[key]])

    good = sealed(_message(), "sc.amr")
    tampered = exchange_pb2.Envelope()
    tampered.CopyFrom(good)
    tampered.body = good.body.replace(b"0001", b"0002", 1)
    unsigned = exchange_pb2.Envelope(body=good.body, payload_type=MESSAGE_TYPE)
    wrong_alg = exchange_pb2.Envelope()
    wrong_alg.CopyFrom(good)
    wrong_alg.signatures[0].sig = p256("sc.sjs").sign(pae(MESSAGE_TYPE, good.body))
    cases: list[tuple[str, str, bytes, dict[str, Any]]] = [
        ("valid_ed25519", "ACCEPTED", good.SerializeToString(), {}),
        (
            "valid_p256",
            "ACCEPTED",
            sealed(
                _message(sender="sc.sjs", standard="SC-09", message_id="sjs-1"), "sc.sjs"
            ).SerializeToString(),
            {},
        ),
        (
            "valid_relayed_to_national",
            "ACCEPTED",
            sealed(_message(recipient="cn.national"), "sc.amr").SerializeToString(),
            {},
        ),
        ("tampered_body", "SIGNATURE_INVALID", tampered.SerializeToString(), {}),
        ("no_signature", "SIGNATURE_MISSING", unsigned.SerializeToString(), {}),
        (
            "unknown_key",
            "KEY_UNKNOWN",
            seal(good.body, MESSAGE_TYPE, [ed("stranger")]).SerializeToString(),
            {},
        ),
        ("revoked_key", "KEY_REVOKED", sealed(_message(), "sc.amr/revoked").SerializeToString(), {}),
        ("wrong_algorithm", "ALGORITHM_MISMATCH", wrong_alg.SerializeToString(), {}),
        (
            "payload_type_unknown",
            "PAYLOAD_TYPE_UNKNOWN",
            sealed(_message(), "sc.amr", RECEIPT_TYPE).SerializeToString(),
            {},
        ),
        (
            "expired",
            "EXPIRED",
            sealed(_message(issued_at=NOW - timedelta(hours=2)), "sc.amr").SerializeToString(),
            {},
        ),
        (
            "not_yet_valid",
            "NOT_YET_VALID",
            sealed(_message(issued_at=NOW + timedelta(minutes=30)), "sc.amr").SerializeToString(),
            {},
        ),
        (
            "misaddressed",
            "NOT_ADDRESSED_TO_US",
            sealed(_message(sender="cn.national", recipient="cq.hub"), "cn.national").SerializeToString(),
            {},
        ),
        ("acl_denied", "ACL_DENIED", sealed(_message(standard="SC-09"), "sc.amr").SerializeToString(), {}),
        ("replayed", "REPLAYED", good.SerializeToString(), {"seen": [["sc.amr", "amr-20261128-000001"]]}),
        ("truncated", "MALFORMED", good.SerializeToString()[:40], {}),
        (
            "bad_message_id",
            "MALFORMED",
            sealed(_message(message_id="has space"), "sc.amr").SerializeToString(),
            {},
        ),
    ]
    # "other_nodes_key": signed by a registered key of another node than the stated sender.
    cases.append(
        ("other_nodes_key", "SENDER_KEY_MISMATCH", sealed(_message(), "sc.hub").SerializeToString(), {})
    )
    return {
        "description": (
            "Judge each envelope as node `local_node` at time `now` against `trust` "
            "(a signed DSSE JSON document), through every step of docs/wire.md §7 including step 8: "
            "the payloads of the accepted cases pass their standard (the standard's sample record). "
            "`seen` lists (sender, message_id) pairs the node has already consumed. `keys` gives every "
            "key: Ed25519 private key = seed; P-256 private scalar = seed (big-endian) mod the group order; "
            "seed = SHA-256(\"jgx test vector \" + name); ECDSA signatures use RFC 6979 nonces."
        ),
        "now": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "local_node": "sc.hub",
        "trust_dsse_json_b64": base64.b64encode(sign_trust(trust, [ed("admin")])).decode("ascii"),
        "keys": key_table({**keys, "admin": ed("admin"), "stranger": ed("stranger")}),
        "cases": [
            {"name": name, "expected": expected, "envelope_hex": _hex(data), **extra}
            for name, expected, data, extra in cases
        ],
    }


def rotation_vectors() -> dict[str, Any]:
    """Trust-configuration rotation cases after python-tuf's root_rotation_cases."""
    start = NOW - timedelta(days=10)

    def doc(
        version: int,
        admins: list[str],
        threshold: int,
        signers: list[str],
        *,
        expires: datetime | None = None,
    ) -> str:
        config = TrustConfig.new(
            [ed(a).public_key for a in admins],
            threshold=threshold,
            issued_at=start,
            expires_at=expires or NOW + timedelta(days=365),
        )
        config = config.bump(issued_at=start, expires_at=config.expires_at) if version > 1 else config
        while config.version < version:
            config = config.bump(issued_at=start, expires_at=config.expires_at)
        signed = sign_trust(config, [ed(s) for s in signers])
        return base64.b64encode(signed).decode("ascii")

    five = ["a", "b", "c", "d", "e"]
    cases = [
        ("1-of-1 key rotation", [doc(1, ["a"], 1, ["a"]), doc(2, ["b"], 1, ["a", "b"])], ["OK", "OK"]),
        (
            "1-of-1 rotation not signed by the new key",
            [doc(1, ["a"], 1, ["a"]), doc(2, ["b"], 1, ["a"])],
            ["OK", "TRUST_THRESHOLD_NOT_MET"],
        ),
        (
            "1-of-1 rotation not signed by the old key",
            [doc(1, ["a"], 1, ["a"]), doc(2, ["b"], 1, ["b"])],
            ["OK", "TRUST_THRESHOLD_NOT_MET"],
        ),
        (
            "3-of-5 signed by other keys each time",
            [doc(1, five, 3, ["a", "b", "c"]), doc(2, five, 3, ["c", "d", "e"])],
            ["OK", "OK"],
        ),
        (
            "3-of-5 one signature short",
            [doc(1, five, 3, ["a", "b", "c"]), doc(2, five, 3, ["a", "b"])],
            ["OK", "TRUST_THRESHOLD_NOT_MET"],
        ),
        (
            "threshold raised beyond the signatures",
            [doc(1, five, 3, ["a", "b", "c"]), doc(2, five, 4, ["a", "b", "c"])],
            ["OK", "TRUST_THRESHOLD_NOT_MET"],
        ),
        ("one key's signature counts once", [doc(1, ["a", "b"], 2, ["a", "a"])], ["TRUST_THRESHOLD_NOT_MET"]),
        (
            "rollback to an older version",
            [doc(1, ["a"], 1, ["a"]), doc(2, ["a"], 1, ["a"]), doc(1, ["a"], 1, ["a"])],
            ["OK", "OK", "TRUST_ROLLBACK"],
        ),
        ("skipping a version", [doc(1, ["a"], 1, ["a"]), doc(3, ["a"], 1, ["a"])], ["OK", "TRUST_INVALID"]),
        (
            "expired document",
            [doc(1, ["a"], 1, ["a"]), doc(2, ["a"], 1, ["a"], expires=NOW - timedelta(seconds=1))],
            ["OK", "TRUST_EXPIRED"],
        ),
        ("re-loading the same version", [doc(1, ["a"], 1, ["a"]), doc(1, ["a"], 1, ["a"])], ["OK", "OK"]),
    ]
    return {
        "description": (
            "Load each document in order at time `now`; each document after the first is checked "
            "against the last one accepted (a refused document leaves the current one in place). "
            "`expected` gives the outcome per document: OK or a reason code."
        ),
        "now": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cases": [{"name": n, "documents_b64": d, "expected": e} for n, d, e in cases],
    }


def render() -> dict[str, str]:
    """File name -> JSON text of every vector file."""
    files = {
        "pae.json": pae_vectors(),
        "keyid.json": keyid_vectors(),
        "envelopes.json": envelope_vectors(),
        "trust-rotation.json": rotation_vectors(),
    }
    return {name: json.dumps(data, ensure_ascii=False, indent=2) + "\n" for name, data in files.items()}


if __name__ == "__main__":
    for name, text in render().items():
        (HERE / name).write_text(text, encoding="utf-8")
        print(f"wrote tests/vectors/{name}", file=sys.stderr)
