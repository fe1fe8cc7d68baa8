"""A log checked against checkpoints published before a restore: extends them, lacks leaves, or forks."""

from __future__ import annotations

from gateway.keys import Algorithm, generate_key
from gateway.logbook import LogSigner, log_origin, log_verifier
from gateway.published import check_published
from gateway.storage import Store
from gateway.treehash import SHA256
from tests.gateway.storage.conftest import entry

KEY = generate_key(Algorithm.ED25519)
SIGNER = LogSigner.for_key("sc.hub", KEY, SHA256)
VERIFIERS = [log_verifier("sc.hub", KEY.public_key)]
ORIGIN = log_origin("sc.hub")


async def test_a_log_that_extends_every_published_checkpoint_has_no_problem(store: Store) -> None:
    """Checkpoints at sizes 3 and 7 of the same log verify against the log grown to 9 leaves."""
    await store.append([entry(n) for n in range(7)])
    notes = [(f"cp-{size}", SIGNER.sign(size, await store.root(size))) for size in (3, 7)]
    await store.append([entry(7), entry(8)])
    assert [] == await check_published(store, notes, ORIGIN, VERIFIERS)


async def test_missing_leaves_another_root_and_a_bad_signature_are_each_reported(store: Store) -> None:
    """A checkpoint beyond the log, one with another root, and one signed by another key: three problems."""
    await store.append([entry(n) for n in range(5)])
    other = LogSigner.for_key("sc.hub", generate_key(Algorithm.ED25519), SHA256)
    notes = [
        ("beyond", SIGNER.sign(8, b"\x01" * 32)),
        ("fork", SIGNER.sign(4, b"\x02" * 32)),
        ("stranger", other.sign(5, await store.root(5))),
    ]
    problems = await check_published(store, notes, ORIGIN, VERIFIERS)
    assert ["beyond", "fork", "stranger"] == [p.split(":", 1)[0] for p in problems]
    assert "leaves 5–7 are missing" in problems[0]
