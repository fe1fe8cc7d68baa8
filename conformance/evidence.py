"""The evidence bundle: every exchange of a run, made safe to keep, with a manifest of digests.

An `Exchange` is one call the suite made (or one export file it read): what was sent, what came back,
when and how long it took. Before anything is written, personal data is masked per SC-20
(`standards.mask` for the bundle's destination class) and key material and secrets are redacted. A
record whose masking changes nothing is kept byte for byte, so recheck can verify its signature again;
a record that had to be masked keeps its header, its digest and the facts established at run time.

On disk a bundle is a directory (or a tar of one): ``run.json``, ``trust.signed.json``, ``ca.pem``
(when TLS was tested), ``exchanges.jsonl``, ``results.json`` and ``MANIFEST.json`` with the SHA-256 of
each; the bundle digest is the SHA-256 of ``MANIFEST.json``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from gateway.errors import ReasonCode, VerificationError

__all__ = [
    "BUNDLE_FILES",
    "Bundle",
    "Exchange",
    "as_written",
    "b64",
    "load_bundle",
    "mask_payload",
    "redact",
    "scrub_text",
    "unb64",
    "write_bundle",
]

BUNDLE_FILES: Final = ("run.json", "trust.signed.json", "exchanges.jsonl", "results.json")
#: Field names that hold secrets (not domain fields such as ``credentialsValue``, a certificate number).
_SECRET_KEYS: Final = re.compile(
    r"(pass(word|wd)?|secret|client_?secret|(access_|refresh_)?token|api_?key|private_?key|authori[sz]ation)",
    re.I,
)
_PEM_PRIVATE: Final = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S
)
_CITIZEN_ID: Final = re.compile(r"(?<![0-9A-Za-z])([1-9][0-9]{5})[0-9]{8}([0-9]{3}[0-9Xx])(?![0-9A-Za-z])")
_MOBILE: Final = re.compile(r"(?<![0-9A-Za-z])(1[3-9][0-9])[0-9]{4}([0-9]{4})(?![0-9A-Za-z])")
#: Fields holding base64 or PEM (names ending so) are binary: never text-scrubbed, only checked for keys.
_BINARY_SUFFIXES: Final = ("B64", "Pem")


def b64(data: bytes) -> str:
    """Standard base64 text of `data`."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    """The bytes of base64 `text`; MALFORMED when it is not base64."""
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise VerificationError(ReasonCode.MALFORMED, "evidence holds invalid base64") from None


@dataclass(frozen=True, slots=True)
class Exchange:
    """One recorded exchange: a call to the adapter, a connection attempt, or an export file read."""

    seq: int
    probe: str  # what the exchange was for: "describe", "export", "valid", "tampered", "concurrent", …
    rpc: str  # "Describe" | "Deliver" | "Export" | "Connect"
    request: Mapping[str, Any]
    response: Mapping[str, Any]
    started_at: str = ""
    duration_ms: float = 0.0
    concurrency: int = 1
    subject: str = ""

    def to_json(self) -> dict[str, Any]:
        """The exchange as one JSON object (one line of ``exchanges.jsonl``)."""
        return asdict(self)

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Exchange:
        """Read back what `to_json` wrote."""
        return cls(
            seq=int(doc["seq"]),
            probe=str(doc["probe"]),
            rpc=str(doc["rpc"]),
            request=dict(doc.get("request", {})),
            response=dict(doc.get("response", {})),
            started_at=str(doc.get("started_at", "")),
            duration_ms=float(doc.get("duration_ms", 0.0)),
            concurrency=int(doc.get("concurrency", 1)),
            subject=str(doc.get("subject", "")),
        )


def scrub_text(text: str) -> str:
    """Free text with private keys redacted and citizen ids / mobile numbers masked (前6后4, 前3后4)."""
    text = _PEM_PRIVATE.sub("[REDACTED PRIVATE KEY]", text)
    text = _CITIZEN_ID.sub(lambda m: m.group(1) + "********" + m.group(2), text)
    return _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(2), text)


def redact(value: Any) -> Any:
    """A copy of a JSON value with secrets removed: keys that name secrets, PEM private keys, PII in text."""
    if isinstance(value, Mapping):
        return {k: _redact_item(str(k), v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value


def _redact_item(key: str, value: Any) -> Any:
    if _SECRET_KEYS.fullmatch(key):
        return "[REDACTED]"
    if key.endswith(_BINARY_SUFFIXES) and isinstance(value, str):
        return _PEM_PRIVATE.sub("[REDACTED PRIVATE KEY]", value)
    return redact(value)


def _pointers(before: Any, after: Any, at: str = "") -> list[str]:
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[str] = []
        for key in before:
            here = f"{at}/{str(key).replace('~', '~0').replace('/', '~1')}"
            if key not in after:
                found.append(here)
            else:
                found.extend(_pointers(before[key], after[key], here))
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            p
            for i, (b, a) in enumerate(zip(before, after, strict=True))
            for p in _pointers(b, a, f"{at}/{i}")
        ]
    return [] if before == after else [at or "/"]


def mask_payload(payload: bytes, destination: str, standard: str | None = None) -> tuple[Any, list[str]]:
    """(the payload as JSON masked per SC-20 for `destination`, pointers that masking changed).

    A payload that is not a JSON object is not kept (None, ["/"]); without the standards package the
    payload is withheld entirely rather than written unmasked.
    """
    try:
        record = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None, ["/"]
    if not isinstance(record, dict):
        return None, ["/"]
    try:
        import standards

        masked = standards.mask(record, destination, standard=standard)
    except (ImportError, AttributeError):
        return None, ["/"]
    except VerificationError:
        return None, ["/"]
    masked = redact(masked)
    return masked, _pointers(record, masked)


@dataclass
class Bundle:
    """An evidence bundle in memory: the run description, the trust bytes, exchanges and results."""

    run: dict[str, Any]
    trust_signed: bytes
    exchanges: list[Exchange]
    results: list[dict[str, Any]] = field(default_factory=list)
    ca_cert: bytes | None = None
    digest: str = ""

    def files(self) -> dict[str, bytes]:
        """The bundle's files as bytes, without the manifest."""
        files = {
            "run.json": _dump(redact(self.run)),
            "trust.signed.json": self.trust_signed,
            "exchanges.jsonl": b"".join(
                json.dumps(redact(x.to_json()), ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n"
                for x in self.exchanges
            ),
            "results.json": _dump(self.results),
        }
        if self.ca_cert is not None:
            files["ca.pem"] = self.ca_cert
        return files


def _dump(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8") + b"\n"


def _manifest(files: Mapping[str, bytes]) -> bytes:
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}
    return _dump({"files": digests, "algorithm": "sha256"})


def write_bundle(bundle: Bundle, directory: Path) -> str:
    """Write the bundle into `directory` (created) and a tar beside it; returns the bundle digest (hex)."""
    files = bundle.files()
    manifest = _manifest(files)
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (directory / name).write_bytes(data)
    (directory / "MANIFEST.json").write_bytes(manifest)
    with tarfile.open(directory.with_suffix(".tar"), "w") as tar:
        for name, data in sorted({**files, "MANIFEST.json": manifest}.items()):
            info = tarfile.TarInfo(f"{directory.name}/{name}")
            info.size = len(data)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    bundle.digest = hashlib.sha256(manifest).hexdigest()
    return bundle.digest


def _read_files(path: Path) -> dict[str, bytes]:
    if path.is_dir():
        return {p.name: p.read_bytes() for p in path.iterdir() if p.is_file()}
    files: dict[str, bytes] = {}
    with tarfile.open(path) as tar:
        for member in tar.getmembers():
            handle = tar.extractfile(member) if member.isfile() else None
            if handle is not None:
                files[Path(member.name).name] = handle.read()
    return files


def load_bundle(path: Path) -> Bundle:
    """Read a bundle directory or tar, checking every file against ``MANIFEST.json``; MALFORMED if not."""
    try:
        files = _read_files(path)
    except (OSError, tarfile.TarError) as exc:
        raise VerificationError(ReasonCode.MALFORMED, f"cannot read evidence bundle {path}: {exc}") from None
    manifest = files.get("MANIFEST.json")
    if manifest is None:
        raise VerificationError(ReasonCode.MALFORMED, "the bundle has no MANIFEST.json")
    listed: Mapping[str, str] = json.loads(manifest).get("files", {})
    problems = [
        name
        for name, digest in listed.items()
        if name not in files or hashlib.sha256(files[name]).hexdigest() != digest
    ]
    missing = [name for name in BUNDLE_FILES if name not in listed]
    unlisted = sorted(set(files) - set(listed) - {"MANIFEST.json"})
    if problems or missing or unlisted:
        raise VerificationError(
            ReasonCode.MALFORMED,
            f"bundle digests do not match: changed {problems}, missing {missing}, unlisted {unlisted}",
        )
    exchanges = [
        Exchange.from_json(json.loads(line)) for line in files["exchanges.jsonl"].splitlines() if line.strip()
    ]
    return Bundle(
        run=json.loads(files["run.json"]),
        trust_signed=files["trust.signed.json"],
        exchanges=exchanges,
        results=json.loads(files["results.json"]),
        ca_cert=files.get("ca.pem"),
        digest=hashlib.sha256(manifest).hexdigest(),
    )


def as_written(exchanges: Iterable[Exchange]) -> list[Exchange]:
    """The exchanges exactly as the bundle holds them (redacted): what verdicts are drawn from."""
    return [Exchange.from_json(redact(x.to_json())) for x in exchanges]
