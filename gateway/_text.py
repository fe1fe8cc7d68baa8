"""Text that came from a peer, made safe to sign, store, log and send. Pure: no I/O.

A signed payload may legally carry a JSON escape such as ``"\\udfff"``: Python decodes it to a lone
UTF-16 surrogate, a ``str`` that no UTF-8 encoder accepts. Such text then breaks whatever encodes it
next (protobuf serialization of a receipt, a database driver, a log writer, a gRPC status), and an
envelope that was verified would go unanswered. Every content-derived string the hub passes on goes
through `encodable` first: a lone surrogate is written as its escape (``\\udfff``, readable and
pointing at the offending key), and everything else is kept as it is.
"""

from __future__ import annotations

__all__ = ["encodable", "storable"]

_ELLIPSIS = "…"


def encodable(text: str, *, limit: int | None = None) -> str:
    """``text`` as valid UTF-8 text: lone surrogates escaped, cut to ``limit`` characters with "…"."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Only surrogates fail to encode in UTF-8; backslashreplace writes each as "\udfff".
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)] + _ELLIPSIS
    return text


def storable(text: str) -> str:
    """``text`` as every store keeps it: `encodable`, and NUL (which PostgreSQL's TEXT refuses) escaped."""
    return encodable(text).replace("\x00", "\\x00")
