"""Signatures per second for each algorithm a trust configuration can name, on one core; then the
same signatures made by a key on a PKCS#11 token (SoftHSM2, `gateway.hsm`) beside the software key.

    .venv/bin/python bench/bench_signatures.py [SECONDS]

Signs and verifies a 1 835-byte PAE (about the signed bytes of an SC-06 envelope) through
`gateway.keys`, the interface the hub uses, so SM2 includes computing Z_A and e = SM3(Z_A ‖ M) in Python
and the curve work in Tongsuo. CPU time (process_time), so other load on the machine shows less.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from gateway.keys import Algorithm, PrivateKey, generate_key

MESSAGE = b"DSSEv1 41 application/vnd.jgx.message.v1+protobuf 1780 " + bytes(1780)


def rate(operation: object, seconds: float) -> float:
    """Calls per CPU second of `operation()`, run for about `seconds`."""
    assert callable(operation)
    count, start = 0, time.process_time()
    while (elapsed := time.process_time() - start) < seconds:
        for _ in range(50):
            operation()
        count += 50
    return count / elapsed


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    print(f"| algorithm | sign/s | verify/s | signature bytes | message {len(MESSAGE)} B |")
    print("|---|---:|---:|---:|---|")
    for algorithm in Algorithm:
        key = generate_key(algorithm)
        signature = key.sign(MESSAGE)
        assert key.public_key.verify(signature, MESSAGE)
        signs = rate(lambda key=key: key.sign(MESSAGE), seconds)
        verifies = rate(lambda key=key, sig=signature: key.public_key.verify(sig, MESSAGE), seconds)
        print(f"| `{algorithm.value}` | {signs:,.0f} | {verifies:,.0f} | {len(signature)} | |")
    token(seconds)


def wall_rate(key: PrivateKey, seconds: float) -> float:
    """Signatures per wall-clock second (a token's work is not this process's CPU time)."""
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(20):
            key.sign(MESSAGE)
        count += 20
    return count / elapsed


def token(seconds: float) -> None:
    """Software key vs the same algorithm's key on a SoftHSM2 token, both through `PrivateKey.sign`."""
    if shutil.which("softhsm2-util") is None:
        print("\nSoftHSM2 is not installed (`make softhsm`): no token numbers.")
        return
    from gateway.hsm import open_token_key
    from gateway.keystore import TokenKeySettings

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the SoftHSM2 helpers of the tests
    from tests.gateway.softhsm import MODULE, USER_PIN, generate_on_token, init_token, write_softhsm_conf

    with tempfile.TemporaryDirectory() as directory:
        conf = write_softhsm_conf(Path(directory))
        os.environ["SOFTHSM2_CONF"] = str(conf)
        init_token("bench", conf)
        print("\n| algorithm | software sign/s (wall) | SoftHSM2 sign/s (wall) | token / software |")
        print("|---|---:|---:|---:|")
        for algorithm in (Algorithm.ED25519, Algorithm.ECDSA_P256_SHA256):
            generate_on_token(conf, "bench", algorithm.value, algorithm)
            settings = TokenKeySettings(MODULE, "bench", algorithm.value, pin_env="JGX_BENCH_PIN")
            key = open_token_key(settings, environ={"JGX_BENCH_PIN": USER_PIN})
            assert key.public_key.verify(key.sign(MESSAGE), MESSAGE)
            software, on_token = wall_rate(generate_key(algorithm), seconds), wall_rate(key, seconds)
            ratio = on_token / software
            print(f"| `{algorithm.value}` | {software:,.0f} | {on_token:,.0f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
