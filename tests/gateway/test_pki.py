"""The federation CA and node certificates: the node id travels in the certificate and nowhere else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway.errors import ReasonCode, TransportError
from gateway.pki import (
    BACKDATE,
    create_ca,
    create_csr,
    issue_certificate,
    issue_node_certificate,
    load_certificate,
    node_id_from_certificate,
    read_csr,
)

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def ca() -> tuple[bytes, bytes]:
    """A CA valid for ten years from NOW."""
    return create_ca("jgx test CA", NOW)


def _self_signed(common_name: str, uris: list[str]) -> bytes:
    """A certificate made without jgx's issuer, to test what node_id_from_certificate refuses."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW)
        .not_valid_after(NOW + timedelta(days=1))
    )
    if uris:
        san = x509.SubjectAlternativeName([x509.UniformResourceIdentifier(u) for u in uris])
        builder = builder.add_extension(san, critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


class TestIssue:
    def test_node_certificate_names_the_node(self, ca: tuple[bytes, bytes]) -> None:
        """A node certificate carries the node id as URI SAN and common name, read back from PEM or DER."""
        cert_pem, _ = issue_node_certificate(*ca, "sc.amr", now=NOW)
        cert = load_certificate(cert_pem)
        der = cert.public_bytes(serialization.Encoding.DER)
        assert ["sc.amr", "sc.amr"] == [node_id_from_certificate(cert_pem), node_id_from_certificate(der)]
        assert "sc.amr" == cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value

    def test_node_certificate_serves_both_ends_of_tls(self, ca: tuple[bytes, bytes]) -> None:
        """The certificate is for server and client authentication, for its hosts, and not a CA."""
        cert = load_certificate(
            issue_node_certificate(*ca, "sc.hub", ["10.0.0.5", "hub.jgx.example"], now=NOW)[0]
        )
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH] == list(usages)
        assert ["hub.jgx.example"] == san.get_values_for_type(x509.DNSName)
        assert ["10.0.0.5"] == [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
        assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False

    def test_certificate_chains_to_the_ca(self, ca: tuple[bytes, bytes]) -> None:
        """The node certificate is signed by the CA, with an ECDSA P-256 key of its own."""
        cert_pem, key_pem = issue_node_certificate(*ca, "sc.amr", now=NOW)
        cert, authority = load_certificate(cert_pem), load_certificate(ca[0])
        cert.verify_directly_issued_by(authority)
        key = serialization.load_pem_private_key(key_pem, password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        assert "secp256r1" == key.curve.name

    def test_validity_follows_the_time_passed_in(self, ca: tuple[bytes, bytes]) -> None:
        """Validity starts a little before `now`, lasts `days`, and never outlives the CA."""
        cert = load_certificate(issue_node_certificate(*ca, "sc.amr", now=NOW, days=30)[0])
        assert (NOW - BACKDATE, NOW + timedelta(days=30)) == (
            cert.not_valid_before_utc,
            cert.not_valid_after_utc,
        )
        long = load_certificate(issue_node_certificate(*ca, "sc.amr", now=NOW, days=99_999)[0])
        assert load_certificate(ca[0]).not_valid_after_utc == long.not_valid_after_utc

    @pytest.mark.parametrize("node_id", ["", "SC.AMR", "sc amr", "-sc", "sc/amr", "x" * 65])
    def test_invalid_node_ids_are_refused(self, ca: tuple[bytes, bytes], node_id: str) -> None:
        """A node id outside the trust configuration's pattern gets no certificate."""
        with pytest.raises(TransportError) as caught:
            issue_node_certificate(*ca, node_id, now=NOW)
        assert ReasonCode.IDENTITY_MISMATCH == caught.value.reason

    def test_unreadable_ca_key_is_an_identity_error(self, ca: tuple[bytes, bytes]) -> None:
        """A CA key that is not a PEM key is refused with a typed error."""
        with pytest.raises(TransportError) as caught:
            issue_node_certificate(ca[0], b"not a key", "sc.amr", now=NOW)
        assert ReasonCode.IDENTITY_MISMATCH == caught.value.reason


class TestReadNodeId:
    @pytest.mark.parametrize(
        ("common_name", "uris"),
        [
            ("sc.amr", []),
            ("sc.amr", ["https://sc.amr.example"]),
            ("sc.amr", ["urn:jgx:node:sc.amr", "urn:jgx:node:sc.sjs"]),
            ("sc.sjs", ["urn:jgx:node:sc.amr"]),
            ("Sc.Amr", ["urn:jgx:node:Sc.Amr"]),
        ],
        ids=["no-san", "foreign-uri", "two-nodes", "cn-differs", "bad-node-id"],
    )
    def test_certificates_without_one_clear_node_are_refused(self, common_name: str, uris: list[str]) -> None:
        """A certificate naming no node, two nodes, a bad id, or contradicting its common name is refused."""
        with pytest.raises(TransportError) as caught:
            node_id_from_certificate(_self_signed(common_name, uris))
        assert ReasonCode.IDENTITY_MISMATCH == caught.value.reason

    def test_garbage_is_not_a_certificate(self) -> None:
        """Bytes that are not a certificate are an identity failure, not a crash."""
        with pytest.raises(TransportError) as caught:
            node_id_from_certificate(b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
        assert ReasonCode.IDENTITY_MISMATCH == caught.value.reason


class TestSigningRequest:
    def test_a_csr_names_the_node_and_its_hosts(self) -> None:
        """A department's CSR carries its node id in CN and SAN URI, and its host names."""
        csr, key = create_csr("sc.env", ["env.jgx.example", "10.0.0.9"])
        request = read_csr(csr)
        assert ("sc.env", ("env.jgx.example", "10.0.0.9")) == (request.node_id, request.hosts)
        assert request.request.public_key() == serialization.load_pem_private_key(key, None).public_key()

    def test_the_issued_certificate_is_what_the_ca_decides(self, ca: tuple[bytes, bytes]) -> None:
        """Issued from a CSR: the CSR's key, node and hosts; client+server auth, not a CA, AKI = CA's SKI."""
        csr, key = create_csr("sc.env", ["env.jgx.example"])
        cert = load_certificate(issue_certificate(*ca, csr, now=NOW, days=90))
        authority = load_certificate(ca[0])
        cert.verify_directly_issued_by(authority)
        ext = cert.extensions
        aki = ext.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
        ski = authority.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
        own_ski = ext.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
        public = serialization.load_pem_private_key(key, None).public_key()
        assert (
            "sc.env",
            ["urn:jgx:node:sc.env"],
            ["env.jgx.example"],
            [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH],
            (False, True),
            ski,
            x509.SubjectKeyIdentifier.from_public_key(public).digest,  # type: ignore[arg-type]
            NOW + timedelta(days=90),
        ) == (
            node_id_from_certificate(cert),
            ext.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
                x509.UniformResourceIdentifier
            ),
            ext.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName),
            list(ext.get_extension_for_class(x509.ExtendedKeyUsage).value),
            (
                ext.get_extension_for_class(x509.BasicConstraints).value.ca,
                ext.get_extension_for_class(x509.BasicConstraints).critical,
            ),
            aki,
            own_ski,
            cert.not_valid_after_utc,
        )
        assert public == cert.public_key()

    def test_serial_numbers_are_random_and_distinct(self, ca: tuple[bytes, bytes]) -> None:
        """Two certificates from one CSR get different, large serial numbers."""
        csr, _ = create_csr("sc.env")
        serials = {load_certificate(issue_certificate(*ca, csr, now=NOW)).serial_number for _ in range(5)}
        assert 5 == len(serials)
        assert all(s.bit_length() > 64 for s in serials)

    def test_a_tampered_csr_is_refused(self, ca: tuple[bytes, bytes]) -> None:
        """A CSR whose subject was changed after signing fails proof of possession."""
        csr, _ = create_csr("sc.env")
        der = bytearray(x509.load_pem_x509_csr(csr).public_bytes(serialization.Encoding.DER))
        at = bytes(der).index(b"sc.env")
        der[at : at + 6] = b"sc.amr"
        with pytest.raises(TransportError) as caught:
            issue_certificate(*ca, bytes(der), now=NOW)
        assert ReasonCode.IDENTITY_MISMATCH == caught.value.reason
        assert "tampered" in caught.value.detail

    @pytest.mark.parametrize(
        ("common_name", "uris"),
        [
            ("sc.env", []),
            ("sc.env", ["urn:jgx:node:sc.env", "urn:jgx:node:sc.amr"]),
            ("sc.amr", ["urn:jgx:node:sc.env"]),
        ],
        ids=["no-node", "two-nodes", "cn-differs"],
    )
    def test_a_csr_without_one_clear_node_is_refused(self, common_name: str, uris: list[str]) -> None:
        """A CSR is read by the same rules as a certificate: exactly one node, CN agreeing."""
        key = ec.generate_private_key(ec.SECP256R1())
        builder = x509.CertificateSigningRequestBuilder().subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        )
        if uris:
            san = x509.SubjectAlternativeName([x509.UniformResourceIdentifier(u) for u in uris])
            builder = builder.add_extension(san, critical=False)
        csr = builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
        with pytest.raises(TransportError) as caught:
            read_csr(csr)
        assert ReasonCode.IDENTITY_MISMATCH == caught.value.reason

    def test_garbage_is_not_a_csr(self) -> None:
        """Bytes that are not a CSR are a typed refusal."""
        with pytest.raises(TransportError):
            read_csr(b"hello")
