"""The log's hash profiles: SM3 on both paths, the SM3 tree against independent vectors, no silent default."""

from __future__ import annotations

import ast
import base64
import json
from pathlib import Path

import pytest

from gateway import merkle, treehash
from gateway.errors import ReasonCode
from tests.vectors import generate_merkle_sm3

ROOT = Path(__file__).parents[2]
SM3_VECTORS = json.loads((ROOT / "tests" / "vectors" / "sm2-sm3.json").read_text("utf-8"))["sm3"]
TREE = json.loads(generate_merkle_sm3.OUT.read_text("utf-8"))
LEAVES = [bytes.fromhex(h) for h in TREE["leaves_hex"]]


@pytest.mark.parametrize("case", SM3_VECTORS, ids=lambda c: c["name"])
def test_the_sm3_profile_reproduces_gbt_32905(case: dict[str, str]) -> None:
    """The profile's hash is GB/T 32905's SM3 (each SM3 source is held to the same in test_sm2)."""
    assert treehash.SM3.digest(bytes.fromhex(case["message_hex"])).hex() == case["digest"]


def test_the_sm3_tree_vectors_are_current() -> None:
    """The stored vectors equal what the independent recursive RFC 6962 definition computes now."""
    assert generate_merkle_sm3.build() == TREE


def _tree(n: int, hasher: treehash.TreeHash) -> merkle.MemoryNodes:
    nodes = merkle.MemoryNodes(hasher)
    nodes.extend([hasher.leaf(leaf) for leaf in LEAVES[:n]])
    return nodes


def test_the_sm3_profile_reproduces_leaf_hashes_and_roots() -> None:
    """Leaf hashes and the roots of sizes 0..8 from the product code equal the vectors."""
    assert [treehash.SM3.leaf(leaf).hex() for leaf in LEAVES] == TREE["leaf_hashes"]
    assert [_tree(n, treehash.SM3).root().hex() for n in range(len(LEAVES) + 1)] == TREE["roots"]
    assert treehash.SM3.empty_root.hex() == TREE["roots"][0]
    assert TREE["roots"][0] == "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"


@pytest.mark.parametrize("case", TREE["inclusion"], ids=lambda c: f"{c['leaf_index']}-{c['tree_size']}")
def test_sm3_inclusion_proofs(case: dict[str, object]) -> None:
    """The SM3 tree's inclusion proofs equal the vectors and verify under SM3 only."""
    index, size = int(str(case["leaf_index"])), int(str(case["tree_size"]))
    proof = merkle.inclusion_proof(index, size, _tree(size, treehash.SM3), hasher=treehash.SM3)
    assert [h.hex() for h in proof] == case["proof"]
    leaf, root = bytes.fromhex(str(case["leaf_hash"])), bytes.fromhex(str(case["root"]))
    merkle.verify_inclusion(leaf, index, size, proof, root, hasher=treehash.SM3)
    if size > 1:
        with pytest.raises(merkle.ProofError) as refused:
            merkle.verify_inclusion(leaf, index, size, proof, root, hasher=treehash.SHA256)
        assert refused.value.kind == "root_mismatch"


@pytest.mark.parametrize("case", TREE["consistency"], ids=lambda c: f"{c['size1']}-{c['size2']}")
def test_sm3_consistency_proofs(case: dict[str, object]) -> None:
    """The SM3 tree's consistency proofs equal the vectors and verify under SM3 only."""
    size1, size2 = int(str(case["size1"])), int(str(case["size2"]))
    proof = merkle.consistency_proof(size1, size2, _tree(size2, treehash.SM3), hasher=treehash.SM3)
    assert [h.hex() for h in proof] == case["proof"]
    root1, root2 = bytes.fromhex(str(case["root1"])), bytes.fromhex(str(case["root2"]))
    merkle.verify_consistency(size1, size2, proof, root1, root2, hasher=treehash.SM3)
    if size1 != size2:
        with pytest.raises(merkle.ProofError) as refused:
            merkle.verify_consistency(size1, size2, proof, root1, root2, hasher=treehash.SHA256)
        assert refused.value.kind == "root_mismatch"


def test_the_sha256_profile_is_rfc_6962() -> None:
    """The default profile is the module's RFC 6962 functions exactly."""
    assert treehash.SHA256.leaf(b"x") == merkle.leaf_hash(b"x")
    assert treehash.SHA256.node(b"a" * 32, b"b" * 32) == merkle.node_hash(b"a" * 32, b"b" * 32)
    assert treehash.SHA256.empty_root == merkle.EMPTY_ROOT


def test_an_unknown_profile_name_is_a_typed_error() -> None:
    """A profile name jgx does not know is MALFORMED, named in both languages."""
    assert treehash.profile("sm3") is treehash.SM3
    with pytest.raises(treehash.UnknownProfileError) as refused:
        treehash.profile("md5")
    assert refused.value.reason is ReasonCode.MALFORMED
    assert "未知的日志哈希方案" in str(refused.value)
    assert "md5" in str(refused.value)


_TREE_CALLS = {"root", "inclusion_proof", "consistency_proof", "verify_inclusion", "verify_consistency",
               "root_from_inclusion_proof", "root_from_consistency_proof", "nodes_to_store_on_append",
               "nodes_to_store_on_extend", "MemoryNodes"}  # fmt: skip
_SHA256_ONLY = {"leaf_hash", "node_hash", "EMPTY_ROOT"}


def test_product_code_never_falls_back_to_the_default_profile() -> None:
    """Outside merkle.py, every tree call names its profile and nothing uses the sha256-only helpers."""
    offenders = []
    for folder in ("gateway", "adapters", "conformance"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.name == "merkle.py" or "pb" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
                attribute = isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                if attribute and node.value.id == "merkle" and node.attr in _SHA256_ONLY:  # type: ignore[attr-defined]
                    offenders.append(f"{where} merkle.{node.attr}")
                if isinstance(node, ast.ImportFrom) and node.module == "gateway.merkle":
                    offenders += [f"{where} import {a.name}" for a in node.names if a.name in _SHA256_ONLY]
                if isinstance(node, ast.Call):
                    func = node.func
                    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                    owner = func.value if isinstance(func, ast.Attribute) else None
                    is_merkle = isinstance(owner, ast.Name) and owner.id == "merkle"
                    if is_merkle and name in _TREE_CALLS:
                        named = any(k.arg == "hasher" for k in node.keywords)
                        positional = name == "MemoryNodes" and bool(node.args)
                        if not (named or positional):
                            offenders.append(f"{where} merkle.{name} without hasher=")
    assert offenders == []


def test_the_wire_spec_worked_sm3_checkpoint_is_exact() -> None:
    """docs/wire.md §9.1's signed note is what jgx signs for the vectors' 8-leaf SM3 tree, verifies as
    sm3 only, and a sha256 verifier (or a verifier key of the sha256 origin) refuses it."""
    from gateway.checkpoint import Checkpoint, CheckpointError, NoteVerifier, sign_checkpoint
    from gateway.keys import Ed25519PublicKey
    from gateway.logbook import log_origin, verify_log_checkpoint

    wire = (ROOT / "docs" / "wire.md").read_text("utf-8")
    section = wire.split("Worked example (`sm3`)", 1)[1]
    note = section.split("```\n", 2)[1]
    signed = json.loads((ROOT / "tests" / "vectors" / "checkpoint" / "signed.json").read_text("utf-8"))
    seed = bytes.fromhex(signed["ed25519_seed"])
    origin = log_origin("sc.hub", treehash.SM3)
    assert "jgx.exchange-log-sm3/sc.hub" == origin
    root = bytes.fromhex(TREE["roots"][8])
    assert sign_checkpoint(Checkpoint(origin, 8, root), origin, seed) == note
    assert TREE["roots"][8] in section
    assert TREE["leaf_hashes"][1] in section
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    public = Ed25519PublicKey(Ed25519PrivateKey.from_private_bytes(seed).public_key())
    sm3_key = NoteVerifier.from_public_key(origin, public)
    assert 8 == verify_log_checkpoint(note, "sc.hub", treehash.SM3, [sm3_key]).size
    with pytest.raises(CheckpointError) as refused:
        verify_log_checkpoint(note, "sc.hub", treehash.SHA256, [sm3_key])
    assert "hash_profile_mismatch" == refused.value.kind
    from gateway.checkpoint import open_note

    with pytest.raises(CheckpointError) as unknown:  # a profile-unaware client with the sha256 key name
        open_note(note, [NoteVerifier.from_public_key(log_origin("sc.hub", treehash.SHA256), public)])
    assert ReasonCode.KEY_UNKNOWN is unknown.value.reason
    empty = base64.b64encode(treehash.SM3.empty_root).decode()
    assert f"`SM3(\"\")` = `{empty}`" in wire
