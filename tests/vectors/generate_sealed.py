"""Generate tests/vectors/sealed-sm4.json: sealed personal fields (SM4-GCM, content key wrapped with SM2).

The recipient's SM2 private scalar, the content key and the IVs are fixed (derived from names, like the
other vectors), so the SM4-GCM part is reproducible byte for byte. SM2 encryption is randomised
(GB/T 32918.4 draws k), so each run writes a different `ek`: the vector gives that ciphertext to
DECRYPT, and tests/gateway/test_sealing_vectors.py checks the file rather than regenerating it.

    python tests/vectors/generate_sealed.py        # rewrite tests/vectors/sealed-sm4.json
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from gateway import sealing
from gateway.keys import SM2PrivateKey
from gateway.sm2 import SM2SigningKey

HERE = Path(__file__).resolve().parent
#: Order n of the SM2 recommended curve (GB/T 32918.5).
SM2_ORDER = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
SENDER, RECIPIENT, MESSAGE_ID, STANDARD = "sc.amr", "cq.hub", "clue-2025-0042", "SC-13"
RECORD: dict[str, Any] = {
    "action": "dispatch",
    "clueNo": "CY-XS-2025-0042",
    "partyName": "赵六",
    "partyIdType": "111",
    "partyIdCode": "500103198808080314",
    "contactPhone": "028****1234",
}
SEALED_FIELDS = ["/partyIdCode"]


def derived(name: str, size: int) -> bytes:
    """`size` bytes derived from `name` (SHA-256 of "jgx test vector " + name)."""
    return hashlib.sha256(b"jgx test vector " + name.encode()).digest()[:size]


def recipient_scalar() -> int:
    """The recipient's SM2 private scalar d, in [1, n-2]."""
    return int.from_bytes(derived("sealed-recipient", 32), "big") % (SM2_ORDER - 2) + 1


def build() -> dict[str, Any]:
    """The vector document."""
    key = SM2PrivateKey(SM2SigningKey.from_scalar(recipient_scalar()))
    content_key = derived("sealed-content-key", 16)
    aad = sealing.message_aad(SENDER, RECIPIENT, MESSAGE_ID, STANDARD)
    wrapped = key.public_key.wrap_key(content_key)
    sealed = json.loads(json.dumps(RECORD))
    fields = []
    for pointer in SEALED_FIELDS:
        iv = derived("sealed-iv " + pointer, 12)
        value = RECORD[pointer[1:]]
        faad = sealing.field_aad(aad, pointer)
        sealed[pointer[1:]] = sealing.seal_value(
            value, content_key=content_key, iv=iv, wrapped_key=wrapped, kid=key.key_id, aad=faad
        )
        plaintext = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        fields.append(
            {
                "pointer": pointer,
                "plaintext_hex": plaintext.hex(),
                "iv_hex": iv.hex(),
                "aad_hex": faad.hex(),
                "aad_text": faad.decode(),
                "ct_hex": base64.b64decode(sealed[pointer[1:]]["ct"]).hex(),
            }
        )
    return {
        "description": (
            "Sealed personal fields (docs/wire.md §12). The SM2 private scalar, content key and IVs are "
            "fixed; SM2 encryption is randomised, so `ek_hex` is a ciphertext to DECRYPT with `d` (DER "
            "SEQUENCE{x, y, C3, C2}, GB/T 35276) giving `content_key_hex`. SM4-GCM is deterministic: "
            "encrypting plaintext_hex under content_key_hex, iv_hex and aad_hex gives ct_hex (ciphertext ‖ "
            "16-byte tag). `sealed_record` opened with d and the message header gives `record`."
        ),
        "sm4_block": {
            "standard": "GB/T 32907-2016 Appendix A, example 1",
            "key_hex": "0123456789abcdeffedcba9876543210",
            "plaintext_hex": "0123456789abcdeffedcba9876543210",
            "ciphertext_hex": "681edf34d206965e86b3e94f536e4246",
        },
        "recipient": {
            "d_hex": f"{recipient_scalar():064x}",
            "spki_der_hex": key.public_key.spki_der.hex(),
            "kid": key.key_id,
        },
        "header": {"sender": SENDER, "recipient": RECIPIENT, "message_id": MESSAGE_ID, "standard": STANDARD},
        "message_aad_hex": aad.hex(),
        "content_key_hex": content_key.hex(),
        "ek_hex": wrapped.hex(),
        "fields": fields,
        "record": RECORD,
        "sealed_record": sealed,
    }


def main() -> None:
    """Rewrite the vector file."""
    text = json.dumps(build(), ensure_ascii=False, indent=2) + "\n"
    (HERE / "sealed-sm4.json").write_text(text, "utf-8")


if __name__ == "__main__":
    main()
