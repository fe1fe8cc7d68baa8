"""Every console page and its JSON twin: the page renders what the API returns (``/api/v1/…``).

A page handler and its API handler share one data function; the role checks live in the data
functions (`gateway.console.records`, `gateway.console.overview`), so both answer alike. The API is
described in ``openapi.json`` beside this module.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from aiohttp import web

from gateway._time import format_time
from gateway.console import charts, overview, records
from gateway.console.app import CONSOLE, PRINCIPAL, SESSION, fail, is_api, lang_of, render
from gateway.console.auth import Principal
from gateway.console.i18n import translator
from gateway.console.timezone import local_time
from gateway.storage import OutboxState

__all__ = ["add_routes"]

Data = Callable[[web.Request], Awaitable[dict[str, Any] | None]]
CSV_LIMIT = 100_000
_CSV_COLUMNS = ("log_index", "time", "sender", "recipient", "message_id", "standard", "standard_version",
                "correlation_id", "action", "outcome", "reason_codes", "envelope_sha256")  # fmt: skip


def _principal(request: web.Request) -> Principal:
    return request[PRINCIPAL]


def _index(request: web.Request) -> int:
    return int(request.match_info["index"])


# -- data functions (one per page) ---------------------------------------------------------------
async def _dashboard(request: web.Request) -> dict[str, Any]:
    console = request.app[CONSOLE]
    return await overview.dashboard(console.store, console.keys, _principal(request), console.clock())


async def _search(request: web.Request) -> dict[str, Any]:
    console = request.app[CONSOLE]
    query = records.parse_query(request.query, _principal(request), zone=console.zone)
    rows = await console.store.search_messages(dataclasses.replace(query, limit=query.limit + 1))
    page, more = rows[: query.limit], len(rows) > query.limit
    filters = {k: v for k, v in request.query.items() if k not in ("after", "lang") and v}
    return {
        "results": [records.summary(r) for r in page],
        "next_after": records.encode_cursor(page[-1].cursor) if more else None,
        "filters": filters,
    }


async def _detail(request: web.Request) -> dict[str, Any] | None:
    console = request.app[CONSOLE]
    return await records.message_detail(
        console.store, _index(request), _principal(request), console.keys, console.clock()
    )


async def _proof(request: web.Request) -> dict[str, Any] | None:
    console = request.app[CONSOLE]
    return await records.prove_inclusion(console.store, _index(request), _principal(request), console.keys)


async def _lifecycle(request: web.Request) -> dict[str, Any] | None:
    correlation_id = request.query.get("correlation_id", "").strip()
    if not correlation_id:
        raise records.QueryError("correlation_id", "请填写关联标识", "correlation_id is required")
    console = request.app[CONSOLE]
    return await overview.lifecycle_view(
        console.store, console.keys, correlation_id, _principal(request), console.clock()
    )


async def _dead_letters(request: web.Request) -> dict[str, Any]:
    console = request.app[CONSOLE]
    return {"dead_letters": await records.dead_letters(console.store, _principal(request))}


async def _checkpoints(request: web.Request) -> dict[str, Any]:
    console = request.app[CONSOLE]
    return {"origin": console.keys.origin,
            "checkpoints": await overview.checkpoint_history(console.store, console.keys)}  # fmt: skip


async def _audit(request: web.Request) -> dict[str, Any] | None:
    if not _principal(request).may_audit:
        raise web.HTTPForbidden
    entries = await request.app[CONSOLE].store.audit_entries(limit=500)
    return {"entries": [{"id": e.id, "time": format_time(e.time), "actor": e.actor, "action": e.action,
                         "detail": e.detail} for e in entries]}  # fmt: skip


async def _me(request: web.Request) -> dict[str, Any]:
    principal = _principal(request)
    return {"username": principal.username, "role": principal.role.value, "node": principal.node,
            "csrf_token": request[SESSION].csrf_token}  # fmt: skip


# -- the two faces of each data function ---------------------------------------------------------
async def _run(request: web.Request, data: Data) -> dict[str, Any] | web.Response:
    try:
        result = await data(request)
    except records.QueryError as exc:
        return fail(request, 400, "bad_request", f"{exc.field}: {exc.message_zh} / {exc.message_en}")
    except web.HTTPForbidden:
        return fail(request, 403, "forbidden")
    if result is None:
        return fail(request, 404, "not_found")
    return result


def _api(data: Data) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        result = await _run(request, data)
        return result if isinstance(result, web.Response) else web.json_response(result)

    return handler


def _page(template: str, data: Data, **extra: Any) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        result = await _run(request, data)
        if isinstance(result, web.Response):
            return result
        return render(request, template, data=result, **extra)

    return handler


async def dashboard_page(request: web.Request) -> web.StreamResponse:
    """GET /: the dashboard with server-rendered SVG charts."""
    data = await _dashboard(request)
    t, zone = translator(lang_of(request)), request.app[CONSOLE].zone
    legend = {outcome: t(outcome) for outcome in ("accepted", "rejected", "duplicate")}
    svgs = {
        "throughput": charts.throughput_chart(
            data["throughput"], title=t("throughput"), legend=legend,
            hour_label=lambda hour: local_time(hour, zone=zone, seconds=False)[11:],
        ),
        "by_sender": charts.bars_by_key(data["by_sender"], title=t("by_department"), legend=legend),
        "by_standard": charts.bars_by_key(data["by_standard"], title=t("by_standard"), legend=legend),
    }  # fmt: skip
    return render(request, "dashboard.html", data=data, charts=svgs)


async def lifecycle_page(request: web.Request) -> web.StreamResponse:
    """GET /lifecycle: the form, or the timeline of ``?correlation_id=``."""
    if not request.query.get("correlation_id", "").strip():
        return render(request, "lifecycle.html", data=None)
    return await _page("lifecycle.html", _lifecycle)(request)


async def proof_page(request: web.Request) -> web.StreamResponse:
    """GET /messages/{index}/proof: the detail page with the inclusion proof's result."""
    detail = await _run(request, _detail)
    if isinstance(detail, web.Response):
        return detail
    proof = await _proof(request)
    return render(request, "detail.html", data=detail, proof=proof)


async def export_csv(request: web.Request) -> web.StreamResponse:
    """GET /messages.csv and /api/v1/messages.csv: every matching row (up to 100 000) as CSV."""
    console = request.app[CONSOLE]
    try:
        query = records.parse_query(
            request.query, _principal(request), default_limit=records.MAX_PAGE, zone=console.zone
        )
    except records.QueryError as exc:
        return fail(request, 400, "bad_request", f"{exc.field}: {exc.message_en}")
    response = web.StreamResponse(headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": 'attachment; filename="jgx-exchange-log.csv"'})  # fmt: skip
    await response.prepare(request)
    if request.method == "HEAD":  # headers only: a body here would be read as the next answer
        await response.write_eof()
        return response
    await response.write("\ufeff".encode())  # a BOM so that spreadsheet programs read UTF-8 Chinese
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_CSV_COLUMNS)
    written = 0
    while written < CSV_LIMIT:
        rows = await console.store.search_messages(query)
        for row in rows:
            cells = records.summary(row)
            cells["reason_codes"] = " ".join(cells["reason_codes"])
            writer.writerow([_csv_cell(cells[c]) for c in _CSV_COLUMNS])
        written += len(rows)
        await response.write(buffer.getvalue().encode("utf-8"))
        buffer.seek(0)
        buffer.truncate()
        if len(rows) < query.limit:
            break
        query = dataclasses.replace(query, after=rows[-1].cursor)
    await response.write_eof()
    return response


def _csv_cell(value: object) -> str:
    """A cell that a spreadsheet will not run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def replay(request: web.Request) -> web.StreamResponse:
    """POST /dead-letters/{item_id}/replay: put a dead letter back on the queue (operators only)."""
    console, principal = request.app[CONSOLE], _principal(request)
    item_id = int(request.match_info["item_id"])
    item = await console.store.outbox_item(item_id)
    record = await console.store.message(item.log_index) if item is not None else None
    if item is None or record is None or not principal.may_see(record.sender, record.recipient):
        return fail(request, 404, "not_found")
    if not principal.may_replay:
        return fail(request, 403, "forbidden")
    if item.state != OutboxState.DEAD:
        return fail(request, 409, "bad_request", f"outbox row {item_id} is {item.state}, not dead")
    await console.store.replay(item_id, now=console.clock(), actor=f"console:{principal.username}")
    if is_api(request):
        return web.json_response({"id": item_id, "state": OutboxState.PENDING})
    raise web.HTTPSeeOther(f"/dead-letters?replayed={item_id}")


async def openapi(_request: web.Request) -> web.StreamResponse:
    """GET /api/v1/openapi.json: the description of this API."""
    text = resources.files("gateway.console").joinpath("openapi.json").read_text(encoding="utf-8")
    return web.json_response(json.loads(text))


def add_routes(app: web.Application) -> None:
    """Register every page and API route of the console."""
    r = app.router
    r.add_get("/", dashboard_page)
    r.add_get("/api/v1/dashboard", _api(_dashboard))
    r.add_get("/messages", _page("search.html", _search))
    r.add_get("/api/v1/messages", _api(_search))
    r.add_get("/messages.csv", export_csv)
    r.add_get("/api/v1/messages.csv", export_csv)
    r.add_get(r"/messages/{index:\d{1,18}}", _page("detail.html", _detail, proof=None))
    r.add_get(r"/api/v1/messages/{index:\d{1,18}}", _api(_detail))
    r.add_get(r"/messages/{index:\d{1,18}}/proof", proof_page)
    r.add_get(r"/api/v1/messages/{index:\d{1,18}}/proof", _api(_proof))
    r.add_get("/lifecycle", lifecycle_page)
    r.add_get("/api/v1/lifecycle", _api(_lifecycle))
    r.add_get("/dead-letters", _page("dead_letters.html", _dead_letters))
    r.add_get("/api/v1/dead-letters", _api(_dead_letters))
    r.add_post(r"/dead-letters/{item_id:\d{1,18}}/replay", replay)
    r.add_post(r"/api/v1/dead-letters/{item_id:\d{1,18}}/replay", replay)
    r.add_get("/checkpoints", _page("checkpoints.html", _checkpoints))
    r.add_get("/api/v1/checkpoints", _api(_checkpoints))
    r.add_get("/audit", _page("audit.html", _audit))
    r.add_get("/api/v1/audit", _api(_audit))
    r.add_get("/api/v1/me", _api(_me))
    r.add_get("/api/v1/openapi.json", openapi)
