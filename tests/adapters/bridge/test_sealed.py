"""A bridge mapping that seals personal fields for its recipient (``[bridge] seal``, wire.md §12): the dry run
and a real pass judge each row as the hub's step 8 judges the sealed record, on a real SQLite front table."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from adapters.bridge import FrontDatabase, MappingError, parse_mapping
from adapters.bridge.check import dry_run
from adapters.bridge.mapping import BridgeMapping
from gateway.keys import Algorithm
from gateway.testing import Federation
from gateway.validation import standards_validator
from tests.adapters.bridge.front import (
    FrontDb,
    RunningHub,
    inspection,
    make_bridge,
    mapping_text,
    running_hub,
)

T0 = datetime(2026, 11, 27, 9, 0, 0)
GOOD_ID = "510104199001011230"
BAD_CHECKSUM = "510104199001011235"  # the hub cannot read a sealed number, so it cannot judge its checksum


@pytest.fixture(scope="module")
def sm2() -> Federation:
    return Federation.create(datetime.now(UTC), algorithm=Algorithm.SM2_SM3)


def _mapping(tmp_path: Path, *, seal: str | None, id_type: str = "111") -> BridgeMapping:
    """The guide's mapping on a SQLite file, counterparts as natural persons (证件类型 `id_type`)."""
    text = mapping_text(f"sqlite:///{tmp_path / 'front.db'}", tmp_path / "state.sqlite")
    text = text.replace('{ value = "001" }', f'{{ value = "{id_type}" }}')
    if seal is not None:
        text = re.sub(r"(?m)^\[database\]", f"seal = {seal}\n\n[database]", text, count=1)
    return parse_mapping(text)


def _rows(db: FrontDb) -> None:
    db.insert([
        inspection(1, T0, xdrxz="自然人", zjhm=GOOD_ID),
        inspection(2, T0, xdrxz="自然人", zjhm=BAD_CHECKSUM),
        inspection(3, T0, xdrxz="自然人", zjhm=GOOD_ID, jcxs="飞行检查"),  # a clear field the hub reads
    ])  # fmt: skip


def _check(mapping: BridgeMapping, fed: Federation) -> dict[str, list[str]]:
    database = FrontDatabase(mapping)
    try:
        report = dry_run(
            mapping, database, on=date(2026, 11, 27), destination="internal", limit=100, trust=fed.trust
        )
    finally:
        database.close()
    return {cd_id: [m.split()[0] for m in messages] for cd_id, _, messages in report.examples}


def test_check_judges_a_sealed_mapping_on_its_clear_fields(tmp_path: Path, sm2: Federation) -> None:
    """With the identity number sealed, `check` reports the untranslated code of a clear field and no longer
    the number's checksum (the hub cannot read it either); unsealed, the checksum is refused as before."""
    db = FrontDb(f"sqlite:///{tmp_path / 'front.db'}")
    _rows(db)
    db.close()
    sealed = _check(_mapping(tmp_path, seal='["/counterpartIdCode"]'), sm2)
    clear = _check(_mapping(tmp_path, seal=None), sm2)
    assert {"JC000003": ["BRIDGE.M001"]} == sealed
    assert {"JC000002", "JC000003"} == set(clear)
    assert any(rule.startswith("SC-16.") for rule in clear["JC000002"])


def test_check_refuses_sealing_a_field_that_is_not_personal(tmp_path: Path, sm2: Federation) -> None:
    """A USCC (证件类型 001) is not personal information: sealing it is MALFORMED, as at the hub."""
    db = FrontDb(f"sqlite:///{tmp_path / 'front.db'}")
    db.insert([inspection(1, T0)])
    db.close()
    mapping = _mapping(tmp_path, seal='["/counterpartIdCode"]', id_type="001")
    assert {"JC000001": ["MALFORMED"]} == _check(mapping, sm2)


def test_a_mapping_seal_must_be_a_list_of_pointers(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="seal"):
        _mapping(tmp_path, seal='"counterpartIdCode"')


def test_check_of_a_sealing_mapping_needs_the_trust_configuration(tmp_path: Path) -> None:
    """Without the recipient's SM2 key nothing can be sealed, so the dry run says so instead of guessing."""
    mapping = _mapping(tmp_path, seal='["/counterpartIdCode"]')
    FrontDb(f"sqlite:///{tmp_path / 'front.db'}").close()
    database = FrontDatabase(mapping)
    try:
        with pytest.raises(MappingError, match="trust"):
            dry_run(mapping, database, on=date(2026, 11, 27), destination="internal", limit=10)
    finally:
        database.close()


@pytest.fixture
async def sm2_hub(sm2: Federation, tmp_path: Path) -> AsyncIterator[RunningHub]:
    async with running_hub(sm2, tmp_path / "hub.sqlite", standards_validator) as running:
        yield running


async def test_a_pass_sends_the_number_sealed_and_the_hub_accepts_what_the_bridge_let_through(
    tmp_path: Path, sm2_hub: RunningHub
) -> None:
    """A real pass over mTLS: rows 1 and 2 go sealed and are accepted; the log holds no clear number;
    row 3 is refused locally for its clear field."""
    db = FrontDb(f"sqlite:///{tmp_path / 'front.db'}")
    _rows(db)
    url, hub = f"sqlite:///{tmp_path / 'front.db'}", f"localhost:{sm2_hub.port}"
    text = mapping_text(url, tmp_path / "state.sqlite", hub)
    text = text.replace('counterpartIdType = { value = "001" }', 'counterpartIdType = { value = "111" }')
    text = re.sub(r"(?m)^\[database\]", 'seal = ["/counterpartIdCode"]\n\n[database]', text, count=1)
    bridge = make_bridge(parse_mapping(text), sm2_hub)
    report = await bridge.run_once()
    await bridge.close()
    results = {r["cd_id"]: r["status"] for r in db.results()}
    db.close()
    assert {"JC000001": "accepted", "JC000002": "accepted", "JC000003": "refused_local"} == results
    assert 2 == report.total("accepted")
    leaves = await sm2_hub.leaves()
    assert 2 == len(leaves)
    for index in range(2):
        message = await sm2_hub.message(index)
        assert GOOD_ID.encode() not in message.payload
        assert BAD_CHECKSUM.encode() not in message.payload
