"""A node's signing key on a PKCS#11 token (HSM, 密码机): the key never leaves the module.

`open_token_key` loads the vendor's PKCS#11 library (through PyKCS11, the optional ``jgx[hsm]`` extra),
finds the token by label, logs in with the user PIN from an environment variable or a file, and finds the
key pair by its label. The public key is read from the token (CKA_EC_POINT of the public-key object) and
wrapped in the SPKI every jgx key id is computed from, so the result is a `gateway.keys.PrivateKey` like
any other: `sign(data)` returns exactly the bytes a software key of the same algorithm returns.

    Ed25519     CKM_EDDSA over the data; the 64-byte signature as is.
    P-256       SHA-256 on the host, CKM_ECDSA over the digest; r‖s re-encoded as DER.
    SM2-SM3     e = SM3(Z_A ‖ data) on the host (as gateway.sm2 does), the vendor's raw SM2 mechanism
                over e (``sm2_mechanism``), r‖s (or DER) re-encoded as DER per GB/T 35276.

Hashing on the host keeps one code path for every token (SoftHSM 2.6 has no CKM_ECDSA_SHA256) and lets a
trust configuration's SM2 signer id apply. ECDSA and SM2 nonces are then the token's: signatures are not
deterministic, which verification never assumes.

The SM2 path is written against the common vendor practice (a CKK_ for SM2 keys, a CKM_ signing a 32-byte
digest, CKA_EC_POINT holding 04‖x‖y) and is untested against real hardware: SoftHSM has no SM2.
"""

from __future__ import annotations

import enum
import hashlib
import os
import threading
from collections.abc import Mapping
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from gateway.errors import JgxError, ReasonCode
from gateway.keys import Algorithm, PrivateKey, PublicKey, SigningUnavailable, load_public_key
from gateway.keystore import TokenKeySettings

__all__ = ["TokenKeyError", "TokenProblem", "TokenSignError", "der_signature", "open_token_key", "read_pin"]

# DER prefixes of the SubjectPublicKeyInfo for each algorithm; the point follows.
_SPKI_ED25519: Final = bytes.fromhex("302a300506032b6570032100")
_SPKI_P256: Final = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")
_SPKI_SM2: Final = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d034200")
# CKA_EC_PARAMS naming each curve: the DER OID (and for Ed25519 the PrintableString PKCS#11 3.0 allows).
_PARAMS_P256: Final = bytes.fromhex("06082a8648ce3d030107")
_PARAMS_SM2: Final = bytes.fromhex("06082a811ccf5501822d")
_PARAMS_ED25519: Final = (bytes.fromhex("06032b6570"), b"\x13\x0cedwards25519")
_CKK_EC: Final = 0x03
_CKK_EC_EDWARDS: Final = 0x40
_CKM_ECDSA: Final = 0x1041
_CKM_EDDSA: Final = 0x1057
_PIN_CODES: Final = {0xA0: "CKR_PIN_INCORRECT", 0xA1: "CKR_PIN_INVALID", 0xA2: "CKR_PIN_LEN_RANGE",
                     0xA3: "CKR_PIN_EXPIRED", 0xA4: "CKR_PIN_LOCKED"}  # fmt: skip
_ALREADY_LOGGED_IN: Final = 0x100


class TokenProblem(enum.StrEnum):
    """What stops a token key from being used; each is a startup error naming it."""

    LIBRARY = "library"  # PyKCS11 is not installed
    PIN = "pin"  # no PIN where the settings say, or the token refuses it
    MODULE = "module"  # the PKCS#11 library cannot be loaded
    TOKEN = "token"  # noqa: S105 (a problem name, not a secret): no token with that label
    KEY = "key"  # no (or no single) key pair with that label, or one jgx cannot sign with
    MECHANISM = "mechanism"  # SM2 without the vendor's mechanism configured
    KEY_ID = "key_id"  # the token's key is not this node's key in the trust configuration
    SIGN = "sign"  # the token failed to sign


class TokenKeyError(JgxError):
    """A token key cannot be opened or used; `problem` says which step, the message is bilingual."""

    def __init__(
        self, problem: TokenProblem, zh: str, en: str, reason: ReasonCode = ReasonCode.UNAVAILABLE
    ) -> None:
        self.problem = problem
        self.zh, self.en = zh, en
        self.detail_zh, self.detail_en = zh, en  # each line of the CLI's failure gets its own (in_languages)
        super().__init__(reason, f"{zh} / {en}")


class TokenSignError(TokenKeyError, SigningUnavailable):
    """The token did not sign (problem SIGN, reason UNAVAILABLE): removed, its session closed, failing."""


def read_pin(settings: TokenKeySettings, environ: Mapping[str, str] | None = None) -> str:
    """The user PIN from ``pin_env`` or the first line of ``pin_file``; TokenKeyError(PIN) if absent."""
    if settings.pin_file is not None:
        try:
            pin = settings.pin_file.read_text(encoding="utf-8").splitlines()[0:1]
        except (OSError, UnicodeDecodeError) as exc:
            raise TokenKeyError(
                TokenProblem.PIN, f"无法读取口令文件 {settings.pin_file}", f"cannot read the PIN file: {exc}"
            ) from None
        if not pin or not pin[0]:
            raise TokenKeyError(
                TokenProblem.PIN, "口令文件为空", f"the PIN file {settings.pin_file} is empty"
            )
        return pin[0]
    pin_text = (os.environ if environ is None else environ).get(settings.pin_env, "")
    if not pin_text:
        raise TokenKeyError(
            TokenProblem.PIN,
            f"环境变量 {settings.pin_env} 未设置令牌口令",
            f"the environment variable {settings.pin_env} holds no token PIN",
        )
    return pin_text


class _Session:
    """One logged-in PKCS#11 session; a lock makes its single operation slot safe across threads."""

    def __init__(self, library: Any, session: Any, pkcs11: Any) -> None:
        self._library = library  # keeps the module loaded while the session lives
        self._session = session
        self._pkcs11 = pkcs11
        self._lock = threading.Lock()

    def sign(self, handle: Any, mechanism: int, data: bytes) -> bytes:
        try:
            with self._lock:
                return bytes(self._session.sign(handle, data, self._pkcs11.Mechanism(mechanism, None)))
        except self._pkcs11.PyKCS11Error as exc:
            raise TokenSignError(
                TokenProblem.SIGN, "令牌签名失败", f"the token did not sign: {exc}"
            ) from None


class _TokenKey(PrivateKey):
    """A key pair on a token; `sign` returns what the software key of the same algorithm returns."""

    def __init__(self, session: _Session, handle: Any, public_key: PublicKey, mechanism: int) -> None:
        self._session, self._handle = session, handle
        self.public_key = public_key
        self._mechanism = mechanism

    def to_pem(self) -> bytes:
        """Never: the key cannot leave the token."""
        raise TokenKeyError(
            TokenProblem.KEY,
            "私钥保存在密码模块中，不能导出",
            "the private key is held by the token and cannot be exported",
        )

    def _raw_pair(self, digest: bytes) -> bytes:
        """The token's signature over `digest` as DER (r, s)."""
        return der_signature(self._session.sign(self._handle, self._mechanism, digest))


def der_signature(signature: bytes) -> bytes:
    """A token's ECDSA or SM2 signature as the DER (r, s) jgx carries: tokens return r‖s (PKCS#11 §2.3.1),
    a few vendors' SM2 mechanisms DER already; anything else is TokenKeyError(SIGN)."""
    if len(signature) == 64:
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        return bytes(encode_dss_signature(r, s))
    try:
        decode_dss_signature(signature)
    except ValueError:
        raise TokenKeyError(
            TokenProblem.SIGN, "令牌返回的签名格式无法识别", f"the token returned {len(signature)} bytes"
        ) from None
    return signature


class _TokenEd25519Key(_TokenKey):
    algorithm = Algorithm.ED25519

    def sign(self, data: bytes) -> bytes:
        """CKM_EDDSA over `data` (pure Ed25519, RFC 8032): 64 bytes."""
        return self._session.sign(self._handle, self._mechanism, data)


class _TokenP256Key(_TokenKey):
    algorithm = Algorithm.ECDSA_P256_SHA256

    def sign(self, data: bytes) -> bytes:
        """CKM_ECDSA over SHA-256(`data`); DER (r, s)."""
        return self._raw_pair(hashlib.sha256(data).digest())


class _TokenSM2Key(_TokenKey):
    algorithm = Algorithm.SM2_SM3

    def sign(self, data: bytes) -> bytes:
        """The vendor's SM2 mechanism over e = SM3(Z_A ‖ `data`); DER (r, s) per GB/T 35276."""
        return self._raw_pair(self.public_key.signing_digest(data))  # type: ignore[attr-defined]

    def with_signer_id(self, signer_id: bytes) -> PrivateKey:
        """The same token key with Z_A computed for `signer_id`."""
        return _TokenSM2Key(
            self._session, self._handle, self.public_key.with_signer_id(signer_id), self._mechanism
        )


def open_token_key(settings: TokenKeySettings, environ: Mapping[str, str] | None = None) -> PrivateKey:
    """Log in to the token and return its key pair as a `PrivateKey`; TokenKeyError naming the problem."""
    try:
        import PyKCS11
    except ImportError:
        raise TokenKeyError(
            TokenProblem.LIBRARY,
            "未安装 PyKCS11：请安装 jgx[hsm]",
            "PyKCS11 is not installed: install jgx[hsm] (pip install 'jgx[hsm]')",
        ) from None
    pin = read_pin(settings, environ)
    library = PyKCS11.PyKCS11Lib()
    if not settings.module.is_file():
        raise TokenKeyError(
            TokenProblem.MODULE,
            f"PKCS#11 模块不存在: {settings.module}",
            f"no PKCS#11 module at {settings.module}",
        )
    try:
        library.load(str(settings.module))
        slots = {library.getTokenInfo(s).label.strip(): s for s in library.getSlotList(tokenPresent=True)}
    except PyKCS11.PyKCS11Error as exc:
        raise TokenKeyError(
            TokenProblem.MODULE,
            f"无法加载 PKCS#11 模块 {settings.module}",
            f"cannot load the PKCS#11 module {settings.module}: {exc}",
        ) from None
    if settings.token not in slots:
        present = ", ".join(sorted(repr(label) for label in slots if label)) or "none"
        raise TokenKeyError(
            TokenProblem.TOKEN,
            f"找不到标签为 {settings.token!r} 的令牌",
            f"no token labelled {settings.token!r} (tokens present: {present})",
        )
    try:
        session = library.openSession(slots[settings.token], PyKCS11.CKF_SERIAL_SESSION)
    except PyKCS11.PyKCS11Error as exc:
        raise TokenKeyError(
            TokenProblem.TOKEN, f"无法打开令牌 {settings.token!r} 的会话", f"cannot open a session: {exc}"
        ) from None
    try:
        session.login(pin)
    except PyKCS11.PyKCS11Error as exc:
        if exc.value != _ALREADY_LOGGED_IN:
            code = _PIN_CODES.get(exc.value, str(exc))
            raise TokenKeyError(
                TokenProblem.PIN,
                f"令牌 {settings.token!r} 拒绝了口令（{code}）",
                f"the token refused the PIN ({code})",
            ) from None
    try:
        return _key_pair(_Session(library, session, PyKCS11), session, PyKCS11, settings)
    except PyKCS11.PyKCS11Error as exc:
        raise TokenKeyError(
            TokenProblem.KEY, f"无法读取令牌上的密钥 {settings.label!r}", f"cannot read the key pair: {exc}"
        ) from None


def _key_pair(holder: _Session, session: Any, pkcs11: Any, settings: TokenKeySettings) -> PrivateKey:
    def one(object_class: int, what_zh: str, what_en: str) -> Any:
        found = session.findObjects([(pkcs11.CKA_CLASS, object_class), (pkcs11.CKA_LABEL, settings.label)])
        if len(found) != 1:
            raise TokenKeyError(
                TokenProblem.KEY,
                f"令牌上标签为 {settings.label!r} 的{what_zh}有 {len(found)} 个，须恰为 1 个",
                f"the token holds {len(found)} {what_en} labelled {settings.label!r}, not exactly one",
            )
        return found[0]

    private = one(pkcs11.CKO_PRIVATE_KEY, "私钥", "private keys")
    public = one(pkcs11.CKO_PUBLIC_KEY, "公钥", "public keys")
    (key_type,) = session.getAttributeValue(private, [pkcs11.CKA_KEY_TYPE])
    params, point = (
        bytes(v or b"")
        for v in session.getAttributeValue(public, [pkcs11.CKA_EC_PARAMS, pkcs11.CKA_EC_POINT])
    )
    if key_type == _CKK_EC_EDWARDS and params in _PARAMS_ED25519:
        return _TokenEd25519Key(holder, private, _public(_SPKI_ED25519, point, 32), _CKM_EDDSA)
    if key_type == _CKK_EC and params == _PARAMS_P256:
        return _TokenP256Key(holder, private, _public(_SPKI_P256, point, 65), _CKM_ECDSA)
    if params == _PARAMS_SM2 or (settings.sm2_key_type is not None and key_type == settings.sm2_key_type):
        if settings.sm2_mechanism is None:
            raise TokenKeyError(
                TokenProblem.MECHANISM,
                "SM2 签名机制由厂商定义：请在 [keys.pkcs11] 中设置 sm2_mechanism",
                "SM2 mechanisms are vendor-defined: set sm2_mechanism in [keys.pkcs11]",
            )
        return _TokenSM2Key(holder, private, _public(_SPKI_SM2, point, 65), settings.sm2_mechanism)
    raise TokenKeyError(
        TokenProblem.KEY,
        f"令牌密钥类型不受支持（CKA_KEY_TYPE=0x{key_type:x}）",
        f"the token key is none of Ed25519, P-256, SM2 "
        f"(CKA_KEY_TYPE 0x{key_type:x}, CKA_EC_PARAMS {params.hex()})",
    )


def _public(prefix: bytes, ec_point: bytes, size: int) -> PublicKey:
    """The SPKI public key from CKA_EC_POINT: the DER OCTET STRING PKCS#11 specifies, or the bare point
    some tokens return."""
    point = ec_point
    if len(ec_point) == size + 2 and ec_point[0] == 0x04 and ec_point[1] == size:
        point = ec_point[2:]
    if len(point) != size:
        raise TokenKeyError(
            TokenProblem.KEY,
            "令牌公钥格式无法识别",
            f"CKA_EC_POINT of {len(ec_point)} bytes is not a {size}-byte point",
        )
    try:
        return load_public_key(prefix + point)
    except JgxError as exc:
        raise TokenKeyError(
            TokenProblem.KEY, "令牌公钥无效", f"the token's public key is not valid: {exc}"
        ) from None
