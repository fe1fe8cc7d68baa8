"""``jgx standards`` (list, show) and ``jgx validate``: the standards and the validator from the shell.

Exit codes of ``jgx validate``: 0 no error-severity finding, 1 at least one, 2 usage or I/O errors.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click

from standards.catalogue import catalogue
from standards.errors import StandardsError
from standards.model import Standard

__all__ = ["standards", "validate"]


def _split(spec: str) -> tuple[str, str | None]:
    standard, _, version = spec.partition("@")
    return standard.upper(), version or None


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD / 不是日期") from None


def _fail(exc: StandardsError) -> None:
    click.echo(exc.diagnostics(), err=True)
    sys.exit(2)


@click.group()
def standards() -> None:
    """The 20 local standards SC-01 … SC-20 (catalogue, clauses, fields, rules).

    \b
    Examples:
      jgx standards list
      jgx standards show SC-06            # newest version
      jgx standards show SC-06@1.0.0 --format json
    """


@standards.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def list_standards(fmt: str) -> None:
    """List every standard version: id, version, validity, status, kind and titles."""
    rows = list(catalogue())
    if fmt == "json":
        click.echo(
            json.dumps(
                [
                    {
                        "id": s.id,
                        "version": s.version,
                        "validFrom": s.valid_from.isoformat(),
                        "validTo": s.valid_to.isoformat() if s.valid_to else None,
                        "status": s.status,
                        "kind": s.kind,
                        "titleZh": s.title_zh,
                        "titleEn": s.title_en,
                    }
                    for s in rows
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    for s in rows:
        until = s.valid_to.isoformat() if s.valid_to else "…"
        click.echo(
            f"{s.id:<6} {s.version:<7} {s.valid_from.isoformat()} – {until:<10} {s.status:<8} "
            f"{s.kind:<9} {s.title_zh} / {s.title_en}"
        )


def _show_text(s: Standard) -> None:
    until = s.valid_to.isoformat() if s.valid_to else "…"
    click.echo(f"{s.key}  {s.title_zh} / {s.title_en}")
    click.echo(f"  {s.kind}, {s.status}, {s.valid_from.isoformat()} – {until}")
    click.echo(f"  {s.scope_zh}\n  {s.scope_en}\n")
    click.echo("条款 / Clauses")
    rules_by_clause: dict[str, list[str]] = {}
    for r in s.rules:
        rules_by_clause.setdefault(r.clause, []).append(r.id)
    for c in s.clauses:
        cover = (
            rules_by_clause.get(c.id, []) + list(c.covered_by) + [f"gateway:{code}" for code in c.enforced_by]
        )
        note = ", ".join(cover) if cover else f"人工确认 / attestation: {c.attestation_en}"
        click.echo(f"  {c.id:<5} {c.title_zh} / {c.title_en}  ({c.origin})")
        click.echo(f"        {c.text_zh}\n        {c.text_en}\n        → {note}")
    if s.fields:
        click.echo("\n数据项 / Fields")
        for f in s.fields:
            required = (
                "必填" if f.required is True else ("必填:" + "/".join(f.required) if f.required else "")
            )
            extra = " ".join(
                x
                for x in (
                    f"≤{f.max_length}" if f.max_length else "",
                    f.code_list or "",
                    f.identifier or "",
                    required,
                )
                if x
            )
            click.echo(f"  {f.name:<44} {f.type:<8} {f.label_zh} / {f.label_en}  {extra}")
    click.echo("\n规则 / Rules")
    for r in s.rules:
        click.echo(f"  {r.id:<11} {r.severity:<7} {r.kind:<22} [{r.clause}] {r.message_zh} / {r.message_en}")


@standards.command("show")
@click.argument("spec", metavar="SC-NN[@VERSION]")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def show(spec: str, fmt: str) -> None:
    """Show one standard: clauses (with what covers each), the field table and the rules."""
    standard_id, version = _split(spec)
    try:
        s = catalogue().get(standard_id, version)
    except StandardsError as exc:
        _fail(exc)
        return
    if fmt == "json":
        from standards.catalogue import DATA_DIR

        click.echo((DATA_DIR / s.id / s.version / "standard.json").read_text(encoding="utf-8"), nl=False)
    else:
        _show_text(s)


@click.command()
@click.option(
    "--standard",
    "-s",
    "spec",
    required=True,
    metavar="SC-NN[@VERSION]",
    help="Standard (and version) to validate against; without a version, the one in force on --on.",
)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--on", "on_text", metavar="YYYY-MM-DD", help="Day of validation (version in force, timeliness)."
)
@click.option(
    "--destination",
    type=click.Choice(["internal", "national", "partner", "public"]),
    help="Check SC-20 masking for a record bound to this destination class.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "junit"]), default="text", show_default=True
)
@click.option("--input-format", type=click.Choice(["json", "jsonl", "csv"]), help="Override the file suffix.")
@click.option(
    "--max-bytes",
    type=click.IntRange(min=64),
    default=1 << 20,
    show_default=True,
    help="Largest record (SC-17 4.4).",
)
@click.option(
    "--progress/--no-progress", default=None, help="Progress bar on stderr (default: when stderr is a TTY)."
)
def validate(
    spec: str,
    files: tuple[Path, ...],
    on_text: str | None,
    destination: str | None,
    fmt: str,
    input_format: str | None,
    max_bytes: int,
    progress: bool | None,
) -> None:
    """Validate JSON, JSONL or CSV files of records against a standard; findings in Chinese and English.

    \b
    Examples:
      jgx validate --standard SC-06 penalty.json
      jgx validate -s SC-05@1.0.0 --on 2025-06-30 exports/*.csv --format junit > report.xml
      jgx validate -s SC-11 complaints.jsonl --destination public

    Exit status: 0 no error finding, 1 error findings, 2 usage or I/O errors.
    """
    from standards.files import format_of, judge_file
    from standards.payload import Limits
    from standards.report import FileResult, LocatedFinding, json_report, junit, summary, text_line
    from standards.validator import compiled

    standard_id, version = _split(spec)
    on = _day(on_text)
    try:
        target = compiled(standard_id, version, on)
        if destination is not None and target.policy is not None:
            target.policy.profile(destination)
    except StandardsError as exc:
        _fail(exc)
        return
    limits = Limits(max_bytes=max_bytes)
    show_progress = sys.stderr.isatty() if progress is None else progress
    results: list[FileResult] = []
    for path in files:
        result = FileResult(str(path))
        results.append(result)
        try:
            chosen = input_format or format_of(path)
            size = path.stat().st_size
            with click.progressbar(
                length=size, label=path.name, file=sys.stderr, hidden=not show_progress
            ) as bar:
                for item in judge_file(
                    path,
                    target,
                    fmt=chosen,
                    on=on,
                    destination=destination,
                    limits=limits,
                    progress=bar.update,
                ):
                    result.records += 1 if item.record else 0
                    for finding in item.findings:
                        located = LocatedFinding(str(path), item.line, finding)
                        result.findings.append(located)
                        if fmt == "text":
                            click.echo(text_line(located))
        except (OSError, ValueError) as exc:
            result.error = str(exc)
            click.echo(f"{path}: 无法读取 / cannot read: {exc}", err=True)
    if fmt == "json":
        click.echo(json_report(results, target.standard.key))
    elif fmt == "junit":
        click.echo(junit(results, target.standard.key))
    else:
        click.echo(summary(results))
    if any(r.error for r in results):
        sys.exit(2)
    sys.exit(1 if any(r.count("error") for r in results) else 0)
