"""Where a node's signing key lives: a PKCS#8 file (``[paths] node_key``, the software key store) or a
PKCS#11 token (``[keys.pkcs11]`` in ``jgx.toml``). This module is only the configuration, read and
written without loading any PKCS#11 library; `gateway.hsm` opens the token.

    [keys.pkcs11]
    module = "/usr/lib/softhsm/libsofthsm2.so"   # the vendor's PKCS#11 library
    token = "jgx-sc-hub"                         # the token's label (CK_TOKEN_INFO.label)
    label = "node-signing"                       # CKA_LABEL of the key pair on the token
    pin_env = "JGX_TOKEN_PIN"                    # the user PIN: an environment variable …
    # pin_file = "/run/secrets/jgx-token-pin"    # … or a file (first line); never the PIN itself
    # sm2_key_type = 0x80000001                  # SM2 only: the vendor's CKK_ for SM2 keys …
    # sm2_mechanism = 0x80000002                 # … and its CKM_ signing a 32-byte digest e

SM2 key types and mechanisms are vendor-defined (PKCS#11 has no SM2 constants): take them from the
token vendor's header; without them an SM2 key on a token is refused, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

__all__ = ["PKCS11_KEYS", "TokenKeySettings", "parse_keys_table", "render_keys_table"]

#: The keys ``[keys.pkcs11]`` accepts.
PKCS11_KEYS: Final = frozenset(
    {"module", "token", "label", "pin_env", "pin_file", "sm2_key_type", "sm2_mechanism"}
)
_VENDOR_DEFINED: Final = 0x80000000  # CKK_VENDOR_DEFINED = CKM_VENDOR_DEFINED


@dataclass(frozen=True, slots=True)
class TokenKeySettings:
    """A signing key on a PKCS#11 token: the library, the token's label, the key's label, where the PIN
    comes from (an environment variable or a file, never the configuration), and for SM2 the vendor's
    key type and signing mechanism."""

    module: Path
    token: str
    label: str
    pin_env: str = ""
    pin_file: Path | None = None
    sm2_key_type: int | None = None
    sm2_mechanism: int | None = None


#: (key, zh, en) -> the caller's ConfigError; keeps this module free of gateway.config.
Refuse = Callable[[str, str, str], Exception]


def parse_keys_table(doc: Mapping[str, Any], directory: Path, refuse: Refuse) -> TokenKeySettings | None:
    """``[keys]`` of ``jgx.toml``: None (the key is the PKCS#8 file) or the token key's settings."""
    for name in doc:
        if name != "pkcs11":
            raise refuse(f"keys.{name}", "未知的配置项", "unknown key; known keys: pkcs11")
    table = doc.get("pkcs11")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise refuse("keys.pkcs11", "须为表", "must be a table")
    if "pin" in table:
        raise refuse(
            "keys.pkcs11.pin",
            "口令不得写入配置文件，请用 pin_env 或 pin_file",
            "the PIN must not be in the "
            "configuration: name an environment variable (pin_env) or a file (pin_file)",
        )
    for name in table:
        if name not in PKCS11_KEYS:
            known = ", ".join(sorted(PKCS11_KEYS))
            raise refuse(f"keys.pkcs11.{name}", "未知的配置项", f"unknown key; known keys: {known}")
    text = {name: _text(table, name, refuse) for name in ("module", "token", "label", "pin_env", "pin_file")}
    for name in ("module", "token", "label"):
        if not text[name]:
            raise refuse(f"keys.pkcs11.{name}", "缺少必填项", "required key is missing or empty")
    if bool(text["pin_env"]) == bool(text["pin_file"]):
        raise refuse(
            "keys.pkcs11.pin_env",
            "须且只须给出 pin_env 或 pin_file 之一（口令不写入配置文件）",
            "give exactly one of pin_env or pin_file (the PIN itself never goes in the configuration)",
        )
    pin_file = Path(text["pin_file"]) if text["pin_file"] else None
    if pin_file is not None and not pin_file.is_absolute():
        pin_file = directory / pin_file
    module = Path(text["module"])
    return TokenKeySettings(
        module=module if module.is_absolute() else directory / module,
        token=text["token"],
        label=text["label"],
        pin_env=text["pin_env"],
        pin_file=pin_file,
        sm2_key_type=_vendor_number(table, "sm2_key_type", refuse),
        sm2_mechanism=_vendor_number(table, "sm2_mechanism", refuse),
    )


def render_keys_table(settings: TokenKeySettings | None, relative: Callable[[Path], str]) -> dict[str, Any]:
    """The ``[keys.pkcs11]`` values for ``settings`` (empty when the key is the PKCS#8 file)."""
    if settings is None:
        return {}
    values: dict[str, Any] = {
        "module": str(settings.module),
        "token": settings.token,
        "label": settings.label,
    }
    if settings.pin_env:
        values["pin_env"] = settings.pin_env
    if settings.pin_file is not None:
        values["pin_file"] = relative(settings.pin_file)
    for name in ("sm2_key_type", "sm2_mechanism"):
        if getattr(settings, name) is not None:
            values[name] = getattr(settings, name)
    return values


def _text(table: Mapping[str, Any], name: str, refuse: Refuse) -> str:
    value = table.get(name, "")
    if not isinstance(value, str):
        raise refuse(f"keys.pkcs11.{name}", "类型应为 str", f"must be a string, not {value!r}")
    return value


def _vendor_number(table: Mapping[str, Any], name: str, refuse: Refuse) -> int | None:
    if name not in table:
        return None
    value = table[name]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFFFFFFFF:
        raise refuse(
            f"keys.pkcs11.{name}", "须为 32 位无符号整数", f"must be a 32-bit unsigned integer, not {value!r}"
        )
    if value < _VENDOR_DEFINED:
        raise refuse(
            f"keys.pkcs11.{name}",
            "SM2 的密钥类型与机制由厂商定义，须不小于 0x80000000",
            "SM2 key types and mechanisms are vendor-defined: at least 0x80000000",
        )
    return value
