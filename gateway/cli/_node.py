"""The node directory as `jgx serve` and `jgx log` read it: ``jgx.toml`` and the files it names.

A minimal reader of the settings these commands need. Relative paths are relative to the directory
holding ``jgx.toml``. An empty directory can be initialised with a single-hub federation (`initialise`).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.keys import Algorithm, PrivateKey, generate_key, load_private_key
from gateway.trust import AclEntry, Node, TrustConfig, key_record
from gateway.trust_update import load_trust, sign_trust

__all__ = ["CONFIG_NAME", "NodeFiles", "initialise"]

CONFIG_NAME = "jgx.toml"


@dataclass(frozen=True)
class NodeFiles:
    """Where a node keeps its key, trust configuration and database, and how it serves."""

    directory: Path
    node_id: str
    signing_key: Path
    trust: Path
    database: Path
    listen: str = "127.0.0.1:7700"
    max_in_flight: int = 64
    checkpoint_every: int = 1000
    checkpoint_interval: float = 5.0
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_ca: Path | None = None

    @classmethod
    def load(cls, config: Path) -> NodeFiles:
        """Read ``config`` (a jgx.toml); KeyError/ValueError/OSError when it is incomplete or unreadable."""
        doc: dict[str, Any] = tomllib.loads(config.read_text(encoding="utf-8"))
        base = config.parent

        def path(value: str | None) -> Path | None:
            return None if value is None else (base / value)

        node, server, storage, log, tls = (
            doc.get(k, {}) for k in ("node", "server", "storage", "log", "tls")
        )
        return cls(
            directory=base,
            node_id=str(node["id"]),
            signing_key=base / str(node["signing_key"]),
            trust=base / str(node["trust"]),
            database=base / str(storage.get("sqlite", "jgx.db")),
            listen=str(server.get("listen", "127.0.0.1:7700")),
            max_in_flight=int(server.get("max_in_flight", 64)),
            checkpoint_every=int(log.get("checkpoint_every", 1000)),
            checkpoint_interval=float(log.get("checkpoint_interval_seconds", 5.0)),
            tls_cert=path(tls.get("cert")),
            tls_key=path(tls.get("key")),
            tls_ca=path(tls.get("ca")),
        )

    def key(self) -> PrivateKey:
        """The node's signing key (receipts and checkpoints)."""
        return load_private_key(self.signing_key.read_bytes())

    def trust_config(self, now: datetime) -> TrustConfig:
        """The verified trust configuration (TrustError when it is refused)."""
        return load_trust(self.trust.read_bytes(), now=now)


_TEMPLATE = """# jgx node configuration (written by `jgx serve` on first run)
[node]
id = "{node_id}"
signing_key = "keys/{node_id}.pem"   # Ed25519: signs receipts and log checkpoints
trust = "trust.json"                 # the signed trust configuration (DSSE JSON)

[server]
listen = "127.0.0.1:7700"            # plaintext only on loopback; add [tls] to serve mTLS
max_in_flight = 64                   # SubmitStream envelopes between reading and answering

[storage]
sqlite = "jgx.db"                    # embedded store, WAL mode

[log]
checkpoint_every = 1000              # sign a checkpoint every N leaves…
checkpoint_interval_seconds = 5      # …or every T seconds, whichever comes first
"""


def initialise(directory: Path, node_id: str, *, now: datetime) -> list[Path]:
    """Create a single-hub node in ``directory``: keys, a signed trust configuration, jgx.toml."""
    node_key = generate_key(Algorithm.ED25519)
    admin = generate_key(Algorithm.ED25519)
    trust = TrustConfig.new(
        [admin.public_key], threshold=1, issued_at=now, expires_at=now + timedelta(days=365)
    )
    trust = trust.with_node(
        Node(
            node_id,
            "四川省互联网+监管系统交换枢纽",
            "provincial exchange hub",
            "hub",
            (key_record(node_key.public_key),),
        )
    )
    trust = trust.with_acl(AclEntry(node_id, ("*",), ("*",)))
    files = {
        directory / "keys" / f"{node_id}.pem": node_key.to_pem(),
        directory / "keys" / "admin.pem": admin.to_pem(),
        directory / "trust.json": sign_trust(trust, [admin]),
        directory / CONFIG_NAME: _TEMPLATE.format(node_id=node_id).encode(),
    }
    for target, data in files.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if target.suffix == ".pem":
            target.chmod(0o600)
    return list(files)
