"""``jgx demo``: the whole federation on this machine, printing what it does at each step.

The scenario lives in `adapters.demo` (two gateways, three department adapters, the province's
national bridge to the national front database, the 川渝 link); it is imported only when the
command runs, so `gateway` never imports `adapters` at module level.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path

import click
import structlog

from gateway.cli.keys import ALGORITHM_CHOICES, algorithm_option


def _quiet_events(log_file: Path) -> None:
    """Send the nodes' structured events to a file in the demo directory instead of the terminal."""
    from gateway.cli._logging import encodable_values

    handle = log_file.open("a", encoding="utf-8")
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            encodable_values,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        logger_factory=structlog.PrintLoggerFactory(file=handle),
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        cache_logger_on_first_use=False,
    )


def _run(directory: Path, keep_running: bool, algorithm: str = "ed25519") -> int:
    from adapters.demo import run_demo

    directory.mkdir(parents=True, exist_ok=True)
    _quiet_events(directory / "events.jsonl")
    click.echo(
        "jgx 演示：两个网关（四川枢纽、重庆）、三个部门适配器与国家前置库桥，\n"
        "全部在本机回环地址上以 mTLS 运行；国家系统只是一个数据库（可达时用 PostgreSQL，否则 SQLite）\n"
        "jgx demo: two gateways (Sichuan hub, Chongqing), three department adapters and the national\n"
        "bridge, "
        "all on loopback over mTLS; the national system is only a database (PostgreSQL when reachable,\n"
        f"SQLite otherwise); node events go to {directory / 'events.jsonl'}"
    )
    return asyncio.run(run_demo(directory, keep_running=keep_running, algorithm=ALGORITHM_CHOICES[algorithm]))


@click.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the nodes' files here (default: a temporary directory, removed afterwards).",
)
@click.option("--keep-running", is_flag=True, help="Leave every node running until Ctrl-C.")
@algorithm_option("Every node's and the trust admin's key algorithm: sm2 runs the federation on 国密 SM2.")
def demo(directory: Path | None, keep_running: bool, algorithm: str) -> None:
    """Run the federation scenario on loopback and check every expectation (exit 0 when all held).

    \b
    A hub, a Chongqing node, the market-regulation, 12315 and spot-check adapters and the
    province's national bridge start with generated keys, a CA and one signed trust
    configuration. The national system is only a database (PostgreSQL at JGX_DEMO_POSTGRES or
    the test server when reachable, in a schema of its own; a SQLite file otherwise): a task row
    with a risk-warning clue is written there, the bridge dispatches it, market regulation
    claims, inspects and feeds back into the national up-tables; a clue goes to Chongqing
    (masked) and is fed back; 12315 complaints flow in; penalties and spot-check results go up
    in a cd_batch run, the national side acknowledges it and the reconciliation finds the row it
    refused; forged and replayed envelopes are rejected;
    Chongqing goes down and its delivery completes when it returns; an unclaimed task turns
    overdue. Then the summary per node, the log audits and the hub's signed checkpoint.

    \b
    Example:
      jgx demo
      jgx demo --dir demo-run --keep-running     # then: jgx log verify --dir demo-run/sc.hub
      jgx demo --algorithm sm2                   # the same federation on 国密 SM2-with-SM3
    """
    if directory is not None:
        raise SystemExit(_run(directory, keep_running, algorithm))
    with tempfile.TemporaryDirectory(prefix="jgx-demo-") as tmp:
        code = _run(Path(tmp), keep_running, algorithm)
    click.echo(
        "临时目录已删除；用 --dir 保留各节点的文件 / the temporary directory was removed; "
        "use --dir to keep the nodes' files"
    )
    raise SystemExit(code)
