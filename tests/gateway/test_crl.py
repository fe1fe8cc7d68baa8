"""Revocation lists of the federation CA: what the CA operator writes, what a node accepts and refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.crl import Revocation, RevocationList, load_crl, revoke, sign_crl
from gateway.errors import ReasonCode, TransportError
from gateway.pki import create_ca, issue_node_certificate, load_certificate

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def ca() -> tuple[bytes, bytes]:
    """The federation CA."""
    return create_ca("jgx test CA", NOW)


def _serial(cert: bytes) -> int:
    return load_certificate(cert).serial_number


class TestRevoke:
    def test_a_revoked_certificate_is_refused_and_others_pass(self, ca: tuple[bytes, bytes]) -> None:
        """After `revoke`, the certificate's serial is refused with its time and reason; a sibling passes."""
        amr, _ = issue_node_certificate(*ca, "sc.amr", now=NOW)
        sjs, _ = issue_node_certificate(*ca, "sc.sjs", now=NOW)
        crl = load_crl(revoke(*ca, None, [_serial(amr)], reason="key-compromise", now=NOW), ca[0])
        with pytest.raises(TransportError) as caught:
            crl.check(amr, NOW)
        assert ReasonCode.IDENTITY_MISMATCH == caught.value.reason
        assert f"revoked: serial {_serial(amr):x}" in caught.value.detail
        assert "key-compromise" in caught.value.detail
        crl.check(sjs, NOW)  # not revoked: no error

    def test_revoking_again_keeps_earlier_entries_and_numbers_up(self, ca: tuple[bytes, bytes]) -> None:
        """Each revoke builds on the current list: entries stay, the CRL number rises, nextUpdate moves."""
        first = revoke(*ca, None, [11], now=NOW)
        later = NOW + timedelta(days=2)
        second = load_crl(revoke(*ca, first, [12, 11], reason="superseded", now=later, days=3), ca[0])
        assert (2, {11, 12}, later + timedelta(days=3)) == (
            second.number,
            set(second.revoked),
            second.next_update,
        )
        assert Revocation(11, NOW, "unspecified") == second.revoked[11]  # first revocation kept
        assert "superseded" == second.revoked[12].reason

    def test_an_empty_revoke_refreshes_the_list(self, ca: tuple[bytes, bytes]) -> None:
        """Revoking nothing re-signs the list with a new nextUpdate (what a CA operator does weekly)."""
        stale = revoke(*ca, None, [5], now=NOW, days=1)
        fresh = load_crl(revoke(*ca, stale, [], now=NOW + timedelta(days=6), days=7), ca[0])
        assert ({5}, False) == (set(fresh.revoked), fresh.stale(NOW + timedelta(days=7)))

    def test_unknown_reason_is_refused(self, ca: tuple[bytes, bytes]) -> None:
        """A reason outside RFC 5280's list is refused, not written."""
        with pytest.raises(TransportError):
            revoke(*ca, None, [1], reason="because", now=NOW)


class TestLoad:
    def test_a_crl_of_another_ca_is_refused(self, ca: tuple[bytes, bytes]) -> None:
        """A list signed by another CA cannot revoke or clear anything here."""
        other = create_ca("other CA", NOW)
        with pytest.raises(TransportError) as caught:
            load_crl(revoke(*other, None, [1], now=NOW), ca[0])
        assert "not by the CA" in caught.value.detail

    def test_a_crl_with_a_forged_signature_is_refused(self, ca: tuple[bytes, bytes]) -> None:
        """Same issuer name, another key: the signature does not verify."""
        impostor_cert, impostor_key = create_ca("jgx test CA", NOW)  # same subject as the real CA
        with pytest.raises(TransportError) as caught:
            load_crl(revoke(impostor_cert, impostor_key, None, [1], now=NOW), ca[0])
        assert "signature" in caught.value.detail

    def test_garbage_is_not_a_crl(self, ca: tuple[bytes, bytes]) -> None:
        """Bytes that are no CRL are a typed refusal."""
        with pytest.raises(TransportError):
            load_crl(b"-----BEGIN X509 CRL-----\nnope\n-----END X509 CRL-----\n", ca[0])

    def test_the_ca_key_must_match_the_ca_certificate(self, ca: tuple[bytes, bytes]) -> None:
        """Signing a CRL with some other key is refused before anything is written."""
        with pytest.raises(TransportError):
            sign_crl(ca[0], create_ca("x", NOW)[1], [], number=1, now=NOW)


class TestStale:
    @pytest.mark.parametrize(
        ("refuse_stale", "sibling_passes"), [(False, True), (True, False)], ids=["keep", "refuse"]
    )
    def test_a_stale_list(self, ca: tuple[bytes, bytes], refuse_stale: bool, sibling_passes: bool) -> None:
        """Past nextUpdate, `keep` still refuses the revoked and passes the rest; `refuse` refuses all."""
        amr, _ = issue_node_certificate(*ca, "sc.amr", now=NOW)
        sjs, _ = issue_node_certificate(*ca, "sc.sjs", now=NOW)
        crl = load_crl(revoke(*ca, None, [_serial(amr)], now=NOW, days=1), ca[0])
        late = NOW + timedelta(days=2)
        assert crl.stale(late)
        with pytest.raises(TransportError):
            crl.check(amr, late, refuse_stale=refuse_stale)
        details: list[str] = []
        try:
            crl.check(sjs, late, refuse_stale=refuse_stale)
        except TransportError as exc:
            details.append(exc.detail)
        assert sibling_passes == (not details)
        assert all("stale" in d for d in details)

    def test_a_fresh_empty_list_refuses_nothing(self, ca: tuple[bytes, bytes]) -> None:
        """An empty, fresh list is not stale and passes every certificate."""
        crl = RevocationList(1, NOW, NOW + timedelta(days=1))
        crl.check(issue_node_certificate(*ca, "sc.amr", now=NOW)[0], NOW, refuse_stale=True)
