"""Signing keys on a PKCS#11 token (gateway.hsm) against a real module: SoftHSM2, tokens in a fresh
directory, key pairs generated on the token and never extractable. A `jgx serve` node signs receipts and
checkpoints with its token key over real gRPC; a department signs envelopes with its own token key."""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import load_der_public_key

import standards
from adapters.sdk import Record, seal_record
from gateway import hsm, sm2
from gateway.config import CONFIG_FILE, ConfigError, load_config, parse_config, render_config
from gateway.keys import Algorithm, PrivateKey, SM2PrivateKey, generate_key
from gateway.keystore import TokenKeySettings
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.receipts import verify_receipt
from gateway.testing import Federation
from gateway.trust import key_record
from gateway.trust_request import read_request
from tests.gateway.nodes import ServeProcess, client_credentials, jgx, write_node
from tests.gateway.softhsm import MODULE, PIN_ENV, USER_PIN, Hsm, private_key_attributes

SUBMIT = "/jgx.exchange.v1.Exchange/Submit"
MESSAGE = b"DSSEv1 41 application/vnd.jgx.message.v1+protobuf 5 hello"


def _independent_verify(key: PrivateKey, signature: bytes, data: bytes) -> None:
    """Verify with pyca straight from the SPKI, not through gateway.keys; raises if invalid."""
    public = load_der_public_key(key.public_key.spki_der)
    if isinstance(public, ed25519.Ed25519PublicKey):
        public.verify(signature, data)
    else:
        assert isinstance(public, ec.EllipticCurvePublicKey)
        public.verify(signature, data, ec.ECDSA(hashes.SHA256()))


@pytest.mark.parametrize(
    ("label", "algorithm"), [("ed25519", Algorithm.ED25519), ("p256", Algorithm.ECDSA_P256_SHA256)]
)
def test_a_token_key_signs_in_the_software_key_encoding(
    softhsm: Hsm, label: str, algorithm: Algorithm
) -> None:
    """The token key is a PrivateKey of its algorithm whose signatures verify exactly as a software key's
    (Ed25519 raw 64 bytes, ECDSA DER); its key id is SHA-256 of the SPKI read from the token."""
    key = hsm.open_token_key(softhsm.settings("jgx-keys", label))
    software = generate_key(algorithm)
    signature = key.sign(MESSAGE)
    _independent_verify(key, signature, MESSAGE)
    with pytest.raises(InvalidSignature):
        _independent_verify(key, signature, MESSAGE + b"!")
    assert algorithm == key.algorithm
    assert hashlib.sha256(key.public_key.spki_der).hexdigest() == key.key_id
    assert key.public_key.verify(signature, MESSAGE)
    assert software.public_key.fits(software.sign(MESSAGE)) == key.public_key.fits(signature) is True
    if algorithm is Algorithm.ED25519:
        assert 64 == len(signature)
    else:
        decode_dss_signature(signature)  # DER SEQUENCE { r, s }, as the software key signs


def test_the_token_key_cannot_leave_the_token(softhsm: Hsm) -> None:
    """The private key is sensitive and not extractable on the token, and to_pem refuses."""
    key = hsm.open_token_key(softhsm.settings("jgx-keys", "p256"))
    attributes = private_key_attributes("jgx-keys", "p256")
    with pytest.raises(hsm.TokenKeyError) as refused:
        key.to_pem()
    assert {"extractable": False, "sensitive": True, "value": None} == attributes
    assert hsm.TokenProblem.KEY == refused.value.problem


@pytest.mark.parametrize(
    ("changes", "problem", "clue"),
    [
        ({"module": Path("/nonexistent/libpkcs11.so")}, hsm.TokenProblem.MODULE, "no PKCS#11 module"),
        ({"module": Path(__file__)}, hsm.TokenProblem.MODULE, "cannot load the PKCS#11 module"),
        ({"token": "no-such-token"}, hsm.TokenProblem.TOKEN, "no token labelled 'no-such-token'"),
        ({"label": "no-such-key"}, hsm.TokenProblem.KEY, "0 private keys labelled 'no-such-key'"),
        (
            {"pin_env": "JGX_TEST_NO_SUCH_PIN"},
            hsm.TokenProblem.PIN,
            "JGX_TEST_NO_SUCH_PIN holds no token PIN",
        ),
    ],
)
def test_a_token_key_that_cannot_be_opened_is_a_typed_error(
    softhsm: Hsm, changes: dict[str, object], problem: hsm.TokenProblem, clue: str
) -> None:
    """Each way a token key is not usable is a TokenKeyError naming the step, in Chinese and English."""
    with pytest.raises(hsm.TokenKeyError) as refused:
        hsm.open_token_key(softhsm.settings("jgx-keys", "ed25519", **changes))
    assert problem == refused.value.problem
    assert clue in refused.value.en
    assert refused.value.zh not in ("", refused.value.en)


def test_a_wrong_pin_is_refused_by_the_token(softhsm: Hsm) -> None:
    """A PIN the token refuses (CKR_PIN_INCORRECT) is TokenKeyError(PIN); the right one opens the key."""
    wrong = {PIN_ENV: "000000"}
    with pytest.raises(hsm.TokenKeyError) as refused:
        hsm.open_token_key(softhsm.settings("jgx-pin", "node"), environ=wrong)
    assert (hsm.TokenProblem.PIN, True) == (refused.value.problem, "CKR_PIN_INCORRECT" in refused.value.en)
    assert hsm.open_token_key(softhsm.settings("jgx-pin", "node")).public_key.verify  # opens with USER_PIN


def test_the_pin_can_come_from_a_file(softhsm: Hsm, tmp_path: Path) -> None:
    """pin_file: the first line of the file is the PIN."""
    (tmp_path / "pin").write_text(f"{USER_PIN}\n")
    settings = softhsm.settings("jgx-keys", "ed25519", pin_env="", pin_file=tmp_path / "pin")
    key = hsm.open_token_key(settings, environ={})
    assert key.public_key.verify(key.sign(MESSAGE), MESSAGE)


_TOML = 'node_id = "sc.hub"\n'


def test_keys_pkcs11_round_trips_through_jgx_toml(tmp_path: Path) -> None:
    """[keys.pkcs11] is read (relative paths from the file's directory) and written back the same."""
    text = _TOML + (
        '[keys.pkcs11]\nmodule = "/usr/lib/softhsm/libsofthsm2.so"\ntoken = "t"\nlabel = "k"\n'
        'pin_file = "secrets/pin"\nsm2_key_type = 0x80000001\nsm2_mechanism = 0x80000002\n'
    )
    config = parse_config(text, directory=tmp_path)
    again = parse_config(render_config(config), directory=tmp_path)
    expected = TokenKeySettings(
        module=MODULE,
        token="t",
        label="k",
        pin_file=tmp_path.resolve() / "secrets" / "pin",
        sm2_key_type=0x80000001,
        sm2_mechanism=0x80000002,
    )
    assert expected == config.token_key == again.token_key
    assert parse_config(_TOML, directory=tmp_path).token_key is None


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ('module = "m"\ntoken = "t"\nlabel = "k"\npin = "123456"\n', "keys.pkcs11.pin"),
        ('module = "m"\ntoken = "t"\nlabel = "k"\n', "keys.pkcs11.pin_env"),
        ('module = "m"\ntoken = "t"\nlabel = "k"\npin_env = "A"\npin_file = "f"\n', "keys.pkcs11.pin_env"),
        ('module = "m"\ntoken = "t"\npin_env = "A"\n', "keys.pkcs11.label"),
        (
            'module = "m"\ntoken = "t"\nlabel = "k"\npin_env = "A"\nsm2_mechanism = 4\n',
            "keys.pkcs11.sm2_mechanism",
        ),
        ('module = "m"\ntoken = "t"\nlabel = "k"\npin_env = "A"\nslot = 1\n', "keys.pkcs11.slot"),
    ],
)
def test_a_bad_keys_pkcs11_table_names_the_key(tmp_path: Path, table: str, key: str) -> None:
    """A PIN in the file, no PIN source or two, a missing label, a non-vendor SM2 mechanism, an unknown
    key: ConfigError naming it."""
    with pytest.raises(ConfigError) as refused:
        parse_config(_TOML + "[keys.pkcs11]\n" + table, directory=tmp_path)
    assert key == refused.value.key


def test_the_sm2_token_path_computes_what_a_verifier_checks() -> None:
    """What the SM2 token path does on the host, checked without a token: the SPKI built from a
    CKA_EC_POINT is the software key's, and a raw r‖s signature over signing_digest(data) (what the
    vendor mechanism is given), re-encoded by der_signature, verifies over data, under a signer id too.
    The token call itself is untested: SoftHSM has no SM2."""
    software = generate_key(Algorithm.SM2_SM3)
    assert isinstance(software, SM2PrivateKey)
    point = software.public_key.spki_der[-65:]
    public = hsm._public(hsm._SPKI_SM2, b"\x04\x41" + point, 65)
    for signer_id in (sm2.DEFAULT_SIGNER_ID, b"sc.amr@scjg.gov.cn"):
        signing = software.with_signer_id(signer_id)
        verifying = public.with_signer_id(signer_id)
        e = verifying.signing_digest(MESSAGE)  # type: ignore[attr-defined]
        r, s = decode_dss_signature(sm2._sign_digest(signing._key._key, e))  # type: ignore[attr-defined]
        raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")  # what a token's raw mechanism returns
        assert software.public_key.with_signer_id(signer_id).verify(hsm.der_signature(raw), MESSAGE)
    assert software.key_id == public.key_id


def _node_with_token_keys(softhsm: Hsm, root: Path) -> tuple[Path, Federation, PrivateKey, PrivateKey]:
    """sc.hub's directory whose signing key is the token's "hub" key (keys/node.key deleted), in a trust
    configuration listing it, and sc.amr's key "amr" on the token too."""
    hub_key = hsm.open_token_key(softhsm.settings("jgx-node", "hub"))
    amr_key = hsm.open_token_key(softhsm.settings("jgx-node", "amr"))
    fed = Federation.create(datetime.now(UTC))
    trust = fed.trust
    for node_id, key in (("sc.hub", hub_key), ("sc.amr", amr_key)):
        trust = trust.with_node(replace(trust.node(node_id), keys=(key_record(key.public_key),)))
    fed.resign(trust)
    node = write_node(root / "node", fed)  # writes the federation's software key for sc.hub …
    (node / "keys" / "node.key").unlink()  # … which the node must not need
    config = replace(load_config(node / CONFIG_FILE), token_key=softhsm.settings("jgx-node", "hub"))
    (node / CONFIG_FILE).write_text(render_config(config))
    return node, fed, hub_key, amr_key


async def _submit(node: Path, port: int, envelopes: list[bytes]) -> list[exchange_pb2.Envelope]:
    async with grpc.aio.secure_channel(f"127.0.0.1:{port}", client_credentials(node, "sc.amr")) as channel:
        call = channel.unary_unary(SUBMIT, response_deserializer=exchange_pb2.SubmitResponse.FromString)
        return [(await call(envelope)).receipt for envelope in envelopes]


@pytest.mark.slow
def test_a_node_signs_receipts_and_checkpoints_with_its_token_key(softhsm: Hsm, tmp_path: Path) -> None:
    """jgx serve with [keys.pkcs11] and no key file: a department's envelopes, signed by the adapter SDK
    with its own token key, are accepted over mTLS; the receipts verify against the trust configuration
    and are signed by the hub's token key; after a graceful stop `jgx log verify` passes (checkpoints
    signed by the token key)."""
    node, fed, hub_key, amr_key = _node_with_token_keys(softhsm, tmp_path)
    now = datetime.now(UTC)
    envelopes = [
        seal_record(
            Record("SC-06", "1.0.0", f"CF-HSM-{n}", json.loads(standards.sample("SC-06"))),
            sender="sc.amr",
            key=amr_key,
            default_recipient="sc.hub",
            now=now,
        )[1]
        for n in range(3)
    ]
    serve = ServeProcess(node, "--listen", "127.0.0.1:0", "--console", "off")
    try:
        receipts = asyncio.run(_submit(node, serve.port, envelopes))
    finally:
        code = serve.terminate()
    verified = [verify_receipt(r, fed.trust, issuer="sc.hub", now=datetime.now(UTC)) for r in receipts]
    audit = jgx("log", "verify", "--dir", str(node))
    assert 0 == code
    assert [exchange_pb2.OUTCOME_ACCEPTED] * 3 == [r.outcome for r in verified]
    assert {hub_key.key_id} == {s.key_id for r in receipts for s in r.signatures}
    assert 0 == audit.returncode, audit.stdout + audit.stderr
    assert "checkpoints verified" in audit.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("change", "clues"),
    [
        ("wrong-pin", ("[pin]", "CKR_PIN_INCORRECT", "拒绝了口令")),
        ("no-token", ("[token]", "no token labelled 'jgx-gone'", "找不到标签为")),
        ("other-key", ("[key_id]", "KEY_UNKNOWN", "不是信任配置中节点 sc.hub 的密钥")),
        ("revoked", ("[key_id]", "KEY_UNKNOWN", "(listed: none)")),
    ],
)
def test_a_node_whose_token_key_is_not_usable_refuses_to_start(
    softhsm: Hsm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str, clues: tuple[str, ...]
) -> None:
    """A wrong PIN, a missing token, a token key that is not the node's key in the trust configuration
    or is revoked there: jgx serve exits 2 before listening, saying which, in Chinese and English."""
    node, fed, hub_key, _ = _node_with_token_keys(softhsm, tmp_path)
    if change == "revoked":
        fed.resign(fed.trust.with_key_revoked(hub_key.key_id))
        (node / "trust.json").write_bytes(fed.signed_trust)
    config = load_config(node / CONFIG_FILE)
    assert config.token_key is not None
    if change == "wrong-pin":
        monkeypatch.setenv(PIN_ENV, "000000")
    changed = {"no-token": {"token": "jgx-gone"}, "other-key": {"label": "stranger"}}.get(change, {})
    config = replace(config, token_key=replace(config.token_key, **changed))  # type: ignore[arg-type]
    (node / CONFIG_FILE).write_text(render_config(config))
    refused = jgx("serve", "--dir", str(node), "--listen", "127.0.0.1:0", "--console", "off")
    assert 2 == refused.returncode, refused.stderr
    assert "listening" not in refused.stderr
    for clue in clues:
        assert clue in refused.stderr


def test_jgx_keys_token_prints_the_key_id_the_trust_configuration_needs(softhsm: Hsm, tmp_path: Path) -> None:
    """`jgx keys token --dir` logs in to the token of [keys.pkcs11] and writes its public key: the same
    key id `jgx keys id` computes from the file, the one the trust configuration must list."""
    node, _, hub_key, _ = _node_with_token_keys(softhsm, tmp_path)
    shown = jgx("keys", "token", "--dir", str(node), "--out", str(tmp_path / "hub.pub"))
    computed = jgx("keys", "id", str(tmp_path / "hub.pub"))
    (node / CONFIG_FILE).write_text(render_config(replace(load_config(node / CONFIG_FILE), token_key=None)))
    without = jgx("keys", "token", "--dir", str(node))
    assert 0 == shown.returncode, shown.stderr
    assert shown.stdout.startswith(f"{hub_key.key_id}  ed25519  jgx-node/hub")
    assert computed.stdout.startswith(f"{hub_key.key_id}  ed25519")
    assert (2, True) == (without.returncode, "has no [keys.pkcs11]" in without.stderr)


def test_a_token_node_signs_its_join_request_with_the_token_key(softhsm: Hsm, tmp_path: Path) -> None:
    """`jgx trust request --dir` on a node with [keys.pkcs11] (and no key file) registers the token's
    public key and proves possession with a signature made on the token."""
    node, _, hub_key, _ = _node_with_token_keys(softhsm, tmp_path)
    made = jgx(
        "trust", "request", "--dir", str(node), "--name-zh", "枢纽", "--name-en", "Hub",
        "--out", str(tmp_path / "request.json"),
    )  # fmt: skip
    assert 0 == made.returncode, made.stderr
    request = read_request((tmp_path / "request.json").read_bytes())  # verifies every key's signature
    assert [hub_key.key_id] == [record.key_id for record in request.node.keys]
