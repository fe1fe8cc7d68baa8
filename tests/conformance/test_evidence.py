"""Evidence: secrets redacted and personal data masked before writing; bundles that detect any edit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.evidence import Bundle, Exchange, load_bundle, mask_payload, redact, write_bundle
from conformance.grouping import condense
from conformance.results import Override
from gateway.errors import ReasonCode, VerificationError
from gateway.keys import generate_key


def test_private_keys_and_secret_fields_are_redacted() -> None:
    """A PEM private key anywhere, and fields named like secrets, never reach the bundle."""
    pem = generate_key().to_pem().decode().strip()
    doc = {"detail": f"oops {pem}", "password": "hunter2", "certificatePem": pem, "n": 1}
    assert {
        "detail": "oops [REDACTED PRIVATE KEY]",
        "password": "[REDACTED]",
        "certificatePem": "[REDACTED PRIVATE KEY]",
        "n": 1,
    } == redact(doc)


def test_identity_and_mobile_numbers_in_free_text_are_masked_but_base64_is_kept() -> None:
    """Free text keeps the first 6 and last 4 of an ID and 3+4 of a mobile; base64 fields are untouched."""
    doc = {"contact": "张三 13812345678 510104199001011234", "receiptB64": "A13812345678B"}
    assert {"contact": "张三 138****5678 510104********1234", "receiptB64": "A13812345678B"} == redact(doc)


def test_a_payload_is_masked_for_its_destination_class() -> None:
    """A clue for the Chongqing partner keeps 3+4 digits of a contact phone, and the pointer is reported."""
    masked, pointers = mask_payload(json.dumps({"contactPhone": "13812345678"}).encode(), "partner")
    assert ({"contactPhone": "138****5678"}, ["/contactPhone"]) == (masked, pointers)


def test_an_edited_bundle_file_is_detected(tmp_path: Path) -> None:
    """Changing one byte of a bundle file after writing makes loading it fail with MALFORMED."""
    exchange = Exchange(1, "describe", "Describe", {}, {"status": "OK"})
    write_bundle(Bundle({"mode": "live"}, b"{}", [exchange], []), tmp_path / "evidence")
    path = tmp_path / "evidence" / "exchanges.jsonl"
    path.write_bytes(path.read_bytes().replace(b"OK", b"NO"))
    with pytest.raises(VerificationError) as caught:
        load_bundle(tmp_path / "evidence")
    assert ReasonCode.MALFORMED == caught.value.reason


def test_the_tar_and_the_directory_hold_the_same_bundle(tmp_path: Path) -> None:
    """The bundle digest is the same whether read from the directory or from the tar beside it."""
    digest = write_bundle(Bundle({"mode": "live"}, b"{}", [], []), tmp_path / "evidence")
    assert (digest, digest) == (
        load_bundle(tmp_path / "evidence").digest,
        load_bundle(tmp_path / "evidence.tar").digest,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SC-06.R012=warning:口径差异", Override("SC-06.R012", "warning", "口径差异")),
        ("SC-06.R001=off:local reading", Override("SC-06.R001", "off", "local reading")),
    ],
)
def test_an_override_is_parsed_with_its_reason(text: str, expected: Override) -> None:
    """``RULE=LEVEL:reason`` becomes an override."""
    assert expected == Override.parse(text)


@pytest.mark.parametrize("text", ["SC-06.R012=warning", "SC-06.R012=error:x", "=off:x"])
def test_an_override_without_a_reason_or_level_is_refused(text: str) -> None:
    """An override must name a rule, a lower level and a reason."""
    with pytest.raises(ValueError, match="must look like"):
        Override.parse(text)


def test_domain_fields_that_merely_sound_secret_are_kept() -> None:
    """A certificate number field (credentialsValue) is data, not a secret, and is not redacted."""
    doc = {"credentialsType": "001", "credentialsValue": "91510100MA61234567", "privateKey": "x"}
    assert {
        "credentialsType": "001",
        "credentialsValue": "91510100MA61234567",
        "privateKey": "[REDACTED]",
    } == redact(doc)


def test_lines_that_differ_only_in_where_are_folded_into_one_counted_line() -> None:
    """Seven records with the same problem become one line naming the count and the first five places."""
    same = [(f"#3 →sc.hub [{n}] 签名密钥不在清单中", f"#3 →sc.hub [{n}] key abc… is not in the manifest")
            for n in range(1, 8)]  # fmt: skip
    problems = [*same, ("#4 →sc.hub [1] 报文无法解析", "#4 →sc.hub [1] the body is not a Message")]
    places = ["#3 →sc.hub [1]", "#3 →sc.hub [2]", "#3 →sc.hub [3]", "#3 →sc.hub [4]", "#3 →sc.hub [5]"]
    assert (
        (
            f"共 7 处（{'、'.join(places)}…）：签名密钥不在清单中",
            f"7× ({', '.join(places)}…): key abc… is not in the manifest",
        ),
        ("#4 →sc.hub [1] 报文无法解析", "#4 →sc.hub [1] the body is not a Message"),
    ) == condense(problems)
