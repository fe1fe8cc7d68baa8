"""The console's aiohttp application: security headers, error pages, sessions, CSRF, time zone.

Requests pass three middlewares in order: error pages (every error, aiohttp's own 404/405/413 and a
failure alike, answers the console's bilingual page or JSON: a store that fails answers 503
``unavailable``, any other fault 500 ``internal``; the exception's text is logged on the node and never
shown, so no table name or SQL reaches a browser); the session (a random token
in an HttpOnly, SameSite=Strict cookie, looked up by its SHA-256, expiring after ``session_ttl``); and
CSRF (every state-changing request carries the session's token in the form field ``csrf_token`` or
the ``X-CSRF-Token`` header). Security headers are set where every answer passes, including the ones
aiohttp writes itself before any middleware runs (a URL too long, a malformed request line): the
request's prepare hook, installed by `ConsoleRunner`. Login and logout live in
`gateway.console.login`, pages and their JSON twins in `gateway.console.routes`.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import jinja2
import structlog
from aiohttp import web
from markupsafe import Markup

from gateway._time import utc_now
from gateway.console.auth import Principal, Role, token_digest
from gateway.console.i18n import LANGUAGES, translator
from gateway.console.records import LogKeys
from gateway.console.throttle import LoginThrottle
from gateway.console.timezone import local_time, zone_label
from gateway.console_settings import ConsoleSettings
from gateway.storage import Session, StorageError, Store
from gateway.trust import TrustConfig

__all__ = [
    "CONSOLE",
    "PRINCIPAL",
    "SECURITY_HEADERS",
    "SESSION",
    "Console",
    "ConsoleRunner",
    "make_console_app",
    "render",
]

SESSION_COOKIE = "jgx_session"
LOGIN_CSRF_COOKIE = "jgx_login_csrf"
LANG_COOKIE = "jgx_lang"
_PUBLIC = frozenset({"/login", "/api/v1/login", "/api/v1/openapi.json", "/favicon.ico"})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SECURITY_HEADERS: Final[Mapping[str, str]] = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_log = structlog.get_logger("jgx.console")


@dataclass
class Console:
    """What every handler needs: the store, the node's log keys, the clock, settings and templates."""

    store: Store
    keys: LogKeys
    clock: Callable[[], datetime]
    session_ttl: timedelta
    settings: ConsoleSettings
    templates: jinja2.Environment
    throttle: LoginThrottle

    @property
    def zone(self) -> ZoneInfo:
        """The time zone pages show and read times in."""
        return self.settings.zone


CONSOLE: web.AppKey[Console] = web.AppKey("console", Console)
SESSION: web.RequestKey[Session] = web.RequestKey("session", Session)
PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("principal", Principal)


# -- headers on every answer ---------------------------------------------------------------------
def harden(response: web.StreamResponse) -> None:
    """No framing, no sniffing, no caching of personal data, a strict content security policy."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


async def _harden_signal(_request: web.Request, response: web.StreamResponse) -> None:
    harden(response)


class ConsoleRequest(web.Request):
    """A request whose answers always carry the security headers, whoever wrote them.

    aiohttp answers a malformed request line or an over-long URL itself, before the application,
    its middlewares or its signals see the request; the prepare hook is the one place every
    answer passes, so the headers are set there.
    """

    async def _prepare_hook(self, response: web.StreamResponse) -> None:
        harden(response)
        await super()._prepare_hook(response)


class ConsoleRunner(web.AppRunner):
    """An `aiohttp.web.AppRunner` whose requests are `ConsoleRequest`s (see there)."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.request_factory = functools.partial(self.app._make_request, _cls=ConsoleRequest)
        return server


# -- where the client is and how it reached us ---------------------------------------------------
def client_address(request: web.Request) -> str:
    """The client's address: the TCP peer, or what a trusted proxy says in ``X-Forwarded-For``."""
    peer = request.remote or ""
    settings = request.app[CONSOLE].settings
    forwarded = request.headers.get("X-Forwarded-For", "")
    if not forwarded or not settings.trusts_proxy(peer):
        return peer
    # The rightmost address a trusted proxy did not add is the client (the rest can be forged).
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    while hops and settings.trusts_proxy(hops[-1]):
        hops.pop()
    return hops[-1][:64] if hops else peer


def over_tls(request: web.Request) -> bool:
    """Whether the browser reached the console over TLS: directly, or through a trusted TLS proxy."""
    if request.transport is not None and request.transport.get_extra_info("sslcontext") is not None:
        return True
    settings = request.app[CONSOLE].settings
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return settings.secure_cookies or (proto == "https" and settings.trusts_proxy(request.remote or ""))


def set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str, **kw: Any) -> None:
    """A cookie that scripts cannot read, never sent cross-site, and ``Secure`` whenever TLS is in use."""
    response.set_cookie(name, value, httponly=True, samesite="Strict", secure=over_tls(request), **kw)


# -- rendering -----------------------------------------------------------------------------------
def is_api(request: web.Request) -> bool:
    """Whether the request is for the JSON API (errors answer in JSON, not HTML)."""
    return request.path.startswith("/api/")


def lang_of(request: web.Request) -> str:
    """The label language: ``?lang=`` first, then the cookie, then Chinese."""
    asked = request.query.get("lang") or request.cookies.get(LANG_COOKIE, "zh")
    return asked if asked in LANGUAGES else "zh"


def _switch_url(request: web.Request, lang: str) -> str:
    """This page in the other language, with every filter of the current query kept."""
    params = [(k, v) for k, v in request.query.items() if k != "lang"]
    params.append(("lang", "zh" if lang == "en" else "en"))
    return f"{request.path}?{urlencode(params)}"


def render(request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
    """Render a template with the label language, the user, the time zone and the CSRF token."""
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
        switch_url=_switch_url(request, lang),
        local=functools.partial(local_time, zone=console.zone),
        zone=zone_label(console.zone, console.clock()),
        **context,
    )
    response = web.Response(text=html, content_type="text/html", status=status)
    if "lang" in request.query and request.query["lang"] in LANGUAGES:
        set_cookie(request, response, LANG_COOKIE, lang, path="/")
    return response


def fail(request: web.Request, status: int, key: str, detail: str = "") -> web.Response:
    """An error answer: JSON ``{error, message_zh, message_en}`` for the API, a page otherwise."""
    zh, en = translator("zh")(key), translator("en")(key)
    if is_api(request):
        return web.json_response({"error": key, "message_zh": zh, "message_en": en, "detail": detail},
                                 status=status)  # fmt: skip
    return render(request, "error.html", status=status, key=key, detail=detail)


_ERROR_KEYS: Final = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 403: "forbidden"}


# -- middlewares ---------------------------------------------------------------------------------
@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """aiohttp's own errors (404, 405, 413…) and unexpected failures as the console's error answers."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        answer = fail(request, exc.status, _ERROR_KEYS.get(exc.status, "bad_request"))
        if "Allow" in exc.headers:
            answer.headers["Allow"] = exc.headers["Allow"]
        return answer
    except StorageError as exc:
        _log.error("console.store_failed", path=request.path[:200], error=str(exc))
        return fail(request, 503, "unavailable")
    except Exception as exc:  # noqa: BLE001 - the console answers every request, never with a traceback
        _log.error("console.internal_error", path=request.path[:200], error=type(exc).__name__, exc_info=exc)
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


def make_console_app(
    store: Store,
    trust: TrustConfig,
    *,
    node_id: str,
    clock: Callable[[], datetime] = utc_now,
    session_ttl: timedelta = timedelta(hours=8),
    settings: ConsoleSettings | None = None,
) -> web.Application:
    """The console of ``node_id``'s log in ``store``; the store must be open (the caller owns it).

    Serve it with `ConsoleRunner` so that even aiohttp's own error answers carry the security headers.
    """
    from gateway.console import login, routes

    templates = jinja2.Environment(
        loader=jinja2.PackageLoader("gateway.console", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
    )
    templates.globals["urlencode"] = urlencode
    templates.globals["safe_svg"] = Markup  # only for SVG built by gateway.console.charts (escaped there)
    app = web.Application(middlewares=[error_pages, sessions, csrf], client_max_size=64 * 1024)
    app.on_response_prepare.append(_harden_signal)
    app[CONSOLE] = Console(
        store, LogKeys(node_id, trust, store.hasher), clock, session_ttl, settings or ConsoleSettings(),
        templates, LoginThrottle(),
    )  # fmt: skip
    login.add_routes(app)
    routes.add_routes(app)
    return app
