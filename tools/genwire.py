"""Write the generated tables of docs/wire.md from their one source, or check that they are current.

The reason-code table (§6) comes from `gateway.errors.CATALOGUE`, the receipt-fields table (§8) from
`gateway.receipts`. Each sits between ``<!-- generated: NAME -->`` and ``<!-- end: NAME -->`` markers.

Usage: python tools/genwire.py [--check]
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

from google.protobuf import message as protobuf

ROOT = Path(__file__).resolve().parent.parent
WIRE = ROOT / "docs" / "wire.md"
sys.path.insert(0, str(ROOT))

from gateway.dsse import pae  # noqa: E402 - after the path is set
from gateway.errors import catalogue_table  # noqa: E402
from gateway.pb.jgx.exchange.v1 import exchange_pb2  # noqa: E402
from gateway.receipts import receipt_fields_table  # noqa: E402

VECTORS = ROOT / "tests" / "vectors" / "envelopes.json"


def _varint(n: int) -> str:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return out.hex()


def worked_example() -> str:
    """§10: the case ``valid_ed25519`` of tests/vectors/envelopes.json, taken apart byte by byte."""
    vectors = json.loads(VECTORS.read_text(encoding="utf-8"))
    [case] = [c for c in vectors["cases"] if c["name"] == "valid_ed25519"]
    data = bytes.fromhex(case["envelope_hex"])
    envelope = exchange_pb2.Envelope.FromString(data)
    message = exchange_pb2.Message.FromString(envelope.body)
    [key] = [k for k in vectors["keys"] if k["key_id"] == envelope.signatures[0].key_id]
    header = []
    by_name: protobuf.Message = message  # fields named by the descriptor: the generic, untyped-name interface
    for field in message.DESCRIPTOR.fields:
        if field.name == "payload":
            continue
        single = exchange_pb2.Message()
        if field.message_type:
            if by_name.HasField(field.name):
                getattr(single, field.name).CopyFrom(getattr(message, field.name))
        else:
            setattr(single, field.name, getattr(message, field.name))
        if single.ByteSize():
            header.append(single.SerializeToString().hex())
    payload_tag = "62" + _varint(len(message.payload))
    assert envelope.body == bytes.fromhex("".join(header) + payload_tag) + message.payload
    signature = envelope.signatures[0].sig.hex()
    issued, expires = message.issued_at.ToDatetime(), message.expires_at.ToDatetime()
    lines = [
        f"The sender `{message.sender}` (Ed25519 key id `{key['key_id'][:8]}…{key['key_id'][-4:]}`, §3; its",
        "seed is in the file's `keys`) writes this Message:",
        "",
        "```",
        f'message_id: "{message.message_id}"   sender: "{message.sender}"   recipient: "{message.recipient}"',
        f'standard: "{message.standard}"   standard_version: "{message.standard_version}"   '
        f"operation: {exchange_pb2.Operation.Name(message.operation)}",
        f'business_key: "{message.business_key}"   batch_id: "{message.batch_id}"',
        f"issued_at: {message.issued_at.seconds} ({issued:%Y-%m-%dT%H:%M:%SZ})   "
        f"expires_at: {message.expires_at.seconds} ({expires:%Y-%m-%dT%H:%M:%SZ})",
        f"payload: {len(message.payload)} bytes, the {message.standard} sample record as compact UTF-8 JSON:",
        f"  {message.payload.decode('utf-8')[:72]}…",
        "```",
        "",
        f"Serialized once, the body is {len(envelope.body)} bytes: the header fields, one per line,",
        "",
        "```",
        *header,
        "```",
        "",
        f"then `{payload_tag}` (field 12, length-delimited, length {len(message.payload)} as a varint) "
        "and the "
        "payload bytes. (`0a` = field 1, length-delimited, then the length and the characters of "
        "`message_id`; `3001` = field 6, varint 1; `52 06 08…` = field 10, a Timestamp whose `seconds` "
        "is a varint.)",
        "",
        f"PAE = `DSSEv1 {len(envelope.payload_type)} {envelope.payload_type} {len(envelope.body)} ` followed "
        f"by the {len(envelope.body)} body bytes; in hex it begins "
        f"`{pae(envelope.payload_type, envelope.body)[:72].hex()}…`.",
        "",
        "The Ed25519 signature over the PAE is",
        "",
        "```",
        signature[:64],
        signature[64:],
        "```",
        "",
        f"and the serialized Envelope ({len(data)} bytes, SHA-256",
        f"`{hashlib.sha256(data).hexdigest()}`) is `0a{_varint(len(envelope.body))}` + body + "
        f"`12{_varint(len(envelope.payload_type))}` + the {len(envelope.payload_type)}-byte payload type + "
        f"`1a{_varint(envelope.signatures[0].ByteSize())}` + (`0a40` + the 64-character key id + "
        "`1240` + the "
        f"64-byte signature). Judged by `{vectors['local_node']}` at `{vectors['now']}` against the vector "
        "trust configuration it is accepted, through all of §7 including step 8; the same file's other "
        "cases each show one refusal and its code.",
    ]
    return "\n".join(lines) + "\n"

TABLES: dict[str, Callable[[], str]] = {
    "reason-codes": catalogue_table,
    "receipt-fields": receipt_fields_table,
    "worked-example": worked_example,
}


def render(text: str) -> str:
    """``text`` with every generated block replaced by its current rendering."""
    for name, table in TABLES.items():
        block = re.compile(rf"(<!-- generated: {name} -->\n).*?(<!-- end: {name} -->)", re.DOTALL)
        if not block.search(text):
            raise SystemExit(f"docs/wire.md has no generated block {name!r}")

        def fill(m: re.Match[str], table: Callable[[], str] = table) -> str:
            return m.group(1) + table() + m.group(2)

        text = block.sub(fill, text)
    return text


def main() -> int:
    """Rewrite docs/wire.md, or with --check exit 1 when it is not current."""
    text = WIRE.read_text(encoding="utf-8")
    current = render(text)
    if "--check" in sys.argv[1:]:
        if current != text:
            print("docs/wire.md is out of date: run python tools/genwire.py")
            return 1
        return 0
    WIRE.write_text(current, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
