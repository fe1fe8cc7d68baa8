"""A real PKCS#11 module for tests and the benchmark: SoftHSM2 (Debian's softhsm2, installed by `make test`)
with its tokens in a fresh directory, and key pairs generated on a token, never extractable."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import PyKCS11
import pytest

from gateway.keys import Algorithm
from gateway.keystore import TokenKeySettings

#: Where Debian's softhsm2 package puts the module.
MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
USER_PIN = "246810"
SO_PIN = "13579135"
#: The environment variable [keys.pkcs11] pin_env names in the tests.
PIN_ENV = "JGX_TEST_TOKEN_PIN"
#: (token, key label, algorithm) of every key pair the tests use.
TOKEN_KEYS: tuple[tuple[str, str, Algorithm], ...] = (
    ("jgx-keys", "ed25519", Algorithm.ED25519),
    ("jgx-keys", "p256", Algorithm.ECDSA_P256_SHA256),
    ("jgx-node", "hub", Algorithm.ED25519),
    ("jgx-node", "amr", Algorithm.ECDSA_P256_SHA256),
    ("jgx-node", "stranger", Algorithm.ED25519),
    ("jgx-pin", "node", Algorithm.ED25519),
    ("jgx-edge", "amr", Algorithm.ECDSA_P256_SHA256),  # adapters and bridges: test_hsm_edges.py
    ("jgx-edge", "sjs", Algorithm.ED25519),
    ("jgx-edge", "hub", Algorithm.ED25519),  # a running hub whose token fails under it
)

_GENERATION: dict[Algorithm, tuple[int, int, bytes]] = {
    Algorithm.ED25519: (
        PyKCS11.CKK_EC_EDWARDS,
        PyKCS11.CKM_EC_EDWARDS_KEY_PAIR_GEN,
        bytes.fromhex("06032b6570"),
    ),
    Algorithm.ECDSA_P256_SHA256: (
        PyKCS11.CKK_EC,
        PyKCS11.CKM_EC_KEY_PAIR_GEN,
        bytes.fromhex("06082a8648ce3d030107"),
    ),
}


def write_softhsm_conf(directory: Path) -> Path:
    """A SoftHSM2 configuration keeping its tokens under ``directory``; its path (for SOFTHSM2_CONF)."""
    tokens = directory / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf = directory / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    return conf


def init_token(label: str, conf: Path, pin: str = USER_PIN) -> None:
    """Initialise a token labelled ``label`` in the first free slot (softhsm2-util --init-token)."""
    util = shutil.which("softhsm2-util")
    assert util is not None, "softhsm2 is not installed: `make softhsm` installs it"
    subprocess.run(
        [util, "--init-token", "--free", "--label", label, "--so-pin", SO_PIN, "--pin", pin],
        check=True,
        capture_output=True,
        env={**os.environ, "SOFTHSM2_CONF": str(conf)},
        timeout=60,
    )


def generate_on_token(conf: Path, token: str, label: str, algorithm: Algorithm) -> None:
    """Generate a key pair labelled ``label`` on ``token``: private half sensitive and not extractable.

    In a child process: SoftHSM reads its configuration and the tokens present once per process, and a
    PKCS#11 login is shared by every session of a process, so the tests' own process stays untouched."""
    code = (
        f"from tests.gateway.softhsm import _generate; _generate({token!r}, {label!r}, {algorithm.value!r})"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "SOFTHSM2_CONF": str(conf)},
        timeout=60,
    )


def _generate(token: str, label: str, algorithm_name: str, pin: str = USER_PIN) -> None:
    key_type, mechanism, params = _GENERATION[Algorithm(algorithm_name)]
    library = PyKCS11.PyKCS11Lib()
    library.load(str(MODULE))
    slot = next(
        s for s in library.getSlotList(tokenPresent=True) if library.getTokenInfo(s).label.strip() == token
    )
    session = library.openSession(slot, PyKCS11.CKF_SERIAL_SESSION | PyKCS11.CKF_RW_SESSION)
    session.login(pin)
    common: list[tuple[int, Any]] = [(PyKCS11.CKA_TOKEN, True), (PyKCS11.CKA_LABEL, label)]
    public = [
        (PyKCS11.CKA_CLASS, PyKCS11.CKO_PUBLIC_KEY),
        (PyKCS11.CKA_KEY_TYPE, key_type),
        (PyKCS11.CKA_VERIFY, True),
        (PyKCS11.CKA_EC_PARAMS, params),
        *common,
    ]
    private = [
        (PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY),
        (PyKCS11.CKA_KEY_TYPE, key_type),
        (PyKCS11.CKA_SIGN, True),
        (PyKCS11.CKA_PRIVATE, True),
        (PyKCS11.CKA_SENSITIVE, True),
        (PyKCS11.CKA_EXTRACTABLE, False),
        *common,
    ]
    session.generateKeyPair(public, private, mecha=PyKCS11.Mechanism(mechanism, None))


def private_key_attributes(token: str, label: str, pin: str = USER_PIN) -> dict[str, Any]:
    """CKA_EXTRACTABLE, CKA_SENSITIVE and what reading CKA_VALUE returns for the private key ``label``
    (in this process; a login already held by another session of the process is shared)."""
    library = PyKCS11.PyKCS11Lib()
    library.load(str(MODULE))
    slot = next(
        s for s in library.getSlotList(tokenPresent=True) if library.getTokenInfo(s).label.strip() == token
    )
    session = library.openSession(slot, PyKCS11.CKF_SERIAL_SESSION)
    try:
        session.login(pin)
    except PyKCS11.PyKCS11Error as exc:
        if exc.value != PyKCS11.CKR_USER_ALREADY_LOGGED_IN:
            raise
    (handle,) = session.findObjects(
        [(PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY), (PyKCS11.CKA_LABEL, label)]
    )
    extractable, sensitive, value = session.getAttributeValue(
        handle, [PyKCS11.CKA_EXTRACTABLE, PyKCS11.CKA_SENSITIVE, PyKCS11.CKA_VALUE]
    )
    return {"extractable": extractable, "sensitive": sensitive, "value": value}


@dataclass(frozen=True)
class Hsm:
    """The SoftHSM2 directory of a test session and its configuration file."""

    conf: Path

    def settings(self, token_label: str, key_label: str, **changes: object) -> TokenKeySettings:
        base = TokenKeySettings(module=MODULE, token=token_label, label=key_label, pin_env=PIN_ENV)
        return replace(base, **changes)  # type: ignore[arg-type]


def session_tokens(directory: Path) -> Iterator[Hsm]:
    """Initialise every token of `TOKEN_KEYS` under ``directory`` and generate its key pairs, then hold
    SOFTHSM2_CONF and the PIN variable set until the generator is closed."""
    conf = write_softhsm_conf(directory)
    for token in dict.fromkeys(token for token, _, _ in TOKEN_KEYS):
        init_token(token, conf)
    for token, label, algorithm in TOKEN_KEYS:
        generate_on_token(conf, token, label, algorithm)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOFTHSM2_CONF", str(conf))
        patch.setenv(PIN_ENV, USER_PIN)
        yield Hsm(conf)
