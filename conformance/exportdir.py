"""The file mode: a department's export files checked when no live endpoint is available.

An export directory holds ``manifest.json`` (the adapter's manifest, as Describe would return it, with
proto field names) and the signed envelopes, one serialized `Envelope` per ``*.env`` file (the form
``jgx envelope sign`` writes), in any sub-folders. `write_export_dir` writes that layout from a live
adapter's Export, so a department can hand its files to a certifier.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conformance.assess import assess_envelope, destination_of
from conformance.evidence import Bundle, Exchange, as_written, b64, mask_payload
from conformance.judging import judge_run
from conformance.results import Override, RunInfo
from conformance.runner import Run
from gateway.errors import ReasonCode, VerificationError
from gateway.trust_update import load_trust

__all__ = ["run_export", "write_export_dir"]


def write_export_dir(
    directory: Path, manifest: Mapping[str, Any], envelopes: Mapping[str, Sequence[bytes]]
) -> None:
    """Write ``manifest.json`` and ``<standard>/<n>.env`` files."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "manifest.json").write_text(
        json.dumps(dict(manifest), ensure_ascii=False, indent=1), "utf-8"
    )
    for standard, items in envelopes.items():
        folder = directory / standard
        folder.mkdir(exist_ok=True)
        for n, data in enumerate(items, start=1):
            (folder / f"{n:05d}.env").write_bytes(data)


def run_export(
    directory: Path,
    trust_signed: bytes,
    *,
    department: str,
    now: datetime,
    overrides: tuple[Override, ...] = (),
    evidence_profile: str | None = "partner",
    attestations: tuple[Mapping[str, str], ...] = (),
) -> Run:
    """Check the export files in `directory` (structure, rules, signatures, masking)."""
    if not directory.is_dir():
        raise VerificationError(ReasonCode.MALFORMED, f"{directory} is not a directory")
    trust = load_trust(trust_signed, now=now)
    info = RunInfo(
        "export",
        department,
        now,
        overrides=overrides,
        target=str(directory),
        evidence_profile=evidence_profile or "per-recipient",
        attestations=attestations,
    )
    exchanges: list[Exchange] = []
    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    manifest_path = directory / "manifest.json"
    manifest: dict[str, Any] | None = None
    if manifest_path.exists():
        try:
            manifest = json.loads(manifest_path.read_text("utf-8"))
            response: dict[str, Any] = {"status": "OK", "manifest": manifest}
        except (OSError, ValueError) as exc:
            response = {"status": "INVALID_ARGUMENT", "detail": f"manifest.json: {exc}"}
    else:
        response = {"status": "NOT_FOUND", "detail": "no manifest.json in the export directory"}
    exchanges.append(Exchange(1, "describe", "Describe", {"file": "manifest.json"}, response, stamp))
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for path in sorted(directory.rglob("*.env")):
        data = path.read_bytes()
        facts, message = assess_envelope(data, trust, now=now, destination="internal")
        if message is None:
            key = ("?", "?", "?")
        else:
            key = (message.standard, message.standard_version, message.recipient)
            destination = destination_of(trust, message.recipient)
            facts, message = assess_envelope(data, trust, now=now, destination=destination)
        item: dict[str, Any] = {"envelopeB64": b64(data), "file": str(path.relative_to(directory))}
        if message is not None:
            masked, pointers = mask_payload(
                message.payload,
                evidence_profile or destination_of(trust, message.recipient),
                message.standard,
            )
            if pointers:
                item = {
                    "redacted": True,
                    "file": item["file"],
                    "payload": masked,
                    "maskedPointers": pointers,
                    "atRun": facts.to_json(),
                }
        groups.setdefault(key, []).append(item)
    for (standard, version, recipient), items in sorted(groups.items()):
        request = {
            "standard": standard,
            "version": version,
            "recipient": recipient,
            "destination": destination_of(trust, recipient),
        }
        exchanges.append(
            Exchange(
                len(exchanges) + 1,
                "export",
                "Export",
                request,
                {"status": "OK", "envelopes": items},
                stamp,
                subject=f"{standard}@{version}",
            )
        )
    written = as_written(exchanges)
    results = judge_run(info, trust, written)
    bundle = Bundle(info.to_json(), trust_signed, written, [r.to_json() for r in results])
    return Run(info, bundle, results, manifest)
