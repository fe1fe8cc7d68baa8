"""A textbook SM2 signer with a caller-chosen nonce k: the deterministic-k hook for the known-answer tests.

It lives under tests/ on purpose: production signing draws k inside Tongsuo and has no way to take one,
so a fixed nonce can never reach a real signature. Affine arithmetic, slow and not constant-time: fit
only for reproducing the standard's worked examples (GB/T 32918.2 §6.1, steps A3–A7).
"""

from __future__ import annotations

from dataclasses import dataclass

Point = tuple[int, int] | None


@dataclass(frozen=True)
class Curve:
    """y² = x³ + ax + b over F_p with base point G of order n."""

    p: int
    a: int
    b: int
    gx: int
    gy: int
    n: int

    @classmethod
    def from_hex(cls, doc: dict[str, str]) -> Curve:
        return cls(*(int(doc[k], 16) for k in ("p", "a", "b", "gx", "gy", "n")))

    def add(self, P: Point, Q: Point) -> Point:
        if P is None:
            return Q
        if Q is None:
            return P
        (x1, y1), (x2, y2) = P, Q
        if x1 == x2 and (y1 + y2) % self.p == 0:
            return None
        if P == Q:
            lam = (3 * x1 * x1 + self.a) * pow(2 * y1, -1, self.p) % self.p
        else:
            lam = (y2 - y1) * pow(x2 - x1, -1, self.p) % self.p
        x3 = (lam * lam - x1 - x2) % self.p
        return x3, (lam * (x1 - x3) - y1) % self.p

    def multiply(self, k: int, P: Point = None) -> Point:
        result: Point = None
        addend: Point = P if P is not None else (self.gx, self.gy)
        while k:
            if k & 1:
                result = self.add(result, addend)
            addend = self.add(addend, addend)
            k >>= 1
        return result


def sign_with_nonce(curve: Curve, d: int, e: int, k: int) -> tuple[int, int]:
    """(r, s) for digest e under private key d with nonce k (A4–A6)."""
    point = curve.multiply(k)
    assert point is not None
    r = (e + point[0]) % curve.n
    s = pow(1 + d, -1, curve.n) * (k - r * d) % curve.n
    return r, s
