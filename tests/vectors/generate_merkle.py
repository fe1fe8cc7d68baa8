"""Generate ``tests/vectors/merkle/{inclusion,consistency}.json`` from RFC 6962 §2.1 as written.

The reference here is deliberately naive and independent of ``gateway.merkle``: MTH, PATH and PROOF are
the recursive definitions of RFC 6962 §2.1, §2.1.1 and §2.1.2, transcribed one line per case. The
expected error of each failure case is derived from the same definitions (a proof of the wrong length is
``bad_length``, a hash flipped is ``root_mismatch``, …), so the vectors never consult the code they test.

Run ``python tests/vectors/generate_merkle.py`` to rewrite the files; a test fails when they are stale.

Each case: ``valid`` and, when invalid, ``error`` — the first guard that refuses it, in the order of
transparency-dev/merkle ``proof/verify.go``: index/size guards, hash lengths, proof length, roots.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "merkle"

# The eight leaves of the certificate-transparency / transparency-dev test trees, then more of our own.
CT_LEAVES = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]
LEAVES = [bytes.fromhex(h) for h in CT_LEAVES] + [f"jgx leaf {i}".encode() for i in range(8, 40)]


# -- RFC 6962 §2.1, verbatim in spirit ---------------------------------------------------------------


def _k(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def mth(d: list[bytes], h: Callable[[bytes], bytes] = _sha256) -> bytes:
    """MTH(D[n]) of RFC 6962 §2.1 (with hash ``h``: SHA-256 as published, SM3 for jgx's sm3 profile)."""
    if not d:
        return h(b"")
    if len(d) == 1:
        return h(b"\x00" + d[0])
    k = _k(len(d))
    return h(b"\x01" + mth(d[:k], h) + mth(d[k:], h))


def path(m: int, d: list[bytes], h: Callable[[bytes], bytes] = _sha256) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 §2.1.1."""
    if len(d) <= 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*path(m, d[:k], h), mth(d[k:], h)]
    return [*path(m - k, d[k:], h), mth(d[:k], h)]


def subproof(m: int, d: list[bytes], b: bool, h: Callable[[bytes], bytes] = _sha256) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 6962 §2.1.2."""
    n = len(d)
    if m == n:
        return [] if b else [mth(d, h)]
    k = _k(n)
    if m <= k:
        return [*subproof(m, d[:k], b, h), mth(d[k:], h)]
    return [*subproof(m - k, d[k:], False, h), mth(d[:k], h)]


def proof(m: int, d: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 6962 §2.1.2."""
    return subproof(m, d, True)


def _path_length(m: int, n: int) -> int:
    return len(path(m, [b""] * n))


def _proof_length(m: int, n: int) -> int:
    return len(proof(m, [bytes([i % 256]) for i in range(n)]))


# -- cases -------------------------------------------------------------------------------------------


def _flip(value: bytes, bit: int = 0) -> bytes:
    return bytes([value[0] ^ (1 << bit)]) + value[1:]


GARBAGE = hashlib.sha256(b"garbage").digest()


def _hex(values: list[bytes]) -> list[str]:
    return [v.hex() for v in values]


def _inclusion_case(
    name: str, index: int, size: int, leaf: bytes, root: bytes, hashes: list[bytes], error: str | None
) -> dict[str, Any]:
    return {
        "name": name,
        "leaf_index": index,
        "tree_size": size,
        "leaf_hash": leaf.hex(),
        "root": root.hex(),
        "proof": _hex(hashes),
        "valid": error is None,
        "error": error,
    }


def _wrong_index_error(index: int, size: int, length: int) -> str:
    if not 0 <= index < size:
        return "index_out_of_range"
    return "bad_length" if _path_length(index, size) != length else "root_mismatch"


def _replace(hashes: list[bytes], i: int, value: bytes) -> list[bytes]:
    return [*hashes[:i], value, *hashes[i + 1 :]]


def inclusion_cases() -> list[dict[str, Any]]:
    """Happy paths and named failures for selected (index, size) pairs."""
    pairs = [(m, n) for n in range(1, 9) for m in range(n)]
    pairs += [(m, n) for n in (13, 31, 40) for m in sorted({0, n // 2, n - 1})]
    case = _inclusion_case
    cases = [case("empty tree has no leaf 0", 0, 0, mth(LEAVES[:1]), mth([]), [], "index_out_of_range")]
    for m, n in pairs:
        d = LEAVES[:n]
        leaf, root, good = mth(d[m : m + 1]), mth(d), path(m, d)
        tag = f"{m}/{n}"
        cases.append(case(f"{tag} happy path", m, n, leaf, root, good, None))
        for i in sorted({0, len(good) - 1}) if good else []:
            flipped = _replace(good, i, _flip(good[i]))
            cases.append(case(f"{tag} proof[{i}] bit flipped", m, n, leaf, root, flipped, "root_mismatch"))
        if good:
            short = _replace(good, 0, good[0][:31])
            cases.append(case(f"{tag} proof[0] short hash", m, n, leaf, root, short, "bad_hash_length"))
            cases.append(case(f"{tag} truncated proof", m, n, leaf, root, good[:-1], "bad_length"))
        cases.append(case(f"{tag} leaf hash bit flipped", m, n, _flip(leaf, 7), root, good, "root_mismatch"))
        cases.append(case(f"{tag} root bit flipped", m, n, leaf, _flip(root, 3), good, "root_mismatch"))
        cases.append(case(f"{tag} preceding garbage", m, n, leaf, root, [GARBAGE, *good], "bad_length"))
        cases.append(case(f"{tag} trailing garbage", m, n, leaf, root, [*good, GARBAGE], "bad_length"))
        for wrong in sorted({m + 1, m - 1, n} - {-1}):
            error = _wrong_index_error(wrong, n, len(good))
            cases.append(case(f"{tag} wrong index {wrong}", wrong, n, leaf, root, good, error))
        for wrong in sorted({n + 1, n - 1, n * 2}):
            if wrong > m and wrong != n and _path_length(m, wrong) != len(good):
                cases.append(case(f"{tag} wrong size {wrong}", m, wrong, leaf, root, good, "bad_length"))
    return cases


def _consistency_case(
    name: str, size1: int, size2: int, root1: bytes, root2: bytes, hashes: list[bytes], error: str | None
) -> dict[str, Any]:
    return {
        "name": name,
        "size1": size1,
        "size2": size2,
        "root1": root1.hex(),
        "root2": root2.hex(),
        "proof": _hex(hashes),
        "valid": error is None,
        "error": error,
    }


def _wrong_sizes_error(size1: int, size2: int, length: int) -> str | None:
    """The error a proof of ``length`` hashes must raise for these sizes, when the shape alone decides."""
    if size1 > size2:
        return "size_order"
    if size1 == size2:
        return "non_empty_proof" if length else None
    if size1 == 0:
        return "empty_tree"
    return "bad_length" if _proof_length(size1, size2) != length else None


def consistency_cases() -> list[dict[str, Any]]:
    """Happy paths and named failures for selected (size1, size2) pairs."""
    pairs = [(m, n) for n in range(1, 9) for m in range(1, n + 1)]
    pairs += [(1, 40), (8, 13), (13, 31), (17, 40), (39, 40)]
    case = _consistency_case
    empty = mth([])
    cases = [
        case("0/0 empty trees", 0, 0, empty, empty, [], None),
        case("0/0 empty trees, wrong second root", 0, 0, empty, mth(LEAVES[:1]), [], "root_mismatch"),
    ]
    for m, n in pairs:
        d = LEAVES[:n]
        r1, r2, good = mth(d[:m]), mth(d), proof(m, d)
        tag = f"{m}/{n}"
        cases.append(case(f"{tag} happy path", m, n, r1, r2, good, None))
        if m == 1:
            cases.append(case(f"{tag} from the empty tree", 0, n, empty, r2, good, "empty_tree"))
        if m == n:
            cases.append(
                case(f"{tag} equal sizes, non-empty proof", m, n, r1, r2, [GARBAGE], "non_empty_proof")
            )
            cases.append(
                case(f"{tag} equal sizes, different roots", m, n, r1, _flip(r2), [], "root_mismatch")
            )
            continue
        for i in sorted({0, len(good) - 1}):
            flipped = _replace(good, i, _flip(good[i]))
            cases.append(case(f"{tag} proof[{i}] bit flipped", m, n, r1, r2, flipped, "root_mismatch"))
        short = _replace(good, 0, good[0][:31])
        cases.append(case(f"{tag} proof[0] short hash", m, n, r1, r2, short, "bad_hash_length"))
        cases.append(case(f"{tag} first root bit flipped", m, n, _flip(r1), r2, good, "root_mismatch"))
        cases.append(case(f"{tag} second root bit flipped", m, n, r1, _flip(r2), good, "root_mismatch"))
        cases.append(case(f"{tag} swapped roots", m, n, r2, r1, good, "root_mismatch"))
        cases.append(case(f"{tag} swapped sizes", n, m, r1, r2, good, "size_order"))
        cases.append(case(f"{tag} empty proof", m, n, r1, r2, [], "bad_length"))
        cases.append(case(f"{tag} preceding garbage", m, n, r1, r2, [GARBAGE, *good], "bad_length"))
        cases.append(case(f"{tag} trailing garbage", m, n, r1, r2, [*good, GARBAGE], "bad_length"))
        if len(good) > 1:
            cases.append(case(f"{tag} truncated proof", m, n, r1, r2, good[:-1], "bad_length"))
        for w1, w2 in ((m - 1, n), (m + 1, n), (m, n + 1), (m, n - 1)):
            error = _wrong_sizes_error(w1, w2, len(good))
            if error is not None and (w1, w2) != (0, 0):
                cases.append(case(f"{tag} wrong sizes {w1}/{w2}", w1, w2, r1, r2, good, error))
    return cases


def documents() -> dict[str, dict[str, Any]]:
    """The vector files, by file name."""
    common = {
        "hash": "SHA-256; leaf = H(0x00 || data), node = H(0x01 || left || right), empty root = H()",
        "leaves": _hex(LEAVES),
        "generator": "tests/vectors/generate_merkle.py (RFC 6962 §2.1 recursive reference)",
    }
    return {
        "inclusion.json": {
            "description": (
                "RFC 6962 §2.1.1 audit paths over the first tree_size leaves; verify per RFC 9162 §2.1.3.2"
            ),
            **common,
            "cases": inclusion_cases(),
        },
        "consistency.json": {
            "description": (
                "RFC 6962 §2.1.2 consistency proofs between prefixes of leaves; verify per RFC 9162 §2.1.4.2"
            ),
            **common,
            "cases": consistency_cases(),
        },
    }


def render(document: dict[str, Any]) -> str:
    """The exact file text of a vector document: header fields, then one case a line."""
    head = {key: value for key, value in document.items() if key != "cases"}
    lines = [json.dumps(head, ensure_ascii=False, indent=1)[:-2] + ",", ' "cases": [']
    lines += [" " + json.dumps(c, ensure_ascii=False) + "," for c in document["cases"]]
    lines[-1] = lines[-1].removesuffix(",")
    return "\n".join([*lines, " ]", "}"]) + "\n"


def main() -> None:
    """Rewrite the vector files."""
    OUT.mkdir(parents=True, exist_ok=True)
    for name, document in documents().items():
        (OUT / name).write_text(render(document), encoding="utf-8")
        print(f"wrote {OUT / name}: {len(document['cases'])} cases")


if __name__ == "__main__":
    main()
