"""One error family with typed reason codes (DESIGN §3, standard SC-17).

Every refusal jgx makes, on the wire, in a receipt, in the CLI or in the console, names one reason code
from this catalogue. Each code carries the gRPC status and HTTP status it maps to and a message in
Chinese and English. Following python-tuf, failures of *untrusted content* (a bad signature, an expired
message, a rolled-back trust configuration) are kept apart from *transport* failures (an oversized
frame, a rate limit, a peer that does not answer): the former are `VerificationError`, the latter
`TransportError`, both `JgxError`.

This module has no I/O and imports nothing outside the standard library; gRPC status names are strings
that the server maps with ``grpc.StatusCode[name]``.
"""

from __future__ import annotations

import enum
import errno
from dataclasses import dataclass
from typing import Final

__all__ = [
    "CATALOGUE",
    "ERROR_DOMAIN",
    "Answer",
    "Arising",
    "JgxError",
    "Reason",
    "ReasonCode",
    "TransportError",
    "TrustError",
    "VerificationError",
    "catalogue_table",
    "os_reason",
]


#: ``google.rpc.ErrorInfo.domain`` of every status jgx sends (gateway, adapter SDK, conformance): one
#: value, so a client can tell a jgx reason code from a status the gRPC library made up itself.
ERROR_DOMAIN: Final = "jgx"


class ReasonCode(enum.StrEnum):
    """The reason codes; their string values travel in receipts and in google.rpc.ErrorInfo.reason."""

    # Envelope framing and parsing.
    MALFORMED = "MALFORMED"
    TOO_LARGE = "TOO_LARGE"
    PAYLOAD_TYPE_UNKNOWN = "PAYLOAD_TYPE_UNKNOWN"
    # Signatures and keys.
    SIGNATURE_MISSING = "SIGNATURE_MISSING"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    ALGORITHM_MISMATCH = "ALGORITHM_MISMATCH"
    KEY_UNKNOWN = "KEY_UNKNOWN"
    KEY_REVOKED = "KEY_REVOKED"
    KEY_NOT_VALID = "KEY_NOT_VALID"
    SENDER_KEY_MISMATCH = "SENDER_KEY_MISMATCH"
    IDENTITY_MISMATCH = "IDENTITY_MISMATCH"
    # Freshness, audience, replay.
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    REPLAYED = "REPLAYED"
    NOT_ADDRESSED_TO_US = "NOT_ADDRESSED_TO_US"
    SENDER_UNKNOWN = "SENDER_UNKNOWN"
    # Authorisation and content.
    ACL_DENIED = "ACL_DENIED"
    STANDARD_UNKNOWN = "STANDARD_UNKNOWN"
    VERSION_NOT_IN_FORCE = "VERSION_NOT_IN_FORCE"
    SCHEMA_INVALID = "SCHEMA_INVALID"
    RULE_VIOLATION = "RULE_VIOLATION"
    # Trust configuration.
    TRUST_INVALID = "TRUST_INVALID"
    TRUST_THRESHOLD_NOT_MET = "TRUST_THRESHOLD_NOT_MET"
    TRUST_ROLLBACK = "TRUST_ROLLBACK"
    TRUST_EXPIRED = "TRUST_EXPIRED"
    # Receipts and delivery.
    RECEIPT_INVALID = "RECEIPT_INVALID"
    # Transport and load.
    RATE_LIMITED = "RATE_LIMITED"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"


class Answer(enum.StrEnum):
    """How a reason code reaches the party that caused it (the "answered with" column of docs/wire.md §6)."""

    #: a gRPC status with google.rpc.ErrorInfo; no receipt, no log leaf (nothing to receipt yet)
    STATUS = "status"
    #: a signed receipt with outcome REJECTED, after a log leaf was written
    RECEIPT = "receipt"
    #: a trust configuration is refused (jgx trust verify, node start, trust update); never on Submit
    TRUST = "trust"
    #: the sending side refuses what a peer answered (delivery worker, adapter SDK client); never on Submit
    SENDER = "sender"


@dataclass(frozen=True, slots=True)
class Arising:
    """Where a code arises: a step of docs/wire.md §7 (None: outside the steps, or any) and its answer."""

    step: int | None
    answer: Answer


@dataclass(frozen=True, slots=True)
class Reason:
    """A catalogue entry: how a reason code maps to gRPC and HTTP, where it arises, what it says to a person."""

    code: ReasonCode
    grpc_status: str
    http_status: int
    zh: str
    en: str
    untrusted_content: bool = True
    arises: tuple[Arising, ...] = ()


_A = Answer


def _at(*where: tuple[int | None, Answer]) -> tuple[Arising, ...]:
    return tuple(Arising(step, answer) for step, answer in where)


def _r(
    code: ReasonCode,
    grpc: str,
    http: int,
    zh: str,
    en: str,
    arises: tuple[Arising, ...],
    *,
    content: bool = True,
) -> tuple[ReasonCode, Reason]:
    return code, Reason(code, grpc, http, zh, en, content, arises)


_C = ReasonCode
_RECEIPT_3, _RECEIPT_4, _RECEIPT_5 = _at((3, _A.RECEIPT)), _at((4, _A.RECEIPT)), _at((5, _A.RECEIPT))
_RECEIPT_6, _RECEIPT_8 = _at((6, _A.RECEIPT)), _at((8, _A.RECEIPT))
_TRUST = _at((None, _A.TRUST))
# The rows of docs/wire.md §6, in order (tools/genwire.py writes them; tests/gateway/test_docs.py checks).
CATALOGUE: Final[dict[ReasonCode, Reason]] = dict(
    [
        _r(_C.MALFORMED, "INVALID_ARGUMENT", 400, "报文格式错误，无法解析", "the input is malformed and cannot be parsed", _at((2, _A.STATUS), (5, _A.RECEIPT), (6, _A.RECEIPT), (8, _A.RECEIPT))),
        _r(_C.TOO_LARGE, "RESOURCE_EXHAUSTED", 413, "报文超过大小限制", "the input exceeds the size limit", _at((2, _A.STATUS))),
        _r(_C.PAYLOAD_TYPE_UNKNOWN, "INVALID_ARGUMENT", 415, "未知的载荷类型", "the payload type is not one this node accepts", _RECEIPT_3),
        _r(_C.SIGNATURE_MISSING, "UNAUTHENTICATED", 401, "信封未携带签名", "the envelope carries no signature", _RECEIPT_3),
        _r(_C.SIGNATURE_INVALID, "UNAUTHENTICATED", 401, "签名验证失败", "no signature verifies over the signed bytes", _RECEIPT_4),
        _r(_C.ALGORITHM_MISMATCH, "UNAUTHENTICATED", 401, "签名算法与信任配置中登记的密钥算法不符", "the signature does not fit the algorithm registered for the key", _RECEIPT_4),
        _r(_C.KEY_UNKNOWN, "UNAUTHENTICATED", 401, "签名密钥不在信任配置中", "the signing key is not in the trust configuration", _RECEIPT_3),
        _r(_C.KEY_REVOKED, "UNAUTHENTICATED", 401, "签名密钥已被吊销", "the signing key has been revoked", _RECEIPT_3),
        _r(_C.KEY_NOT_VALID, "UNAUTHENTICATED", 401, "签名密钥不在有效期内", "the signing key is outside its validity period", _RECEIPT_3),
        _r(_C.SENDER_KEY_MISMATCH, "PERMISSION_DENIED", 403, "签名密钥不属于声明的发送方", "the signing key does not belong to the stated sender", _RECEIPT_5),
        _r(_C.IDENTITY_MISMATCH, "PERMISSION_DENIED", 403, "传输层证书身份与发送方不一致", "the transport certificate's node does not match the sender", _at((1, _A.STATUS), (5, _A.RECEIPT)), content=False),
        _r(_C.EXPIRED, "FAILED_PRECONDITION", 422, "报文已过期", "the message has expired", _RECEIPT_6),
        _r(_C.NOT_YET_VALID, "FAILED_PRECONDITION", 422, "报文签发时间晚于当前时间（超出允许的时钟偏差）", "the message is issued in the future beyond the allowed clock skew", _RECEIPT_6),
        _r(_C.REPLAYED, "ALREADY_EXISTS", 409, "报文标识已使用（重放）", "the message id was already used by this sender (replay)", _RECEIPT_6),
        _r(_C.NOT_ADDRESSED_TO_US, "PERMISSION_DENIED", 421, "报文接收方不是本节点", "the message is addressed to another node", _RECEIPT_6),
        _r(_C.SENDER_UNKNOWN, "PERMISSION_DENIED", 403, "发送方节点不在信任配置中", "the sender is not a node of the trust configuration", _RECEIPT_5),
        _r(_C.ACL_DENIED, "PERMISSION_DENIED", 403, "访问控制不允许该发送方向该接收方发送该标准的数据", "the ACL does not allow this sender to send this standard to this recipient", _at((7, _A.RECEIPT))),
        _r(_C.STANDARD_UNKNOWN, "INVALID_ARGUMENT", 422, "未知的标准编号", "the standard is unknown", _RECEIPT_8),
        _r(_C.VERSION_NOT_IN_FORCE, "FAILED_PRECONDITION", 422, "标准版本不在有效期内", "the standard version is not in force", _RECEIPT_8),
        _r(_C.SCHEMA_INVALID, "INVALID_ARGUMENT", 422, "数据不符合标准的结构定义", "the payload does not match the standard's schema", _RECEIPT_8),
        _r(_C.RULE_VIOLATION, "INVALID_ARGUMENT", 422, "数据违反标准的业务规则", "the payload violates a rule of the standard", _RECEIPT_8),
        _r(_C.TRUST_INVALID, "FAILED_PRECONDITION", 422, "信任配置格式或内容无效", "the trust configuration is malformed or inconsistent", _TRUST),
        _r(_C.TRUST_THRESHOLD_NOT_MET, "UNAUTHENTICATED", 401, "信任配置的管理员签名未达到门限", "the trust configuration lacks a threshold of admin signatures", _TRUST),
        _r(_C.TRUST_ROLLBACK, "FAILED_PRECONDITION", 409, "信任配置版本回退", "the trust configuration version is not newer than the current one (rollback)", _TRUST),
        _r(_C.TRUST_EXPIRED, "FAILED_PRECONDITION", 422, "信任配置已过期", "the trust configuration has expired", _at((None, _A.TRUST), (None, _A.STATUS))),
        _r(_C.RECEIPT_INVALID, "UNAUTHENTICATED", 502, "对方回执无效或签名不符", "the peer's receipt is invalid or not signed by the peer", _at((None, _A.SENDER))),
        _r(_C.RATE_LIMITED, "RESOURCE_EXHAUSTED", 429, "发送频率超过限制，请稍后重试", "the sender exceeds its rate limit; retry later", _at((1, _A.STATUS)), content=False),
        _r(_C.UNAVAILABLE, "UNAVAILABLE", 503, "服务暂不可用，请稍后重试", "the service is unavailable; retry later", _at((9, _A.STATUS)), content=False),
        _r(_C.INTERNAL, "INTERNAL", 500, "内部错误，已记录", "internal error; it has been logged", _at((None, _A.STATUS), (8, _A.RECEIPT), (9, _A.RECEIPT)), content=False),
    ]
)


def _where(arises: tuple[Arising, ...]) -> str:
    """``status (step 2); receipt (steps 5, 6, 8)``: the arisings grouped by answer, in order."""
    groups: dict[Answer, list[int | None]] = {}
    for arising in arises:
        groups.setdefault(arising.answer, []).append(arising.step)
    parts = []
    for answer, steps in groups.items():
        numbered = [str(step) for step in steps if step is not None]
        label = "step" if len(numbered) == 1 else "steps"
        parts.append(f"{answer.value} ({label} {', '.join(numbered)})" if numbered else answer.value)
    return "; ".join(parts)


def catalogue_table() -> str:
    """The reason-code table of docs/wire.md §6, rendered from `CATALOGUE` (the one source of both)."""
    lines = [
        "| code | gRPC status | HTTP | answered with (step of §7) | meaning (中文) | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for r in CATALOGUE.values():
        lines.append(
            f"| `{r.code.value}` | {r.grpc_status} | {r.http_status} | {_where(r.arises)} | {r.zh} | {r.en} |"
        )
    return "\n".join(lines) + "\n"


class JgxError(Exception):
    """Base of every error jgx raises on purpose; always carries a reason code."""

    reason: ReasonCode

    def __init__(self, reason: ReasonCode, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)

    @property
    def entry(self) -> Reason:
        """The catalogue entry of this error's reason code."""
        return CATALOGUE[self.reason]

    def diagnostics(self) -> str:
        """A bilingual explanation for a person (CLI, console)."""
        lines = [f"{self.reason.value}: {self.entry.zh} / {self.entry.en}"]
        if self.detail:
            lines.append(f"  {self.detail}")
        return "\n".join(lines)


class VerificationError(JgxError):
    """The input is not trustworthy: signature, key, freshness, audience, replay, ACL, content."""


class TrustError(VerificationError):
    """A trust configuration is refused: malformed, below threshold, rolled back or expired."""


class TransportError(JgxError):
    """A transport or load failure, not a judgement on the content: limits, identity, availability."""


_ERRNO_ZH = {
    errno.ENOENT: "文件或目录不存在",
    errno.EACCES: "权限不足",
    errno.EPERM: "不允许的操作",
    errno.EISDIR: "是目录",
    errno.ENOTDIR: "不是目录",
    errno.EEXIST: "已存在",
    errno.ENOSPC: "磁盘空间不足",
    errno.EROFS: "只读文件系统",
    errno.EADDRINUSE: "地址已被占用",
    errno.ECONNREFUSED: "连接被拒绝",
}


def os_reason(exc: OSError) -> tuple[str, str]:
    """An OS error's reason in Chinese (its errno's name where jgx has no wording) and in English."""
    name = errno.errorcode.get(exc.errno or 0, str(exc.errno))
    return f"{_ERRNO_ZH.get(exc.errno or 0, '系统错误')} ({name})", exc.strerror or str(exc)
