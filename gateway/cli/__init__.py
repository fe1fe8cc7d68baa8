"""The ``jgx`` command line: one entry point with a sub-command for everything a user does.

Sub-commands are loaded lazily from ``_SUBCOMMANDS`` so that ``jgx --help`` and quick verbs do not pay
for importing gRPC, aiohttp or the standards catalogue. Exit codes: 0 success, 1 a verdict against the
input (invalid envelope, error findings), 2 usage or I/O errors.
"""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute" of a click command or group.
_SUBCOMMANDS: dict[str, str] = {
    "keys": "gateway.cli.keys:keys",
    "trust": "gateway.cli.trust:trust",
    "envelope": "gateway.cli.envelope:envelope",
    "demo": "gateway.cli.demo:demo",
    "init": "gateway.cli.init:init",
    "pki": "gateway.cli.pki:pki",
    "db": "gateway.cli.db:db",
    "serve": "gateway.cli.serve:serve",
    "log": "gateway.cli.log_search:log",  # jgx log verify|export|proof|checkpoint + search|show|tail
    "trace": "gateway.cli.log:trace",
    "conformance": "conformance.cli:conformance",
    "standards": "standards.cli:standards",
    "validate": "standards.cli:validate",
    "deliveries": "gateway.cli.deliveries:deliveries",
    "adapter": "adapters.cli:adapter",
    "lifecycle": "adapters.cli:lifecycle",
    "bridge": "adapters.bridge.cli:bridge",
    "users": "gateway.cli.users:users",
    "console": "gateway.cli.console:console",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_SUBCOMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _SUBCOMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="jgx")
def main() -> None:
    """jgx 监管交换 — signed, schema-validated exchange gateway of Sichuan's 互联网+监管 platform.

    \b
    Start here:
      jgx keys generate --out keys/amr          # a key pair; prints its key id
      jgx trust --help                          # build and sign a trust configuration
      jgx envelope sign --help                  # sign a record into an envelope
      jgx demo                                  # the whole flow on this machine
    """
