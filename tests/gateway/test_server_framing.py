"""SubmitResponse framing: the stored receipt bytes are sent as they are, framed as field 1."""

from __future__ import annotations

import pytest

from gateway.pb.jgx.exchange.v1 import exchange_pb2
from gateway.server import _response


@pytest.mark.parametrize("body_size", [0, 1, 100, 127, 128, 300, 16_383, 16_384, 70_000])
def test_framed_receipts_equal_the_serialized_response(body_size: int) -> None:
    """For every varint length class the framing equals SubmitResponse's own serialization."""
    receipt = exchange_pb2.Envelope(body=b"r" * body_size, payload_type="t").SerializeToString()
    expected = exchange_pb2.SubmitResponse(receipt=exchange_pb2.Envelope.FromString(receipt))
    assert expected.SerializeToString() == _response(receipt)
