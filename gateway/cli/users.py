"""``jgx users``: console accounts (operator, auditor, department) with scrypt-hashed passwords."""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from gateway.cli._common import EXIT_VERDICT, io_error, io_failure, read_bytes
from gateway.cli._node import load_node, node_trust
from gateway.cli._store import database, db_options, with_store
from gateway.config import CONFIG_FILE
from gateway.console.auth import MIN_PASSWORD_LENGTH, Role, hash_password
from gateway.errors import JgxError
from gateway.storage import StorageError, User
from gateway.trust_update import load_trust

_ACTOR = f"cli:{getpass.getuser()}"


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("密码 / password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD_LENGTH:
        io_error(
            f"密码至少 {MIN_PASSWORD_LENGTH} 个字符",
            f"the password needs at least {MIN_PASSWORD_LENGTH} characters",
        )
    return password


def _refused(exc: StorageError) -> None:
    io_failure("拒绝", "refused", exc, code=EXIT_VERDICT)


def _check_node(node: str, trust_file: Path | None, directory: Path) -> None:
    """Exit 2 unless ``node`` is a node of the trust configuration (--trust, or --dir's jgx.toml)."""
    now = datetime.now(UTC)
    if trust_file is not None:
        try:
            trust = load_trust(read_bytes(trust_file), now=now)
        except JgxError as exc:
            io_failure("信任配置被拒绝", "the trust configuration is refused", exc)
    elif (directory / CONFIG_FILE).is_file():
        trust = node_trust(load_node(directory), now)
    else:
        io_error(
            "检查 --node 需要信任配置：请给出 --dir 节点目录或 --trust 文件",
            "checking --node needs the trust configuration: give --dir NODE or --trust FILE",
        )
    if node not in trust.nodes:
        io_error(
            f"信任配置中没有节点 {node!r}",
            f"the trust configuration knows no node {node!r}; known: {', '.join(sorted(trust.nodes))}",
        )


@click.group()
def users() -> None:
    """Console accounts (控制台账户): add, change a password, remove, list.

    \b
    Roles: operator (运维: replays dead letters, payloads masked), auditor (审计: reads
    everything unmasked, changes nothing), department (部门: only its node's messages).
    Every change is written to the audit log.

    \b
    Examples:
      jgx users add li.wei --role operator --dir node/
      echo 'a long passphrase' | jgx users add amr.zhang --role department --node sc.amr --password-stdin
      jgx users list --dir node/
    """


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True, help="The account's role.")
@click.option(
    "--node", default="",
    help="The department's node id (required for --role department; must be in the trust configuration).",
)  # fmt: skip
@click.option(
    "--trust", "trust_file", type=click.Path(dir_okay=False, path_type=Path),
    help="The signed trust configuration to check --node against (default: the one of --dir's jgx.toml).",
)  # fmt: skip
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@db_options
def add(
    username: str, role: str, node: str, trust_file: Path | None, password_stdin: bool, db: Path | None,
    directory: Path,
) -> None:  # fmt: skip
    """Create an account; the password is asked for twice (or read from stdin).

    \b
    A department account's --node must be a node of the trust configuration: the one of
    --dir's jgx.toml, or --trust FILE (needed with --db outside a node directory).
    Example:
      jgx users add li.wei --role auditor --db node/jgx.db
      jgx users add amr.zhang --role department --node sc.amr --dir node/
    """
    if role == Role.DEPARTMENT and not node:
        io_error("部门账户需要 --node", "a department account needs --node")
    if role == Role.DEPARTMENT:
        _check_node(node, trust_file, directory)
    if not username or len(username) > 64 or not username.isprintable():
        io_error("用户名无效", "the username must be 1–64 printable characters")
    store = database(db, directory)
    password_hash = hash_password(_password(password_stdin))
    now = datetime.now(UTC)
    user = User(username, role, node if role == Role.DEPARTMENT else "", password_hash, now)
    try:
        with_store(store, lambda store: store.add_user(user, now=now, actor=_ACTOR))
    except StorageError as exc:
        _refused(exc)
    click.echo(f"已添加 / added {username} ({role}{' ' + node if node else ''})")


@users.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@db_options
def passwd(username: str, password_stdin: bool, db: Path | None, directory: Path) -> None:
    """Set a new password; the account's open sessions end.

    \b
    Example:
      jgx users passwd li.wei --dir node/
    """
    store = database(db, directory)
    password_hash = hash_password(_password(password_stdin))
    try:
        with_store(
            store, lambda s: s.set_password(username, password_hash, now=datetime.now(UTC), actor=_ACTOR)
        )
    except StorageError as exc:
        _refused(exc)
    click.echo(f"已更新密码 / password changed for {username}")


@users.command("remove")
@click.argument("username")
@db_options
def remove(username: str, db: Path | None, directory: Path) -> None:
    """Delete an account and end its sessions.

    \b
    Example:
      jgx users remove li.wei --dir node/
    """
    store = database(db, directory)
    try:
        with_store(store, lambda s: s.remove_user(username, now=datetime.now(UTC), actor=_ACTOR))
    except StorageError as exc:
        _refused(exc)
    click.echo(f"已删除 / removed {username}")


@users.command("list")
@db_options
def list_users(db: Path | None, directory: Path) -> None:
    """List accounts: username, role, node, created.

    \b
    Example:
      jgx users list --dir node/
    """
    for user in with_store(database(db, directory), lambda s: s.users()):
        click.echo(f"{user.username}\t{user.role}\t{user.node or '-'}\t{user.created_at:%Y-%m-%dT%H:%M:%SZ}")
