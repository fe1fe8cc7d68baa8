"""The trust configuration's policies are the federation's contract; jgx.toml may only tighten them."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest

from gateway.config import CONFIG_FILE, Limits, load_config, render_config
from gateway.error_details import error_info
from gateway.hub import Hub
from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.policy import LocalLimits, Policy, loosening
from gateway.receipts import verify_receipt
from gateway.storage.sqlite import SqliteStore
from gateway.testing import Federation
from tests.gateway.nodes import ServeProcess, client_credentials, write_node

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
FED = Federation.create(NOW)
TRUST = FED.trust.with_policies(max_envelope_bytes=65_536, clock_skew_seconds=300, replay_ttl_seconds=3600)

# (name, local limits, expected effective (max_envelope_bytes, clock skew s, replay ttl s))
CASES = [
    ("no local setting follows the federation", LocalLimits(), (65_536, 300, 3600)),
    ("a smaller envelope limit tightens", LocalLimits(max_envelope_bytes=8192), (8192, 300, 3600)),
    ("a larger envelope limit is ignored", LocalLimits(max_envelope_bytes=1 << 20), (65_536, 300, 3600)),
    ("a smaller skew tightens", LocalLimits(clock_skew_seconds=10), (65_536, 10, 3600)),
    ("a larger skew is ignored", LocalLimits(clock_skew_seconds=3000), (65_536, 300, 3600)),
    ("a shorter replay window tightens", LocalLimits(replay_ttl_seconds=600), (65_536, 300, 600)),
    ("a longer replay window is ignored", LocalLimits(replay_ttl_seconds=86_400), (65_536, 300, 3600)),
]


@pytest.mark.parametrize(("name", "local", "expected"), CASES, ids=[c[0] for c in CASES])
def test_the_effective_policy_is_the_stricter_of_trust_and_local(
    name: str, local: LocalLimits, expected: tuple[int, int, int]
) -> None:
    """Each policy field: the trust configuration's value, or the local one when that is stricter."""
    policy = Policy.of(TRUST, local)
    actual = (policy.max_envelope_bytes, policy.clock_skew.total_seconds(), policy.replay_ttl.total_seconds())
    assert expected == actual


def test_looser_local_settings_are_reported() -> None:
    """The settings a node cannot loosen are named with their local and federation values."""
    local = LocalLimits(max_envelope_bytes=1 << 20, clock_skew_seconds=10, replay_ttl_seconds=86_400)
    expected = {"max_envelope_bytes": (1048576.0, 65536.0), "replay_ttl_seconds": (86400.0, 3600.0)}
    assert expected == loosening(TRUST, local)


def test_a_jgx_toml_without_limits_follows_the_trust_policy(tmp_path: Path) -> None:
    """An unset [limits]/[clock] value is not written as a default that would override the federation."""
    config = write_node(tmp_path, FED)
    loaded = load_config(config / CONFIG_FILE)
    assert LocalLimits() == loaded.local_limits
    assert "max_envelope_bytes" not in (config / CONFIG_FILE).read_text(encoding="utf-8")


async def _hub(tmp_path: Path, local: LocalLimits) -> Hub:
    store = SqliteStore(tmp_path / f"{hashlib.sha256(repr(local).encode()).hexdigest()[:8]}.db")
    await store.open()
    hub = Hub(
        node_id="sc.hub", key=FED.keys["sc.hub"], trust=TRUST, store=store, clock=lambda: NOW, limits=local
    )
    await hub.start()
    return hub


async def _verdict(hub: Hub, **fields: object) -> list[str]:
    message = FED.message("sc.amr", "sc.hub", **fields)  # type: ignore[arg-type]
    handled = await hub.submit(FED.envelope(message))
    await hub.close()
    await hub.store.close()
    return list(handled.reasons)


@pytest.mark.parametrize(
    ("local", "ahead", "expected"),
    [
        (LocalLimits(), timedelta(seconds=200), []),
        (LocalLimits(clock_skew_seconds=10), timedelta(seconds=60), ["NOT_YET_VALID"]),
        (LocalLimits(clock_skew_seconds=3000), timedelta(seconds=600), ["NOT_YET_VALID"]),
    ],
)
async def test_a_node_judges_freshness_with_the_policy_in_force(
    tmp_path: Path, local: LocalLimits, ahead: timedelta, expected: list[str]
) -> None:
    """A message from the near future is within the federation's skew unless the node is stricter."""
    hub = await _hub(tmp_path, local)
    assert expected == await _verdict(hub, issued_at=NOW + ahead)


@pytest.mark.parametrize(
    ("local", "lifetime", "expected"),
    [
        (LocalLimits(), timedelta(minutes=59), []),
        (LocalLimits(), timedelta(hours=2), ["MALFORMED"]),
        (LocalLimits(replay_ttl_seconds=600), timedelta(minutes=59), ["MALFORMED"]),
    ],
)
async def test_a_message_may_not_outlive_the_replay_window(
    tmp_path: Path, local: LocalLimits, lifetime: timedelta, expected: list[str]
) -> None:
    """A lifetime beyond replay_ttl_seconds is MALFORMED: the node could not remember its id that long."""
    hub = await _hub(tmp_path, local)
    assert expected == await _verdict(hub, lifetime=lifetime)


def test_jgx_serve_enforces_the_trust_policy_over_a_looser_jgx_toml(tmp_path: Path) -> None:
    """`jgx serve` with jgx.toml allowing 1 MiB refuses 20 KiB when the trust policy says 16 KiB."""
    now = datetime.now(UTC)  # the served node runs on the real clock
    fed = Federation.create(now)
    fed.resign(fed.trust.with_policies(max_envelope_bytes=16_384))
    directory = write_node(tmp_path / "hub", fed)
    config = load_config(directory / CONFIG_FILE)
    looser = replace(config, limits=Limits(max_envelope_bytes=1 << 20))
    (directory / CONFIG_FILE).write_text(render_config(looser), encoding="utf-8")
    served = ServeProcess(directory, "--listen", "127.0.0.1:0", "--console", "off")
    try:
        small = fed.envelope(fed.message("sc.amr", "sc.hub", payload=b'{"x":"' + b"a" * 1000 + b'"}'))
        big = fed.envelope(fed.message("sc.amr", "sc.hub", payload=b'{"x":"' + b"a" * 20_000 + b'"}'))
        credentials = client_credentials(directory, "sc.amr")
        with grpc.secure_channel(f"127.0.0.1:{served.port}", credentials) as channel:
            call = channel.unary_unary(
                "/jgx.exchange.v1.Exchange/Submit",
                response_deserializer=exchange_pb2.SubmitResponse.FromString,
            )
            receipt = verify_receipt(call(small).receipt, fed.trust, issuer="sc.hub", now=now)
            with pytest.raises(grpc.RpcError) as raised:
                call(big)
    finally:
        served.terminate()
    info = error_info(raised.value)  # type: ignore[arg-type]
    assert receipt.envelope_sha256 == hashlib.sha256(small).digest()
    assert "TOO_LARGE" == (info.reason if info is not None else "no ErrorInfo")
    warning = "max_envelope_bytes=1048576 in jgx.toml is looser"
    assert any(warning in line for line in served.banner), served.banner
