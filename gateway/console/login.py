"""Logging in and out of the console: the form, the JSON twin, sessions and login throttling.

A login attempt is first put to the throttle (`gateway.console.throttle`): while the (account,
address) pair or the address is slowed down or locked, the answer is 429 with ``Retry-After`` and the
password is not checked. Every failure, lock and alert is written to the audit log with the address.
"""

from __future__ import annotations

import hmac
import math

from aiohttp import web

from gateway.console.app import (
    CONSOLE,
    LOGIN_CSRF_COOKIE,
    SESSION,
    SESSION_COOKIE,
    client_address,
    fail,
    is_api,
    render,
    set_cookie,
)
from gateway.console.auth import (
    check_password,
    hash_password,
    new_csrf_token,
    new_session_token,
    token_digest,
)
from gateway.console.throttle import Decision
from gateway.storage import Session

__all__ = ["add_routes"]

_DUMMY_HASH = hash_password("not a password", salt=b"\x00" * 16)  # equal work for unknown users
_AUDIT_EVENTS = {
    "pair_locked": "console.login_locked",
    "address_locked": "console.address_locked",
    "under_attack": "console.account_under_attack",
}


async def _start_session(request: web.Request, username: str) -> tuple[Session, str]:
    console = request.app[CONSOLE]
    now = console.clock()
    token = new_session_token()
    session = Session(token_digest(token), username, new_csrf_token(), now, now + console.session_ttl)
    await console.store.purge_sessions(now=now)  # expired sessions go as new ones come
    await console.store.create_session(session)
    await console.store.audit(now=now, actor=f"console:{username}", action="console.login",
                              detail=f"address={client_address(request)}")  # fmt: skip
    return session, token


def _session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    ttl = int(request.app[CONSOLE].session_ttl.total_seconds())
    set_cookie(request, response, SESSION_COOKIE, token, path="/", max_age=ttl)


async def _authenticate(request: web.Request, username: str, password: str) -> Decision | bool:
    """The throttle's refusal, or whether the password is right (every failure audited and counted)."""
    console = request.app[CONSOLE]
    now, address, account = console.clock(), client_address(request), username[:64]
    decision = console.throttle.check(account, address, now)
    if not decision.allowed:
        return decision
    user = await console.store.user(username) if username else None
    ok = check_password(password, user.password_hash if user else _DUMMY_HASH) and user is not None
    if ok:
        console.throttle.succeeded(account, address)
        return True
    actor = f"console:{account}"
    await console.store.audit(
        now=now, actor=actor, action="console.login_failed", detail=f"address={address}"
    )
    for event in console.throttle.failed(account, address, now):
        await console.store.audit(
            now=now, actor=actor, action=_AUDIT_EVENTS[event], detail=f"address={address}"
        )
    return False


def _throttled(request: web.Request, decision: Decision, **context: str) -> web.StreamResponse:
    seconds = max(1, math.ceil(decision.retry_after.total_seconds()))
    detail = f"{decision.reason}: retry after {seconds} s"
    if is_api(request):
        response: web.StreamResponse = fail(request, 429, "throttled", detail)
    else:
        response = render(request, "login.html", status=429, failed=False, wait=seconds, **context)
        set_cookie(request, response, LOGIN_CSRF_COOKIE, context["login_csrf"], path="/login")
    response.headers["Retry-After"] = str(seconds)
    return response


async def login_page(request: web.Request) -> web.Response:
    """GET /login: the login form with the browser's double-submit CSRF token (made once, then reused).

    Reusing the token keeps two login tabs (or a browser's background request) from invalidating
    each other's forms; the token guards only the login form and carries no authority of its own.
    """
    existing = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    token = existing if 24 <= len(existing) <= 64 and existing.isascii() else new_csrf_token()
    response = render(request, "login.html", login_csrf=token, failed=False, wait=0)
    set_cookie(request, response, LOGIN_CSRF_COOKIE, token, path="/login")
    return response


async def favicon(_request: web.Request) -> web.Response:
    """GET /favicon.ico: nothing (browsers ask for it before anyone logs in)."""
    return web.Response(status=204)


async def login_submit(request: web.Request) -> web.StreamResponse:
    """POST /login: check the double-submit token, the throttle and the password, start a session."""
    form = await request.post()
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    sent = str(form.get("csrf_token", ""))
    if not cookie or not hmac.compare_digest(cookie, sent):
        return fail(request, 403, "forbidden", "CSRF token missing or wrong")
    username, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
    verdict = await _authenticate(request, username, password)
    if isinstance(verdict, Decision):
        return _throttled(request, verdict, login_csrf=new_csrf_token(), username=username)
    if not verdict:
        token = new_csrf_token()
        response = render(request, "login.html", status=401, login_csrf=token, failed=True, wait=0,
                          username=username)  # fmt: skip
        set_cookie(request, response, LOGIN_CSRF_COOKIE, token, path="/login")
        return response
    _, token = await _start_session(request, username)
    redirect = web.HTTPSeeOther("/")
    _session_cookie(request, redirect, token)
    redirect.del_cookie(LOGIN_CSRF_COOKIE, path="/login")
    raise redirect  # aiohttp deprecates returning an HTTPException; its cookies travel with it


async def api_login(request: web.Request) -> web.StreamResponse:
    """POST /api/v1/login (JSON only): start a session; the answer carries its CSRF token."""
    if request.content_type != "application/json":
        return fail(request, 415, "bad_request", "send application/json")
    try:
        body = await request.json()
        username, password = str(body["username"]).strip(), str(body["password"])
    except (ValueError, KeyError, TypeError):
        return fail(request, 400, "bad_request", "expected {username, password}")
    verdict = await _authenticate(request, username, password)
    if isinstance(verdict, Decision):
        return _throttled(request, verdict)
    if not verdict:
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
    if not is_api(request):
        redirect = web.HTTPSeeOther("/login")
        redirect.del_cookie(SESSION_COOKIE, path="/")
        raise redirect
    response = web.json_response({})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


def add_routes(app: web.Application) -> None:
    """Register the login, logout and favicon routes."""
    app.router.add_get("/login", login_page)
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_post("/login", login_submit)
    app.router.add_post("/logout", logout)
    app.router.add_post("/api/v1/login", api_login)
    app.router.add_post("/api/v1/logout", logout)
