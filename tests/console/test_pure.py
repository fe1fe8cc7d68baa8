"""The console's pure parts: password hashes, roles, search parameters, SVG charts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.console import charts
from gateway.console.auth import Principal, Role, check_password, hash_password, token_digest
from gateway.console.records import QueryError, encode_cursor, parse_query
from gateway.storage import Cursor

AUDITOR = Principal("li", Role.AUDITOR)


def test_a_password_matches_only_its_own_hash() -> None:
    """The right password verifies; another password and another salt's hash do not."""
    stored = hash_password("correct horse battery")
    assert (True, False) == (check_password("correct horse battery", stored), check_password("wrong", stored))
    assert hash_password("same") != hash_password("same")  # a fresh salt each time


@pytest.mark.parametrize(
    "stored",
    ["", "plain", "scrypt$1$2$3", "bcrypt$16384$8$1$AAAA$AAAA", "scrypt$x$8$1$AAAA$AAAA",
     "scrypt$16384$8$1$!!!!$AAAA", "scrypt$4194304$8$1$AAAA$AAAA"],
)  # fmt: skip
def test_malformed_or_extravagant_hashes_never_match(stored: str) -> None:
    """A malformed hash string, or one asking for absurd scrypt memory, is a mismatch, not an error."""
    assert False is check_password("anything", stored)


def test_roles_decide_visibility_replay_and_masking() -> None:
    """Each role's rights, as a table: sees a foreign row, replays, reads audit, sees personal data."""
    rows = {
        role: (p.may_see("sc.sjs", "sc.hub"), p.may_replay, p.may_audit, p.sees_personal_data("sc.amr", "x"))
        for role, p in {
            "operator": Principal("o", Role.OPERATOR),
            "auditor": Principal("a", Role.AUDITOR),
            "department": Principal("d", Role.DEPARTMENT, "sc.amr"),
        }.items()
    }
    expected = {
        "operator": (True, True, True, False),
        "auditor": (True, False, True, True),
        "department": (False, False, False, True),
    }
    assert expected == rows


def test_session_tokens_are_stored_as_digests() -> None:
    """A token's stored form is its SHA-256, 32 bytes, not the token."""
    assert 32 == len(token_digest("token"))


def test_local_times_are_china_time_and_offsets_are_kept() -> None:
    """A browser's local time is read as UTC+8; an explicit offset or Z is honoured."""
    local = parse_query({"since": "2026-11-20T08:00"}, AUDITOR)
    zulu = parse_query({"since": "2026-11-20T00:00:00Z"}, AUDITOR)
    expected = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
    assert (expected, expected) == (local.since, zulu.since)


def test_cursor_round_trips_and_department_is_confined() -> None:
    """The after parameter decodes to the cursor it encodes; a department's query carries its node."""
    cursor = Cursor(datetime(2026, 11, 20, 1, 2, 3, 456789, tzinfo=UTC), 42)
    query = parse_query({"after": encode_cursor(cursor)}, Principal("d", Role.DEPARTMENT, "sc.sjs"))
    assert (cursor, "sc.sjs") == (query.after, query.party)


@pytest.mark.parametrize(
    ("params", "field"),
    [({"outcome": "ok"}, "outcome"), ({"limit": "501"}, "limit"), ({"limit": "-1"}, "limit"),
     ({"until": "2026-13-01"}, "until"), ({"after": "1.x"}, "after")],
)  # fmt: skip
def test_bad_parameters_name_their_field(params: dict[str, str], field: str) -> None:
    """Each malformed parameter raises QueryError naming it."""
    with pytest.raises(QueryError) as caught:
        parse_query(params, AUDITOR)
    assert field == caught.value.field


def test_chart_labels_are_escaped() -> None:
    """Keys and titles that contain markup appear escaped inside the SVG."""
    svg = charts.bars_by_key({"<script>x</script>": {"accepted": 2}}, title="<b>")
    assert ("<script>" in svg, "&lt;script&gt;" in svg, "<title>&lt;b&gt;</title>" in svg) == (
        False,
        True,
        True,
    )


def test_throughput_chart_draws_a_column_per_nonzero_outcome() -> None:
    """Two hours with accepted and rejected counts give three bar segments."""
    series = [{"hour": "2026-11-20T00:00:00Z", "accepted": 3, "rejected": 1},
              {"hour": "2026-11-20T01:00:00Z", "accepted": 2}]  # fmt: skip
    assert 3 == charts.throughput_chart(series, title="t").count('<rect class="bar"')
