"""The console's aiohttp application: sessions, CSRF, security headers, login and logout.

Requests pass four middlewares in order: security headers on every answer; failures (a store that
fails answers 503 ``unavailable``, any other fault 500 ``internal``: the exception's text is logged on
the node and never shown, so no table name or SQL reaches a browser); the session (a random
token in an HttpOnly, SameSite=Strict cookie, looked up by its SHA-256, expiring after ``session_ttl``);
and CSRF (every state-changing request carries the session's token in the form field ``csrf_token`` or
the ``X-CSRF-Token`` header; the login form uses a double-submit cookie because there is no session yet).
Pages and their JSON twins live in `gateway.console.routes`.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import jinja2
import structlog
from aiohttp import web
from markupsafe import Markup

from gateway.console.auth import (
    Principal,
    Role,
    check_password,
    hash_password,
    new_csrf_token,
    new_session_token,
    token_digest,
)
from gateway.console.i18n import LANGUAGES, translator
from gateway.console.records import LogKeys
from gateway.storage import Session, StorageError, Store
from gateway.trust import TrustConfig

__all__ = ["CONSOLE", "PRINCIPAL", "SESSION", "Console", "make_console_app", "render"]

SESSION_COOKIE = "jgx_session"
LOGIN_CSRF_COOKIE = "jgx_login_csrf"
_log = structlog.get_logger("jgx.console")
LANG_COOKIE = "jgx_lang"
_PUBLIC = frozenset({"/login", "/api/v1/login", "/api/v1/openapi.json", "/favicon.ico"})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_DUMMY_HASH = hash_password("not a password", salt=b"\x00" * 16)  # equal work for unknown users
_CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Console:
    """What every handler needs: the store, the node's log keys, the clock and the templates."""

    store: Store
    keys: LogKeys
    clock: Callable[[], datetime]
    session_ttl: timedelta
    secure_cookies: bool
    templates: jinja2.Environment


CONSOLE: web.AppKey[Console] = web.AppKey("console", Console)
SESSION: web.RequestKey[Session] = web.RequestKey("session", Session)
PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("principal", Principal)


def is_api(request: web.Request) -> bool:
    """Whether the request is for the JSON API (errors answer in JSON, not HTML)."""
    return request.path.startswith("/api/")


def lang_of(request: web.Request) -> str:
    """The label language: ``?lang=`` first, then the cookie, then Chinese."""
    asked = request.query.get("lang") or request.cookies.get(LANG_COOKIE, "zh")
    return asked if asked in LANGUAGES else "zh"


def render(request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
    """Render a template with the label language, the user and the session's CSRF token."""
    console = request.app[CONSOLE]
    lang = lang_of(request)
    session = request.get(SESSION)
    html = console.templates.get_template(template).render(
        t=translator(lang),
        lang=lang,
        user=request.get(PRINCIPAL),
        csrf_token=session.csrf_token if session else "",
        path=request.path,
        query=request.query_string,
        **context,
    )
    response = web.Response(text=html, content_type="text/html", status=status)
    if "lang" in request.query and request.query["lang"] in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, httponly=True, samesite="Strict", path="/")
    return response


def fail(request: web.Request, status: int, key: str, detail: str = "") -> web.Response:
    """An error answer: JSON ``{error, message_zh, message_en}`` for the API, a page otherwise."""
    zh, en = translator("zh")(key), translator("en")(key)
    if is_api(request):
        return web.json_response({"error": key, "message_zh": zh, "message_en": en, "detail": detail},
                                 status=status)  # fmt: skip
    return render(request, "error.html", status=status, key=key, detail=detail)


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """No framing, no sniffing, no caching of personal data, a strict content security policy."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    response.headers.setdefault("Content-Security-Policy", _CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Cache-Control", "no-store")
    if isinstance(response, web.HTTPException):
        raise response
    return response


@web.middleware
async def failures(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A failing store or a bug answers with a reason, never with the exception's text."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except StorageError as exc:
        _log.error("console.store_failed", path=request.path, error=str(exc))
        return fail(request, 503, "unavailable")
    except Exception as exc:  # noqa: BLE001 - the console answers every request
        _log.error("console.internal_error", path=request.path, error=type(exc).__name__, exc_info=exc)
        return fail(request, 500, "internal")


@web.middleware
async def sessions(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Attach the logged-in principal; send everyone else to the login page (or answer 401)."""
    console = request.app[CONSOLE]
    token = request.cookies.get(SESSION_COOKIE, "")
    session = await console.store.session(token_digest(token), now=console.clock()) if token else None
    user = await console.store.user(session.username) if session is not None else None
    if session is not None and user is not None:
        request[SESSION] = session
        request[PRINCIPAL] = Principal(user.username, Role(user.role), user.node)
    elif request.path not in _PUBLIC:
        if is_api(request):
            return web.json_response(
                {"error": "unauthenticated", "message_zh": "请先登录", "message_en": "log in first"},
                status=401,
            )
        raise web.HTTPSeeOther("/login")
    return await handler(request)


@web.middleware
async def csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a state-changing request without the session's CSRF token (403)."""
    if request.method in _SAFE_METHODS or request.path in _PUBLIC:
        return await handler(request)
    session = request.get(SESSION)
    sent = request.headers.get("X-CSRF-Token", "")
    if not sent and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sent = str((await request.post()).get("csrf_token", ""))
    if session is None or not sent or not hmac.compare_digest(sent, session.csrf_token):
        return fail(request, 403, "forbidden", "CSRF token missing or wrong")
    return await handler(request)


async def _start_session(request: web.Request, username: str) -> tuple[Session, str]:
    console = request.app[CONSOLE]
    now = console.clock()
    token = new_session_token()
    session = Session(token_digest(token), username, new_csrf_token(), now, now + console.session_ttl)
    await console.store.purge_sessions(now=now)  # expired sessions go as new ones come
    await console.store.create_session(session)
    await console.store.audit(now=now, actor=f"console:{username}", action="console.login", detail="")
    return session, token


def _session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    console = request.app[CONSOLE]
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="Strict", secure=console.secure_cookies, path="/",
        max_age=int(console.session_ttl.total_seconds()),
    )  # fmt: skip


async def _authenticate(request: web.Request, username: str, password: str) -> bool:
    console = request.app[CONSOLE]
    user = await console.store.user(username) if username else None
    ok = check_password(password, user.password_hash if user else _DUMMY_HASH)
    if not ok:
        await console.store.audit(
            now=console.clock(), actor=f"console:{username[:64]}", action="console.login_failed", detail=""
        )
    return ok and user is not None


async def login_page(request: web.Request) -> web.Response:
    """GET /login: the login form with the browser's double-submit CSRF token (made once, then reused).

    Reusing the token keeps two login tabs (or a browser's background request) from invalidating
    each other's forms; the token guards only the login form and carries no authority of its own.
    """
    existing = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    token = existing if 24 <= len(existing) <= 64 and existing.isascii() else new_csrf_token()
    response = render(request, "login.html", login_csrf=token, failed=False)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="Strict", path="/login")
    return response


async def favicon(_request: web.Request) -> web.Response:
    """GET /favicon.ico: nothing (browsers ask for it before anyone logs in)."""
    return web.Response(status=204)


async def login_submit(request: web.Request) -> web.StreamResponse:
    """POST /login: check the double-submit token and the password, start a session."""
    form = await request.post()
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    sent = str(form.get("csrf_token", ""))
    if not cookie or not hmac.compare_digest(cookie, sent):
        return fail(request, 403, "forbidden", "CSRF token missing or wrong")
    username, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
    if not await _authenticate(request, username, password):
        token = new_csrf_token()
        response = render(request, "login.html", status=401, login_csrf=token, failed=True, username=username)
        response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="Strict", path="/login")
        return response
    _, token = await _start_session(request, username)
    response = web.HTTPSeeOther("/")
    _session_cookie(request, response, token)
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


async def api_login(request: web.Request) -> web.StreamResponse:
    """POST /api/v1/login (JSON only): start a session; the answer carries its CSRF token."""
    if request.content_type != "application/json":
        return fail(request, 415, "bad_request", "send application/json")
    try:
        body = await request.json()
        username, password = str(body["username"]).strip(), str(body["password"])
    except (ValueError, KeyError, TypeError):
        return fail(request, 400, "bad_request", "expected {username, password}")
    if not await _authenticate(request, username, password):
        return fail(request, 401, "login_failed")
    session, token = await _start_session(request, username)
    response = web.json_response(
        {"username": username, "csrf_token": session.csrf_token, "expires_at": session.expires_at.isoformat()}
    )
    _session_cookie(request, response, token)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    """POST /logout (HTML) or /api/v1/logout: end the session."""
    console = request.app[CONSOLE]
    session = request[SESSION]
    await console.store.delete_session(session.token_sha256)
    await console.store.audit(now=console.clock(), actor=f"console:{session.username}",
                              action="console.logout", detail="")  # fmt: skip
    response: web.StreamResponse = web.json_response({}) if is_api(request) else web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


def make_console_app(
    store: Store,
    trust: TrustConfig,
    *,
    node_id: str,
    clock: Callable[[], datetime] = _utcnow,
    session_ttl: timedelta = timedelta(hours=8),
    secure_cookies: bool = False,
) -> web.Application:
    """The console of ``node_id``'s log in ``store``; the store must be open (the caller owns it)."""
    from gateway.console import routes

    templates = jinja2.Environment(
        loader=jinja2.PackageLoader("gateway.console", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
    )
    templates.globals["urlencode"] = urlencode
    templates.globals["safe_svg"] = Markup  # only for SVG built by gateway.console.charts (escaped there)
    app = web.Application(
        middlewares=[security_headers, failures, sessions, csrf], client_max_size=64 * 1024
    )
    app[CONSOLE] = Console(store, LogKeys(node_id, trust), clock, session_ttl, secure_cookies, templates)
    app.router.add_get("/login", login_page)
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_post("/login", login_submit)
    app.router.add_post("/logout", logout)
    app.router.add_post("/api/v1/login", api_login)
    app.router.add_post("/api/v1/logout", logout)
    routes.add_routes(app)
    return app
