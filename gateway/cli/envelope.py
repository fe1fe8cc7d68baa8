"""``jgx envelope``: sign a record into an envelope, verify one as a recipient would, show one."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import click
from google.protobuf.json_format import MessageToDict

from gateway import sealing
from gateway._json import loads_strict
from gateway.cli._common import (
    AT_OPTION,
    io_error,
    io_failure,
    private_key_from,
    read_bytes,
    verdict_error,
    when,
    write_bytes,
)
from gateway.dsse import MESSAGE_TYPE, json_envelope_parts
from gateway.envelope import envelope_digest, parse_envelope, seal_message
from gateway.errors import JgxError, ReasonCode, TrustError, VerificationError
from gateway.freshness import MemorySeenIds
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.pipeline import judge
from gateway.sealed_records import sealing_key
from gateway.trust_update import load_trust

_OPERATIONS = {
    "insert": exchange_pb2.OPERATION_INSERT,
    "update": exchange_pb2.OPERATION_UPDATE,
    "delete": exchange_pb2.OPERATION_DELETE,
}


def read_envelope(path: str) -> tuple[bytes, exchange_pb2.Envelope]:
    """Read an envelope file in wire form (protobuf) or DSSE JSON form; returns (wire bytes, envelope)."""
    data = read_bytes(path)
    try:
        if data.lstrip().startswith(b"{"):
            body, payload_type, signatures = json_envelope_parts(loads_strict(data, what="envelope"))
            envelope = exchange_pb2.Envelope(
                body=body,
                payload_type=payload_type,
                signatures=[exchange_pb2.Signature(key_id=k, sig=s) for k, s in signatures],
            )
            return envelope.SerializeToString(), envelope
        return data, parse_envelope(data, max_size=max(len(data), 1))
    except VerificationError as exc:
        verdict_error(exc)


def _dsse_json(envelope: exchange_pb2.Envelope) -> dict[str, Any]:
    return {
        "payload": base64.b64encode(envelope.body).decode("ascii"),
        "payloadType": envelope.payload_type,
        "signatures": [
            {"keyid": s.key_id, "sig": base64.b64encode(s.sig).decode("ascii")} for s in envelope.signatures
        ],
    }


@click.group()
def envelope() -> None:
    """Signed envelopes (信封): sign (optionally sealing personal fields), verify, open, show.

    \b
    Example:
      jgx envelope sign record.json --key keys/sc.amr.key --sender sc.amr --recipient sc.hub \\
          --standard SC-06 --business-key CF-2026-0001 --out record.env
      jgx envelope verify record.env --trust trust.signed.json --as sc.hub
      jgx envelope show record.env
    """


@envelope.command("sign")
@click.argument("record", type=click.Path())
@click.option(
    "--key", "key_file", required=True, type=click.Path(), help="The sender's private key (PKCS#8 PEM)."
)
@click.option("--sender", required=True, help="Sender node id.")
@click.option("--recipient", required=True, help="Recipient node id (the audience).")
@click.option("--standard", required=True, help="Standard id, e.g. SC-06.")
@click.option("--version", "standard_version", default="1.0.0", show_default=True, help="Standard version.")
@click.option("--operation", type=click.Choice(sorted(_OPERATIONS)), default="insert", show_default=True)
@click.option("--business-key", required=True, help="The record's stable key (national cd_id).")
@click.option("--batch-id", default="", help="YYYYMMDD + 5-digit run (national cd_batch).")
@click.option("--correlation-id", default="", help="Task or clue id tying a lifecycle together.")
@click.option("--action", default="", help="dispatch, claim, feedback, close or return (SC-12/13/14).")
@click.option("--in-reply-to", default="", help="message_id this message answers.")
@click.option("--message-id", default="", help="Unique per sender; default: a random id.")
@click.option(
    "--ttl", type=click.IntRange(min=1), default=3600, show_default=True, help="Seconds until expiry."
)
@click.option("--out", required=True, type=click.Path(), help="Output file.")
@click.option(
    "--json", "as_json", is_flag=True, help="Write the DSSE JSON form instead of the protobuf wire form."
)
@click.option(
    "--seal",
    "seal_pointers",
    multiple=True,
    help="JSON pointer of a personal field to seal for the recipient (SM4-GCM, wire.md §12); repeatable.",
)
@click.option(
    "--trust",
    "trust_file",
    type=click.Path(),
    help="Signed trust configuration: where --seal finds the recipient's SM2 key.",
)
@AT_OPTION
def sign_command(
    record: str,
    key_file: str,
    sender: str,
    recipient: str,
    standard: str,
    standard_version: str,
    operation: str,
    business_key: str,
    batch_id: str,
    correlation_id: str,
    action: str,
    in_reply_to: str,
    message_id: str,
    ttl: int,
    out: str,
    as_json: bool,
    seal_pointers: tuple[str, ...],
    trust_file: str | None,
    at: str | None,
) -> None:
    """Sign the JSON RECORD into an envelope from SENDER to RECIPIENT.

    \b
    Example:
      jgx envelope sign penalty.json --key keys/sc.amr.key --sender sc.amr --recipient sc.hub \\
          --standard SC-06 --business-key CF-2026-0001 --batch-id 2026112800001 --out penalty.env
    \b
    A clue for the 川渝 partner with the party's identity number sealed for cq.hub alone:
      jgx envelope sign clue.json --key keys/sc.amr.key --sender sc.amr --recipient cq.hub \\
          --standard SC-13 --action dispatch --business-key CY-XS-2025-0042 \\
          --seal /partyIdCode --trust trust.signed.json --out clue.env
    """
    payload = read_bytes(record)
    try:
        document = loads_strict(payload, what=record)
    except JgxError as exc:
        io_failure(f"{record} 不是有效的 JSON", f"{record} is not valid JSON", exc)
    now = when(at)
    message_id = message_id or uuid.uuid4().hex
    if seal_pointers:
        payload = _sealed_payload(
            document, seal_pointers, trust_file, now, (sender, recipient, message_id, standard)
        )
    message = exchange_pb2.Message(
        message_id=message_id,
        sender=sender,
        recipient=recipient,
        standard=standard,
        standard_version=standard_version,
        operation=_OPERATIONS[operation],
        business_key=business_key,
        batch_id=batch_id,
        correlation_id=correlation_id,
        action=action,
        in_reply_to=in_reply_to,
        payload=payload,
    )
    message.issued_at.FromDatetime(now)
    message.expires_at.FromDatetime(now + timedelta(seconds=ttl))
    sealed = seal_message(message, private_key_from(key_file))
    data = sealed.SerializeToString()
    write_bytes(out, json.dumps(_dsse_json(sealed), indent=2).encode() + b"\n" if as_json else data)
    click.echo(f"wrote {out}: message {message.message_id}, sha256 {envelope_digest(data).hex()}")


@envelope.command()
@click.argument("envelope_file", type=click.Path())
@click.option("--trust", "trust_file", required=True, type=click.Path(), help="Signed trust configuration.")
@click.option("--as", "local_node", required=True, help="Verify as this node (the recipient or its gateway).")
@click.option(
    "--validate/--no-validate", default=False, help="Also validate the payload against its standard."
)
@AT_OPTION
def verify(envelope_file: str, trust_file: str, local_node: str, validate: bool, at: str | None) -> None:
    """Verify an envelope as LOCAL_NODE would; exit 0 when valid, 1 with the reason code when not.

    Runs the hub's steps 2–8 (parse, key, signature, message, expiry/audience, ACL, and with
    --validate the standard) except replay, which needs the receiver's memory.

    \b
    Example:
      jgx envelope verify penalty.env --trust trust.signed.json --as sc.hub --validate
    """
    now = when(at)
    try:
        trust_config = load_trust(read_bytes(trust_file), now=now)
    except TrustError as exc:
        verdict_error(exc)
    data, _ = read_envelope(envelope_file)
    validator = None
    if validate:
        from gateway.validation import standards_validator

        validator = standards_validator
    verdict = judge(
        data, trust=trust_config, local_node=local_node, now=now, seen=MemorySeenIds(), validate=validator
    )
    for f in verdict.findings:
        click.echo(f"  [{f.severity}] {f.rule_id} {f.pointer} {f.message_zh} / {f.message_en}", err=True)
    if not verdict.accepted:
        verdict_error(VerificationError(verdict.reasons[0], f"step {verdict.step}: {verdict.detail}"))
    assert verdict.message is not None  # accepted verdicts always carry the message
    click.echo(
        f"OK 验证通过: {verdict.message.message_id} from {verdict.message.sender} "
        f"(key {verdict.signer_key_id[:16]}…) to {verdict.message.recipient}, {verdict.message.standard}"
    )


def _sealed_payload(
    document: Any,
    pointers: tuple[str, ...],
    trust_file: str | None,
    now: datetime,
    header: tuple[str, str, str, str],
) -> bytes:
    """The record with `pointers` sealed for the recipient's registered SM2 key."""
    if trust_file is None or not isinstance(document, dict):
        io_error("--seal 需要 --trust 与 JSON 对象记录", "--seal needs --trust and a JSON object record")
    try:
        trust_config = load_trust(read_bytes(trust_file), now=now)
    except TrustError as exc:
        verdict_error(exc)
    try:
        key = sealing_key(trust_config, header[1])
    except VerificationError:
        io_error(f"接收方 {header[1]} 没有登记 SM2 密钥", f"recipient {header[1]} has no registered SM2 key")
    try:
        sealed = sealing.seal_fields(document, list(pointers), key, aad=sealing.message_aad(*header))
    except VerificationError as exc:
        verdict_error(exc)
    return json.dumps(sealed, ensure_ascii=False).encode()


@envelope.command("open")
@click.argument("envelope_file", type=click.Path())
@click.option("--trust", "trust_file", required=True, type=click.Path(), help="Signed trust configuration.")
@click.option("--as", "local_node", required=True, help="The recipient node opening the record.")
@click.option("--key", "key_file", required=True, type=click.Path(), help="The recipient's SM2 private key.")
@click.option("--out", required=True, type=click.Path(), help="Where to write the opened JSON record.")
@AT_OPTION
def open_command(
    envelope_file: str, trust_file: str, local_node: str, key_file: str, out: str, at: str | None
) -> None:
    """Verify an envelope as LOCAL_NODE, then open its sealed fields (wire.md §12) into a clear record.

    \b
    Example:
      jgx envelope open clue.env --trust trust.signed.json --as cq.hub --key keys/cq.hub.key --out clue.json
    """
    now = when(at)
    try:
        trust_config = load_trust(read_bytes(trust_file), now=now)
    except TrustError as exc:
        verdict_error(exc)
    data, _ = read_envelope(envelope_file)
    verdict = judge(data, trust=trust_config, local_node=local_node, now=now, seen=MemorySeenIds())
    if not verdict.accepted or verdict.message is None:
        verdict_error(VerificationError(verdict.reasons[0], f"step {verdict.step}: {verdict.detail}"))
    message = verdict.message
    try:
        record = loads_strict(message.payload)
        if not isinstance(record, dict):
            raise VerificationError(ReasonCode.MALFORMED, "payload is not a JSON object")
        aad = sealing.message_aad(message.sender, message.recipient, message.message_id, message.standard)
        opened = sealing.open_fields(record, private_key_from(key_file), aad=aad)
    except JgxError as exc:
        verdict_error(VerificationError(exc.reason, exc.detail))
    write_bytes(out, json.dumps(opened, ensure_ascii=False, indent=2).encode() + b"\n")
    click.echo(f"wrote {out}: {len(sealing.sealed_pointers(record))} sealed field(s) opened")


@envelope.command()
@click.argument("envelope_file", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the DSSE JSON form of the envelope.")
def show(envelope_file: str, as_json: bool) -> None:
    """Show an envelope's header and payload (without verifying it)."""
    data, sealed = read_envelope(envelope_file)
    if as_json:
        click.echo(json.dumps(_dsse_json(sealed), indent=2))
        return
    click.echo(f"envelope sha256   {envelope_digest(data).hex()}  ({len(data)} bytes)")
    click.echo(f"payload_type      {sealed.payload_type}")
    for s in sealed.signatures:
        click.echo(f"signature         key {s.key_id}  {len(s.sig)} bytes")
    if sealed.payload_type != MESSAGE_TYPE:
        return
    message = exchange_pb2.Message()
    try:
        message.ParseFromString(sealed.body)
    except Exception:  # noqa: BLE001 - showing must survive any body; protobuf raises several types
        click.echo("body              (not a Message)")
        return
    header = MessageToDict(message, preserving_proto_field_name=True)
    header.pop("payload", None)
    for name, value in header.items():
        click.echo(f"{name:<18}{value}")
    try:
        record = loads_strict(message.payload)
        click.echo(json.dumps(record, ensure_ascii=False, indent=2))
    except JgxError:
        click.echo(f"payload           {len(message.payload)} bytes, not valid JSON")
