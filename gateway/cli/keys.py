"""``jgx keys``: create signing keys and print key ids."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from gateway.cli._common import public_key_from, write_bytes
from gateway.keys import Algorithm, generate_key

#: The --algorithm names the CLI accepts.
ALGORITHM_CHOICES = {
    "ed25519": Algorithm.ED25519,
    "p256": Algorithm.ECDSA_P256_SHA256,
    "sm2": Algorithm.SM2_SM3,
}


def algorithm_option(help_text: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The --algorithm option (ed25519 by default) as every command that makes keys offers it."""
    return click.option(
        "--algorithm",
        type=click.Choice(sorted(ALGORITHM_CHOICES)),
        default="ed25519",
        show_default=True,
        help=help_text,
    )


@click.group()
def keys() -> None:
    """Signing keys (密钥): generate key pairs, print key ids."""


@keys.command()
@algorithm_option("ed25519, p256 for ECDSA P-256/SHA-256, or sm2 for 国密 SM2-with-SM3 (GB/T 32918).")
@click.option(
    "--out",
    required=True,
    metavar="PREFIX",
    help="Writes PREFIX.key (PKCS#8 PEM, mode 0600) and PREFIX.pub (SPKI PEM).",
)
def generate(algorithm: str, out: str) -> None:
    """Generate a key pair and print its key id.

    \b
    Example:
      jgx keys generate --out keys/sc.amr
      jgx keys generate --algorithm p256 --out keys/sc.sjs
      jgx keys generate --algorithm sm2 --out keys/sc.12315
    The key id (SHA-256 of the DER SubjectPublicKeyInfo, hex) is what a trust configuration
    and every signature name the key by.
    """
    key = generate_key(ALGORITHM_CHOICES[algorithm])
    write_bytes(f"{out}.key", key.to_pem(), private=True)
    write_bytes(f"{out}.pub", key.public_key.to_pem())
    click.echo(f"{key.key_id}  {key.algorithm.value}  {out}.key {out}.pub")


@keys.command("id")
@click.argument("key_file", type=click.Path())
def key_id_command(key_file: str) -> None:
    """Print the key id and algorithm of a public (or private) key file.

    \b
    Example:
      jgx keys id keys/sc.amr.pub
    """
    key = public_key_from(key_file)
    click.echo(f"{key.key_id}  {key.algorithm.value}")


@keys.command("token")
@click.option(
    "--dir", "directory", required=True, type=click.Path(file_okay=False, path_type=Path),
    help="The node directory whose jgx.toml has [keys.pkcs11].",
)  # fmt: skip
@click.option("--out", metavar="FILE", help="Also write the token key's public key here (SPKI PEM).")
def token_command(directory: Path, out: str | None) -> None:
    """Print the key id and algorithm of the node's signing key on its PKCS#11 token.

    \b
    Example:
      JGX_TOKEN_PIN=… jgx keys token --dir nodes/hub --out keys/sc.hub-token.pub
      jgx trust add-node trust.json sc.hub … --key keys/sc.hub-token.pub
    Logs in to the token named by [keys.pkcs11] (PIN from pin_env or pin_file) and reads the public
    key; the private key never leaves the token.
    """
    from gateway.cli._node import load_node, token_key

    config = load_node(directory)
    key = token_key(config)
    assert config.token_key is not None  # token_key exits otherwise
    if out is not None:
        write_bytes(out, key.public_key.to_pem())
    click.echo(f"{key.key_id}  {key.algorithm.value}  {config.token_key.token}/{config.token_key.label}")
