"""Step 1 per call: the peer's node id from its certificate, alone and with the CRL check of `NodeTls`.

Prints calls/s of `gateway.tls.peer_identity` and of `NodeTls.peer_node` with CRLs of 0, 1 000 and
10 000 revoked serials (files looked at every 10 s, as by default), on one real client certificate.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from gateway.crl import revoke
from gateway.node_tls import NodeTls
from gateway.pki import create_ca, issue_node_certificate
from gateway.tls import AuthContextSource, peer_identity

CALLS = 20_000


class _Context:
    """What a servicer context offers step 1: the TLS auth context."""

    def __init__(self, auth: Mapping[str, Iterable[bytes]]) -> None:
        self.auth = auth

    def auth_context(self) -> Mapping[str, Iterable[bytes]]:
        return self.auth


def _rate(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    for _ in range(CALLS):
        call()
    return CALLS / (time.perf_counter() - start)


def main() -> None:
    """Print the table."""
    now = datetime.now(UTC)
    ca = create_ca("bench CA", now)
    hub_cert, hub_key = issue_node_certificate(*ca, "sc.hub", now=now)
    client, _ = issue_node_certificate(*ca, "sc.amr", now=now)
    auth = {"transport_security_type": [b"ssl"], "x509_pem_cert": [client], "ssl_tls_version": [b"TLSv1.3"]}
    context = _Context(auth)
    rows = [("peer_identity (no CRL)", _rate(lambda: peer_identity(auth)))]
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        for name, data in (("node.crt", hub_cert), ("node.key", hub_key), ("ca.crt", ca[0])):
            (directory / name).write_bytes(data)
        for revoked in (0, 1_000, 10_000):
            (directory / "ca.crl").write_bytes(revoke(*ca, None, range(1, revoked + 1), now=now))
            files = NodeTls("sc.hub", *(directory / n for n in ("node.crt", "node.key", "ca.crt", "ca.crl")))

            def call(step: Callable[[AuthContextSource], str] = files.peer_node) -> str:
                return step(context)

            rows.append((f"NodeTls.peer_node, CRL of {revoked}", _rate(call)))
    print("| step 1 | calls/s |")
    print("|---|---:|")
    for name, rate in rows:
        print(f"| {name} | {rate:.0f} |")


if __name__ == "__main__":
    main()
