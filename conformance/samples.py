"""Sample records the suite delivers: a standard's good fixture, else a record the adapter exported."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from google.protobuf.message import DecodeError

from gateway import sealing
from gateway.pb.jgx.exchange.v1 import exchange_pb2

__all__ = ["exported_record", "fixture_record"]


def _data_dir() -> Path | None:
    try:
        from standards.catalogue import DATA_DIR
    except ImportError:  # pragma: no cover - the standards package ships with jgx
        return None
    return Path(DATA_DIR)


def fixture_record(standard: str, version: str) -> Mapping[str, Any] | None:
    """The first good fixture shipped with `standard`@`version`, if the standard has one."""
    root = _data_dir()
    if root is None:
        return None
    folder = root / standard / version
    good = [p for p in folder.rglob("*.json") if any("good" in part for part in p.relative_to(folder).parts)]
    # A dispatch is what the hub delivers of a lifecycle standard; the default fixture otherwise.
    candidates = sorted(good, key=lambda p: (p.stem != "dispatch", p.stem != "default", p.name))
    for path in candidates:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and doc:
            record = doc.get("record", doc) if set(doc) <= {"record", "options", "name"} else doc
            if isinstance(record, dict):
                return record
    return None


def exported_record(envelopes: Sequence[bytes]) -> Mapping[str, Any] | None:
    """The payload of the first exported envelope that holds a JSON object without sealed values."""
    for data in envelopes:
        envelope, message = exchange_pb2.Envelope(), exchange_pb2.Message()
        try:
            envelope.ParseFromString(data)
            message.ParseFromString(envelope.body)
            record = json.loads(message.payload)
        except (DecodeError, ValueError):
            continue
        # A record with sealed values (wire.md §12) is bound to the message that carried it: its ciphertexts
        # would not open in a probe, so it is no basis for one.
        if isinstance(record, dict) and not sealing.sealed_pointers(record):
            return record
    return None
