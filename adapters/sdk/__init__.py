"""Adapter SDK: a department writes the mapping (`Department`); the SDK verifies, deduplicates,
receipts, signs and submits."""

from adapters.sdk.client import DrainReport, HubClient, LocallyRefused, RetryPolicy, Submitted
from adapters.sdk.department import (
    Department,
    Handling,
    ImportResult,
    Record,
    RowProblem,
    StandardClaim,
    WorkItem,
)
from adapters.sdk.messages import batch_id, record_message, seal_record
from adapters.sdk.serve import RunningAdapter, serve_adapter
from adapters.sdk.servicer import AdapterIdentity, AdapterServicer, peer_node, rpc_handler
from adapters.sdk.store import AdapterStore

__all__ = [
    "AdapterIdentity",
    "AdapterServicer",
    "AdapterStore",
    "Department",
    "DrainReport",
    "Handling",
    "HubClient",
    "ImportResult",
    "LocallyRefused",
    "Record",
    "RetryPolicy",
    "RowProblem",
    "RunningAdapter",
    "StandardClaim",
    "Submitted",
    "WorkItem",
    "batch_id",
    "peer_node",
    "record_message",
    "rpc_handler",
    "seal_record",
    "serve_adapter",
]
