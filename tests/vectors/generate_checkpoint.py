"""Generate ``tests/vectors/checkpoint/*.json``: signed checkpoints and notes a verifier must refuse.

Independent of ``gateway.checkpoint``: notes are assembled here from the C2SP ``signed-note`` and
``tlog-checkpoint`` texts with nothing but ``hashlib``, ``base64`` and ``cryptography``'s Ed25519
(deterministic, RFC 8032), so the same seed always gives the same bytes.

Run ``python tests/vectors/generate_checkpoint.py`` to rewrite the files; a test fails when they are stale.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

OUT = Path(__file__).parent / "checkpoint"
DASH = "\u2014"

# The log of the provincial hub (origin "jgx.exchange-log/" + node id, docs/wire.md §9: what
# gateway.logbook.log_origin("sc.hub") gives, which a test checks), its key, and a second key.
ORIGIN = "jgx.exchange-log/sc.hub"
SEED = hashlib.sha256(b"jgx checkpoint vector seed 1").digest()
OTHER_SEED = hashlib.sha256(b"jgx checkpoint vector seed 2").digest()
SIZE = 8
# MTH of the eight RFC 6962 test leaves (see tests/vectors/merkle/).
ROOT = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")

# The example of golang.org/x/mod/sumdb/note (package documentation): a published, independent vector.
GO_SIGNER_KEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT
    + "\n"
    + f"{DASH} PeterNeumann "
    + "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def _public(seed: bytes) -> bytes:
    return (
        Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    )


def key_id(name: str, seed: bytes) -> bytes:
    """SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n\x01" + _public(seed)).digest()[:4]


def vkey(name: str, seed: bytes) -> str:
    """The verifier key string."""
    material = base64.b64encode(bytes([1]) + _public(seed)).decode()
    return f"{name}+{key_id(name, seed).hex()}+{material}"


def sig_line(text: str, name: str, seed: bytes, *, label_seed: bytes | None = None) -> str:
    """A signature line over ``text``; ``label_seed`` puts another key's id on it (a forged label)."""
    signature = Ed25519PrivateKey.from_private_bytes(seed).sign(text.encode())
    blob = key_id(name, label_seed or seed) + signature
    return f"{DASH} {name} {base64.b64encode(blob).decode()}\n"


def body(origin: str = ORIGIN, size: str = str(SIZE), root: bytes = ROOT) -> str:
    """The checkpoint note text."""
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def signed_document() -> dict[str, Any]:
    """The hub's checkpoint, signed with the fixed seed, with every intermediate value."""
    text = body()
    line = sig_line(text, ORIGIN, SEED)
    return {
        "description": "A tlog-checkpoint of 8 leaves signed by the hub's Ed25519 key (seed given)",
        "name": ORIGIN,
        "origin": ORIGIN,
        "ed25519_seed": SEED.hex(),
        "public_key": _public(SEED).hex(),
        "key_id": key_id(ORIGIN, SEED).hex(),
        "verifier_key": vkey(ORIGIN, SEED),
        "size": SIZE,
        "root_hash": ROOT.hex(),
        "body": text,
        "signature_line": line,
        "note": text + "\n" + line,
        "empty_log": _empty(),
    }


def _empty() -> dict[str, Any]:
    """The checkpoint a hub serves before its first leaf: size 0, root SHA-256 of nothing."""
    text = body(size="0", root=hashlib.sha256(b"").digest())
    line = sig_line(text, ORIGIN, SEED)
    return {"size": 0, "root_hash": hashlib.sha256(b"").hexdigest(), "body": text, "note": text + "\n" + line}


def go_document() -> dict[str, Any]:
    """The signed-note example of golang.org/x/mod/sumdb/note, for interoperability."""
    # PRIVATE+KEY+<name>+<id>+base64(0x01 || seed); the base64 itself may contain '+'.
    seed = base64.b64decode(GO_SIGNER_KEY.split("+", 4)[4])[1:]
    return {
        "description": "The signed-note example published with golang.org/x/mod/sumdb/note",
        "name": "PeterNeumann",
        "ed25519_seed": seed.hex(),
        "verifier_key": GO_VERIFIER_KEY,
        "text": GO_TEXT,
        "note": GO_NOTE,
    }


def _case(
    name: str, note: str, error: str | None, reason: str | None, keys: list[str] | None = None
) -> dict[str, Any]:
    return {
        "name": name,
        "note": note,
        "origin": ORIGIN,
        "verifier_keys": keys if keys is not None else [vkey(ORIGIN, SEED)],
        "valid": error is None,
        "error": error,
        "reason": reason,
    }


def cases_document() -> dict[str, Any]:
    """Notes to accept and to refuse, each with the rule (``error``) and reason code it breaks."""
    text = body()
    good = sig_line(text, ORIGIN, SEED)
    other = sig_line(text, "witness.example/w1", OTHER_SEED)
    rotated = sig_line(text, ORIGIN, OTHER_SEED)
    malformed = "MALFORMED"
    cases = [
        _case("signed by the hub", text + "\n" + good, None, None),
        _case("hub signature plus an unknown witness", text + "\n" + other + good, None, None),
        _case(
            "unknown key with the hub's name (rotation) is ignored", text + "\n" + rotated + good, None, None
        ),
        _case(
            "both keys trusted during a rotation",
            text + "\n" + good + rotated,
            None,
            None,
            [vkey(ORIGIN, SEED), vkey(ORIGIN, OTHER_SEED)],
        ),
        _case("only an unknown key", text + "\n" + other, "no_known_signature", "KEY_UNKNOWN"),
        _case(
            "body tampered after signing",
            body(size="9") + "\n" + good,
            "signature_invalid",
            "SIGNATURE_INVALID",
        ),
        _case(
            "known key id on another key's signature",
            text + "\n" + sig_line(text, ORIGIN, OTHER_SEED, label_seed=SEED),
            "signature_invalid",
            "SIGNATURE_INVALID",
        ),
        _case(
            "a failing trusted key beside a good one",
            text + "\n" + good + sig_line(body(size="9"), ORIGIN, OTHER_SEED),
            "signature_invalid",
            "SIGNATURE_INVALID",
            [vkey(ORIGIN, SEED), vkey(ORIGIN, OTHER_SEED)],
        ),
        _case("the same known signature twice", text + "\n" + good + good, "malformed_note", malformed),
        _case(
            "checkpoint of another log",
            body(origin="jgx.cq.example/log")
            + "\n"
            + sig_line(body(origin="jgx.cq.example/log"), ORIGIN, SEED),
            "origin_mismatch",
            malformed,
        ),
        _case(
            "tree size with a leading zero",
            body(size="08") + "\n" + sig_line(body(size="08"), ORIGIN, SEED),
            "malformed_checkpoint",
            malformed,
        ),
        _case(
            "two lines only",
            f"{ORIGIN}\n8\n\n" + sig_line(f"{ORIGIN}\n8\n", ORIGIN, SEED),
            "malformed_checkpoint",
            malformed,
        ),
        _case("no blank line before the signatures", text + good, "malformed_note", malformed),
        _case("no signature lines", text + "\n", "malformed_note", "SIGNATURE_MISSING"),
        _case("missing final newline", text + "\n" + good[:-1], "malformed_note", malformed),
        _case("carriage returns", (text + "\n" + good).replace("\n", "\r\n"), "malformed_note", malformed),
        _case(
            "hyphen instead of em dash", text + "\n" + good.replace(DASH, "-", 1), "malformed_note", malformed
        ),
        _case("signature not base64", text + "\n" + good[:-3] + "!!\n", "bad_base64", malformed),
        _case(
            "signature of 4 bytes",
            text + "\n" + f"{DASH} {ORIGIN} {base64.b64encode(b'abcd').decode()}\n",
            "malformed_note",
            malformed,
        ),
    ]
    return {
        "description": (
            "Signed checkpoints to accept and to refuse; 'error' names the rule, 'reason' the jgx reason code"
        ),
        "cases": cases,
    }


def documents() -> dict[str, dict[str, Any]]:
    """The vector files, by file name."""
    return {
        "signed.json": signed_document(),
        "go-sumdb-note.json": go_document(),
        "cases.json": cases_document(),
    }


def render(document: dict[str, Any]) -> str:
    """The exact file text of a vector document."""
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def main() -> None:
    """Rewrite the vector files."""
    OUT.mkdir(parents=True, exist_ok=True)
    for name, document in documents().items():
        (OUT / name).write_text(render(document), encoding="utf-8")
        print(f"wrote {OUT / name}")


if __name__ == "__main__":
    main()
