"""The exchange log's Merkle tree against RFC 6962 as written, the vector files, and mutated proofs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway import merkle
from gateway.errors import ReasonCode, VerificationError
from gateway.merkle import MemoryNodes, NodeKey, ProofError
from tests.vectors import generate_merkle as reference

VECTORS = Path(__file__).parent.parent / "vectors" / "merkle"

# Roots of the first 1..8 RFC 6962 test leaves, as published with certificate-transparency and
# transparency-dev/merkle: a known answer for the reference and for the implementation.
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

LEAVES = [i.to_bytes(4, "big") for i in range(300)]


class CountingReader:
    """A node reader that counts batched calls and keys read."""

    def __init__(self, inner: merkle.NodeReader) -> None:
        self.inner = inner
        self.calls = 0
        self.keys = 0

    def get_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        self.calls += 1
        self.keys += len(keys)
        return self.inner.get_nodes(keys)


def _tree(leaves: Sequence[bytes]) -> MemoryNodes:
    nodes = MemoryNodes()
    for leaf in leaves:
        nodes.append(merkle.leaf_hash(leaf))
    return nodes


@pytest.fixture(scope="module")
def tree() -> MemoryNodes:
    """A tree of 300 leaves; being append-only, it also answers for every smaller size."""
    return _tree(LEAVES)


@pytest.fixture(scope="module")
def big_tree() -> MemoryNodes:
    """A tree of 100 000 leaves."""
    nodes = MemoryNodes()
    nodes.extend([merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(100_000)])
    return nodes


def _load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return document


def _hashes(values: Sequence[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


class TestHashing:
    def test_empty_root(self) -> None:
        """The empty tree's root is SHA-256 of nothing."""
        assert hashlib.sha256(b"").digest() == merkle.EMPTY_ROOT
        assert merkle.EMPTY_ROOT == merkle.root(0, MemoryNodes())

    def test_domain_separation(self) -> None:
        """Leaves and nodes hash with different prefixes, so a node can never pass for a leaf."""
        left, right = merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")
        assert hashlib.sha256(b"\x00a").digest() == left
        assert hashlib.sha256(b"\x01" + left + right).digest() == merkle.node_hash(left, right)
        assert merkle.leaf_hash(left + right) != merkle.node_hash(left, right)

    def test_known_roots(self) -> None:
        """Both the reference and the store reproduce the published roots of the RFC 6962 test leaves."""
        leaves = reference.LEAVES[:8]
        nodes = _tree(leaves)
        assert CT_ROOTS == [reference.mth(leaves[:n]).hex() for n in range(1, 9)]
        assert CT_ROOTS == [merkle.root(n, nodes).hex() for n in range(1, 9)]


class TestAgainstReference:
    def test_roots_and_proofs_match_rfc_definitions(self, tree: MemoryNodes) -> None:
        """For every size up to 40, roots and all proofs equal MTH, PATH and PROOF of RFC 6962."""
        for n in range(41):
            data = LEAVES[:n]
            assert reference.mth(data) == merkle.root(n, tree)
            for m in range(n):
                assert reference.path(m, data) == merkle.inclusion_proof(m, n, tree)
                assert reference.proof(m + 1, data) == merkle.consistency_proof(m + 1, n, tree)

    def test_extend_stores_what_appends_store(self) -> None:
        """Appending leaves one by one or as a batch stores the same complete subtrees."""
        hashes = [merkle.leaf_hash(leaf) for leaf in LEAVES[:77]]
        one_by_one, batched = _tree(LEAVES[:77]), MemoryNodes()
        batched.extend(hashes[:30])
        batched.extend(hashes[30:])
        keys = [(level, index) for level in range(8) for index in range(80)]
        assert one_by_one.get_nodes(keys) == batched.get_nodes(keys)

    def test_append_creates_the_completed_subtrees(self) -> None:
        """Appending leaf 7 completes the subtrees (1, 3), (2, 1) and (3, 0) after the leaf itself."""
        nodes = _tree(LEAVES[:7])
        created = merkle.nodes_to_store_on_append(7, merkle.leaf_hash(LEAVES[7]), nodes)
        assert [(0, 7), (1, 3), (2, 1), (3, 0)] == [key for key, _ in created]
        assert reference.mth(LEAVES[:8]) == created[-1][1]


class TestVectors:
    @pytest.mark.parametrize("case", _load("inclusion.json")["cases"], ids=lambda c: c["name"])
    def test_inclusion(self, case: dict[str, Any]) -> None:
        """Each inclusion vector verifies, or fails with the guard it names."""
        args = (
            bytes.fromhex(case["leaf_hash"]),
            case["leaf_index"],
            case["tree_size"],
            _hashes(case["proof"]),
            bytes.fromhex(case["root"]),
        )
        if case["valid"]:
            merkle.verify_inclusion(*args)
        else:
            with pytest.raises(ProofError) as caught:
                merkle.verify_inclusion(*args)
            assert case["error"] == caught.value.kind

    @pytest.mark.parametrize("case", _load("consistency.json")["cases"], ids=lambda c: c["name"])
    def test_consistency(self, case: dict[str, Any]) -> None:
        """Each consistency vector verifies, or fails with the guard it names."""
        args = (
            case["size1"],
            case["size2"],
            _hashes(case["proof"]),
            bytes.fromhex(case["root1"]),
            bytes.fromhex(case["root2"]),
        )
        if case["valid"]:
            merkle.verify_consistency(*args)
        else:
            with pytest.raises(ProofError) as caught:
                merkle.verify_consistency(*args)
            assert case["error"] == caught.value.kind

    def test_happy_vectors_are_what_the_store_serves(self) -> None:
        """The store generates exactly the proofs of the valid vectors."""
        document = _load("inclusion.json")
        nodes = _tree([bytes.fromhex(h) for h in document["leaves"]])
        for case in document["cases"]:
            if case["valid"]:
                served = merkle.inclusion_proof(case["leaf_index"], case["tree_size"], nodes)
                assert case["proof"] == [h.hex() for h in served]
        for case in _load("consistency.json")["cases"]:
            if case["valid"] and case["size1"]:
                served = merkle.consistency_proof(case["size1"], case["size2"], nodes)
                assert case["proof"] == [h.hex() for h in served]

    def test_vector_files_are_current(self) -> None:
        """The committed vector files are exactly what the generator writes."""
        for name, document in reference.documents().items():
            assert reference.render(document) == (VECTORS / name).read_text(encoding="utf-8")


class TestReads:
    def test_proofs_read_logarithmically_many_nodes(self, big_tree: MemoryNodes) -> None:
        """On 100 000 leaves every proof and root is one batched read of at most 2·log2(n) nodes."""
        bound = 2 * (100_000).bit_length()
        for index in (0, 1, 4_095, 65_535, 65_536, 99_998, 99_999):
            reader = CountingReader(big_tree)
            path = merkle.inclusion_proof(index, 100_000, reader)
            assert (1, True) == (reader.calls, reader.keys <= bound)
            merkle.verify_inclusion(
                merkle.leaf_hash(index.to_bytes(4, "big")), index, 100_000, path, big_tree.root()
            )
        for size1 in (1, 3, 4_096, 65_537, 99_999):
            reader = CountingReader(big_tree)
            proof = merkle.consistency_proof(size1, 100_000, reader)
            assert (1, True) == (reader.calls, reader.keys <= bound)
            merkle.verify_consistency(size1, 100_000, proof, merkle.root(size1, big_tree), big_tree.root())
        reader = CountingReader(big_tree)
        merkle.root(100_000, reader)
        assert (1, (100_000).bit_count()) == (reader.calls, reader.keys)

    def test_append_reads_only_the_siblings_it_completes(self, big_tree: MemoryNodes) -> None:
        """Appending leaf 99 999 (binary …011111) reads the five left siblings it completes, in one call."""
        reader = CountingReader(big_tree)
        merkle.nodes_to_store_on_append(99_999, merkle.leaf_hash(b"x"), reader)
        assert (1, 5) == (reader.calls, reader.keys)


class TestRefusals:
    def test_requests_beyond_the_store_are_internal_errors(self, tree: MemoryNodes) -> None:
        """Asking for a size the store does not hold names the missing subtrees."""
        with pytest.raises(merkle.MissingNodeError) as caught:
            merkle.root(301, tree)
        assert (ReasonCode.INTERNAL, ((0, 300),)) == (caught.value.reason, caught.value.missing)

    @pytest.mark.parametrize(
        ("call", "kind"),
        [
            (lambda t: merkle.inclusion_proof(5, 5, t), "index_out_of_range"),
            (lambda t: merkle.inclusion_proof(-1, 5, t), "index_out_of_range"),
            (lambda t: merkle.consistency_proof(6, 5, t), "size_order"),
            (lambda t: merkle.consistency_proof(0, 5, t), "empty_tree"),
            (lambda t: merkle.root(-1, t), "bad_size"),
            (lambda t: merkle.nodes_to_store_on_append(300, b"short", t), "bad_hash_length"),
        ],
        ids=[
            "index-equals-size",
            "negative-index",
            "size1-above-size2",
            "from-empty",
            "negative-size",
            "short-leaf",
        ],
    )
    def test_bad_requests_are_proof_errors(self, tree: MemoryNodes, call: Any, kind: str) -> None:
        """A request no tree can answer is a MALFORMED ProofError naming its guard."""
        with pytest.raises(ProofError) as caught:
            call(tree)
        assert (kind, ReasonCode.MALFORMED) == (caught.value.kind, caught.value.reason)

    def test_equal_sizes_have_an_empty_proof(self, tree: MemoryNodes) -> None:
        """The consistency proof between a tree and itself is empty."""
        assert [] == merkle.consistency_proof(17, 17, tree)

    def test_proof_errors_are_verification_errors_with_bilingual_detail(self) -> None:
        """A failed proof surfaces as a VerificationError whose detail reads in Chinese and English."""
        with pytest.raises(VerificationError) as caught:
            merkle.verify_inclusion(merkle.leaf_hash(b"a"), 0, 1, [], merkle.leaf_hash(b"b"))
        assert "根哈希" in caught.value.detail
        assert "calculated root" in caught.value.detail


def _flip(value: bytes, bit: int) -> bytes:
    position = bit // 8 % len(value)
    return value[:position] + bytes([value[position] ^ (1 << bit % 8)]) + value[position + 1 :]


class TestProperties:
    @settings(max_examples=200, deadline=None)
    @given(data=st.data(), size=st.integers(min_value=1, max_value=300))
    def test_inclusion_proofs_verify_and_mutants_fail(
        self, tree: MemoryNodes, data: st.DataObject, size: int
    ) -> None:
        """Every inclusion proof verifies; a flipped bit, a dropped or added hash, or another index fails."""
        index = data.draw(st.integers(min_value=0, max_value=size - 1))
        leaf, root = merkle.leaf_hash(LEAVES[index]), merkle.root(size, tree)
        proof = merkle.inclusion_proof(index, size, tree)
        merkle.verify_inclusion(leaf, index, size, proof, root)
        mutants = [(leaf, index, [*proof, root]), (leaf, index, [root, *proof])]
        mutants.append((_flip(leaf, data.draw(st.integers(0, 255))), index, proof))
        if proof:
            at = data.draw(st.integers(0, len(proof) - 1))
            bit = data.draw(st.integers(0, 255))
            mutants += [
                (leaf, index, proof[:-1]),
                (leaf, index, [*proof[:at], _flip(proof[at], bit), *proof[at + 1 :]]),
            ]
            other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index))
            mutants.append((leaf, other, proof))
        for mutant_leaf, mutant_index, mutant_proof in mutants:
            with pytest.raises(ProofError):
                merkle.verify_inclusion(mutant_leaf, mutant_index, size, mutant_proof, root)

    @settings(max_examples=200, deadline=None)
    @given(data=st.data(), size2=st.integers(min_value=2, max_value=300))
    def test_consistency_proofs_verify_and_mutants_fail(
        self, tree: MemoryNodes, data: st.DataObject, size2: int
    ) -> None:
        """Every consistency proof verifies; a flipped bit, a dropped or added hash, or a swap fails."""
        size1 = data.draw(st.integers(min_value=1, max_value=size2 - 1))
        root1, root2 = merkle.root(size1, tree), merkle.root(size2, tree)
        proof = merkle.consistency_proof(size1, size2, tree)
        merkle.verify_consistency(size1, size2, proof, root1, root2)
        at, bit = data.draw(st.integers(0, len(proof) - 1)), data.draw(st.integers(0, 255))
        mutants = [
            (size1, size2, [*proof[:at], _flip(proof[at], bit), *proof[at + 1 :]], root1, root2),
            (size1, size2, proof[:-1], root1, root2),
            (size1, size2, [*proof, root2], root1, root2),
            (size1, size2, [root1, *proof], root1, root2),
            (size1, size2, proof, root2, root1),
            (size2, size1, proof, root1, root2),
            (size1, size2, proof, _flip(root1, bit), root2),
            (size1, size2, proof, root1, _flip(root2, bit)),
        ]
        for mutant in mutants:
            with pytest.raises(ProofError):
                merkle.verify_consistency(*mutant)
