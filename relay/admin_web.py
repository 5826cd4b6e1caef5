"""The admin web at ``/admin``: server-rendered pages (aiohttp-jinja2), Japanese and English.

Pages: the live overview (numbers waiting, sessions by mode with operator and
duration, capacity used; never screen content) where an admin ends a session with a
reason (both sides get ``ended`` with ``EndReason.ADMIN``); operators (add, disable,
enable, reset the password, last login, sessions today); the audit trail (filters,
CSV export); settings with their history (capacity limits, the consent terms, the co-browse rules
and the branding of the customer's pages).

Security (docs/security.md "Admin web"): admins are accounts with the ``admin`` role
(relay/accounts.py), and only they may log in here, under the operator login's rate
limits (relay/auth.py). The session cookie is HttpOnly, SameSite=Strict, scoped to
``/admin``, and Secure over TLS (or behind a trusted proxy that sends
``X-Forwarded-Proto: https``); its session ends after ``admin_idle_timeout_s`` without
a request (relay/admin_session.py). Every POST carries the session's CSRF token in a
form field, checked before anything else. The pages have no script at all, under the
relay's strict CSP (relay/web.py). Every admin action is audited with the admin's name
in ``detail["admin"]``.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from redis.exceptions import RedisError

from .accounts import AccountError
from .admin_i18n import pick_lang, text
from .admin_session import AdminSession, AdminSessions
from .auth import LoginRefused
from .cluster import Cluster, node_of
from .database import DatabaseUnavailable
from .effects import Audit
from .settings import (
    CAPACITY_KEYS,
    SettingsError,
    check_terms,
    parse_branding,
    parse_capacity,
    parse_cobrowse_rules,
    terms_version,
)
from .shared_admin_sessions import SharedAdminSessions
from .store import Pairing, StoreUnavailable

__all__ = ["COOKIE", "add_admin_routes", "parse_when", "session_rows"]

logger = logging.getLogger(__name__)

COOKIE = "madoguchi_admin"
_HERE = Path(__file__).resolve().parent
_REASON_MAX = 200
_AUDIT_PAGE_ROWS = 200

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Page = Callable[[web.Request, AdminSession], Awaitable[web.StreamResponse]]


def add_admin_routes(app: web.Application, relay_key: web.AppKey[Any]) -> None:
    """Mount ``/admin`` on the relay app; ``relay_key`` finds the :class:`relay.app.RelayState`."""
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(_HERE / "admin_templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["terms_version"] = terms_version
    admin = _Admin(relay_key)
    app.cleanup_ctx.append(admin.lifetime)
    app.middlewares.append(_database_unavailable)
    r = app.router
    r.add_get("/admin", admin.page(admin.overview))
    r.add_get("/admin/login", admin.login_form)
    r.add_post("/admin/login", admin.login)
    r.add_post("/admin/logout", admin.action(admin.logout))
    r.add_post("/admin/end", admin.action(admin.end_session))
    r.add_get("/admin/operators", admin.page(admin.operators))
    r.add_post("/admin/operators/add", admin.action(admin.add_operator))
    r.add_post("/admin/operators/disable", admin.action(admin.disable_operator))
    r.add_post("/admin/operators/enable", admin.action(admin.enable_operator))
    r.add_post("/admin/operators/password", admin.action(admin.reset_password))
    r.add_get("/admin/audit", admin.page(admin.audit))
    r.add_get("/admin/audit.csv", admin.page(admin.audit_csv))
    r.add_get("/admin/settings", admin.page(admin.settings))
    r.add_post("/admin/settings/capacity", admin.action(admin.save_capacity))
    r.add_post("/admin/settings/terms", admin.action(admin.save_terms))
    r.add_post("/admin/settings/cobrowse", admin.action(admin.save_cobrowse))
    r.add_post("/admin/settings/branding", admin.action(admin.save_branding))
    r.add_static("/admin/static/", _HERE / "admin_static", follow_symlinks=False)


@web.middleware
async def _database_unavailable(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The admin web needs the database (PostgreSQL may be down: relay/database.py): say so."""
    try:
        return await handler(request)
    except DatabaseUnavailable:
        if not request.path.startswith("/admin"):
            raise
        logger.warning("admin %s %s: refused, the database is unreachable", request.method, request.path)
        return web.Response(
            status=503,
            headers={"Retry-After": "60", "Cache-Control": "no-store"},
            text="503: データベースに接続できません。復旧後にもう一度お試しください。\n"
            "503: the relay's database is unreachable; try again when it is back.\n",
        )


def parse_when(value: str, *, end: bool = False) -> float | None:
    """A filter's date or date and time (UTC) as a timestamp; a bare date ``end`` is the next midnight.

    Empty is None; anything else raises ValueError.
    """
    value = value.strip()
    if not value:
        return None
    when = dt.datetime.fromisoformat(value)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    if end and len(value) == 10:  # a date only: the whole day
        when += dt.timedelta(days=1)
    return when.timestamp()


@dataclasses.dataclass(frozen=True)
class SessionRow:
    id: str
    code: str
    phase: str
    mode: str
    operator: str
    issued_by: str
    seconds: int
    """Since the session started (active), the claim (pending) or the number was issued."""


def session_rows(pairings: list[Pairing], now: float) -> tuple[list[SessionRow], list[SessionRow]]:
    """Numbers waiting and sessions (with claims waiting for Allow), oldest first. Nothing of the screen."""
    waiting: list[SessionRow] = []
    sessions: list[SessionRow] = []
    for p in sorted(pairings, key=lambda p: p.created_at):
        since = p.started_at if p.phase == "active" and p.started_at is not None else p.created_at
        row = SessionRow(
            id=p.id,
            code=p.code,
            phase=p.phase,
            mode=p.client,
            operator=p.operator or "",
            issued_by=p.issued_by,
            seconds=max(0, int(now - since)),
        )
        (waiting if p.phase in ("waiting", "issued") else sessions).append(row)
    return waiting, sessions


def _clock(seconds: int) -> str:
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _utc(ts: float | None) -> str:
    if ts is None:
        return ""
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


_NOTICES = frozenset(
    {
        "session_ended",
        "session_gone",
        "operator_added",
        "operator_disabled",
        "operator_enabled",
        "password_reset",
        "saved",
        "unchanged",
    }
)
"""What ``?done=`` may show after a redirect: these words only, never text from the link."""


class _Admin:
    def __init__(self, relay_key: web.AppKey[Any]) -> None:
        self._key = relay_key
        self.sessions = AdminSessions(900.0)

    async def lifetime(self, app: web.Application) -> Any:
        state = app[self._key]
        self.sessions.idle_timeout_s = state.config.admin_idle_timeout_s
        if state.storage is not None and state.storage.shared:  # several nodes: no stickiness needed
            self.sessions = SharedAdminSessions(state.storage.accounts, self.sessions.idle_timeout_s)
        yield

    # --- plumbing ------------------------------------------------------------------

    def _state(self, request: web.Request) -> Any:
        return request.app[self._key]

    def _lang(self, request: web.Request, session: AdminSession | None) -> str:
        current = None if session is None else session.lang
        lang = pick_lang(request.query.get("lang"), request.headers.get("Accept-Language", ""), current)
        if session is not None:
            session.lang = lang
        return lang

    def _render(
        self,
        request: web.Request,
        name: str,
        session: AdminSession,
        context: Mapping[str, Any],
        *,
        status: int = 200,
    ) -> web.Response:
        lang = session.lang
        page = {
            "lang": lang,
            "t": lambda key: text(lang, key),
            "csrf": session.csrf,
            "admin": session.username,
            "path": request.path,
            "notice": text(lang, done) if (done := request.query.get("done", "")) in _NOTICES else "",
            "clock": _clock,
            "utc": _utc,
            **context,
        }
        response = aiohttp_jinja2.render_template(name, request, page, status=status)
        response.headers["Cache-Control"] = "no-store"
        return response

    def _set_cookie(self, request: web.Request, response: web.StreamResponse, cookie: str) -> None:
        response.set_cookie(
            COOKIE, cookie, path="/admin", httponly=True, samesite="Strict", secure=self._over_tls(request)
        )

    def _over_tls(self, request: web.Request) -> bool:
        """TLS here, or at the trusted proxy in front (docs/deploy/nginx-relay.conf sets the header)."""
        if request.secure:
            return True
        trusted = self._state(request).config.trust_forwarded_for
        return bool(trusted and request.headers.get("X-Forwarded-Proto", "").lower() == "https")

    def _audit(self, request: web.Request, session: AdminSession | None, event: str, **fields: Any) -> None:
        detail = {"admin": None if session is None else session.username, **fields.pop("detail", {})}
        ip = self._state(request).client_ip(request)
        self._state(request).apply([Audit(event, ip=ip, detail=detail, **fields)])

    def _admin_session(self, request: web.Request) -> AdminSession | None:
        """The logged-in session of this request, if its admin is still an enabled admin.

        Checked on every request, like the operators' sockets are: an admin disabled with
        ``madoguchi admin disable-operator`` is out at their next click."""
        session = self.sessions.get(request.cookies.get(COOKIE), time.time())
        if session is None or session.username is None:
            return None
        account = self._state(request).accounts.get(session.username)
        if account is None or account.disabled or account.role != "admin":
            logger.warning("admin %s: logged in -> refused (account disabled or gone)", session.username)
            self.sessions.end_user(session.username)
            return None
        return session

    def page(self, handler: Page) -> Handler:
        """A GET for a logged-in admin; anyone else goes to the login page."""

        async def wrapped(request: web.Request) -> web.StreamResponse:
            session = self._admin_session(request)
            if session is None:
                expired = COOKIE in request.cookies
                raise web.HTTPSeeOther("/admin/login" + ("?expired=1" if expired else ""))
            self._lang(request, session)
            return await handler(request, session)

        return wrapped

    def action(self, handler: Page) -> Handler:
        """A POST for a logged-in admin whose form carries the session's CSRF token."""

        async def wrapped(request: web.Request) -> web.StreamResponse:
            session = self._admin_session(request)
            form = await request.post()
            token = form.get("csrf")
            if session is None or not session.csrf_ok(token if isinstance(token, str) else None):
                logger.warning("admin POST %s refused: no session or a wrong CSRF token", request.path)
                self._audit(request, session, "admin_csrf_refused", detail={"path": request.path})
                return web.Response(status=403, text="403: refused (log in again and use the form)")
            return await handler(request, session)

        return wrapped

    # --- login ---------------------------------------------------------------------

    async def login_form(self, request: web.Request) -> web.StreamResponse:
        now = time.time()
        session = self.sessions.get(request.cookies.get(COOKIE), now)
        if session is not None and session.username is not None:
            raise web.HTTPSeeOther("/admin")
        cookie = None
        if session is None:
            self.sessions.prune(now)  # idle login pages go here (and at the cap), not on a timer
            cookie, session = self.sessions.start(now)
        self._lang(request, session)
        message = "session_expired" if request.query.get("expired") else ""
        response = self._render(
            request, "login.html", session, {"error": text(session.lang, message) if message else ""}
        )
        if cookie is not None:
            self._set_cookie(request, response, cookie)
        return response

    async def login(self, request: web.Request) -> web.StreamResponse:
        now = time.time()
        cookie = request.cookies.get(COOKIE)
        session = self.sessions.get(cookie, now)
        form = await request.post()
        token = form.get("csrf")
        if session is None or not session.csrf_ok(token if isinstance(token, str) else None):
            # Forged, or a login page left open past the idle timeout: refused, and a fresh form.
            self._audit(request, None, "admin_csrf_refused", detail={"path": request.path})
            self.sessions.end(cookie)
            cookie, fresh = self.sessions.start(now, lang=session.lang if session else "ja")
            self._lang(request, fresh)
            error = {"error": text(fresh.lang, "csrf_refused")}
            response = self._render(request, "login.html", fresh, error, status=403)
            self._set_cookie(request, response, cookie)
            return response
        username, password = str(form.get("username", "")), str(form.get("password", ""))
        state = self._state(request)
        ip = state.client_ip(request)
        try:
            account = await state.auth.check(username, password, ip, now)
            if account.role != "admin":
                raise LoginRefused(403, "not_admin", "not an admin account")
        except LoginRefused as refused:
            self._audit(
                request, None, "admin_login_failed", detail={"admin": username, "reason": refused.error}
            )
            key = {"rate_limited": "login_limited", "locked": "login_disabled"}.get(
                refused.error, "login_failed"
            )
            status = 429 if refused.error == "rate_limited" else 401
            return self._render(
                request, "login.html", session, {"error": text(session.lang, key)}, status=status
            )
        # A new session: a cookie or CSRF token seen before the login is worth nothing now.
        self.sessions.end(cookie)
        new_cookie, admin = self.sessions.start(now, lang=session.lang, username=account.username)
        await _to_thread(state.accounts.touch_login, account.username, now)
        self._audit(request, admin, "admin_login")
        logger.info("admin %s: logged out -> logged in", account.username)
        response = web.HTTPSeeOther("/admin")
        self._set_cookie(request, response, new_cookie)
        raise response

    async def logout(self, request: web.Request, session: AdminSession) -> web.StreamResponse:
        self._audit(request, session, "admin_logout")
        self.sessions.end(request.cookies.get(COOKIE))
        response = web.HTTPSeeOther("/admin/login")
        response.del_cookie(COOKIE, path="/admin")
        raise response

    # --- overview ------------------------------------------------------------------

    async def overview(
        self, request: web.Request, session: AdminSession, error: str = ""
    ) -> web.StreamResponse:
        state = self._state(request)
        now = time.time()
        try:
            pairings = state.registry.live_pairings()
        except StoreUnavailable:  # the nodes table says so (its list comes from Redis too)
            pairings = []
        waiting, sessions = session_rows(pairings, now)
        limits = state.settings.limits()
        in_use = len(sessions)
        by_mode = Counter(row.mode for row in sessions)
        context = {
            "waiting": waiting,
            "sessions": sessions,
            "by_mode": by_mode,
            "in_use": in_use,
            "alarm": state.alarm_active,
            "limits": limits,
            "error": error,
            "nodes": await _node_rows(state, pairings),
        }
        return self._render(request, "overview.html", session, context, status=400 if error else 200)

    async def end_session(self, request: web.Request, session: AdminSession) -> web.StreamResponse:
        form = await request.post()
        pairing_id = str(form.get("id", ""))
        reason = str(form.get("reason", "")).strip()
        if not reason or len(reason) > _REASON_MAX:
            return await self.overview(request, session, text(session.lang, "reason_required"))
        state = self._state(request)
        now = time.time()
        pairing, effects = state.registry.end_by_admin(pairing_id, now)
        if pairing is None:
            raise web.HTTPSeeOther("/admin?done=session_gone")
        state.apply(effects, now)
        self._audit(
            request,
            session,
            "admin_session_ended",
            operator=pairing.operator,
            session_id=pairing.id,
            code=pairing.code,
            detail={"reason": reason, "phase": pairing.phase},
        )
        raise web.HTTPSeeOther("/admin?done=session_ended")

    # --- operators -----------------------------------------------------------------

    async def operators(
        self, request: web.Request, session: AdminSession, error: str = ""
    ) -> web.StreamResponse:
        state = self._state(request)
        accounts = await _to_thread(state.accounts.list, "operator")
        midnight = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
        started = await _to_thread(state.audit.rows, since=midnight, event="session_started")
        today = Counter(row.operator for row in started)
        context = {"accounts": accounts, "today": today, "error": error}
        return self._render(request, "operators.html", session, context, status=400 if error else 200)

    async def _account_change(
        self,
        request: web.Request,
        session: AdminSession,
        change: Callable[[Mapping[str, str]], tuple[str, str]],
    ) -> web.StreamResponse:
        """Run ``change`` (blocking: scrypt, SQLite) in a thread; it returns (what was done, whom).

        The audit row is written back on the loop, like every other."""
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        try:
            done, username = await _to_thread(change, form)
        except AccountError as exc:
            return await self.operators(request, session, f"{text(session.lang, 'invalid_value')}: {exc}")
        self._audit(request, session, f"admin_{done}", operator=username)
        raise web.HTTPSeeOther(f"/admin/operators?done={done}")

    async def add_operator(self, request: web.Request, session: AdminSession) -> web.StreamResponse:
        accounts = self._state(request).accounts

        def change(form: Mapping[str, str]) -> tuple[str, str]:
            username = form.get("username", "").strip()
            accounts.add(
                username, form.get("password", ""), form.get("display_name", ""), form.get("organisation", "")
            )
            return "operator_added", username

        return await self._account_change(request, session, change)

    def _operator(self, request: web.Request, username: str) -> str:
        account = self._state(request).accounts.get(username)
        if account is None or account.role != "operator":
            raise AccountError(f"no operator {username!r}")
        return username

    async def disable_operator(self, request: web.Request, session: AdminSession) -> web.StreamResponse:
        return await self._set_disabled(request, session, True)

    async def enable_operator(self, request: web.Request, session: AdminSession) -> web.StreamResponse:
        return await self._set_disabled(request, session, False)

    async def _set_disabled(
        self, request: web.Request, session: AdminSession, disabled: bool
    ) -> web.StreamResponse:
        accounts = self._state(request).accounts

        def change(form: Mapping[str, str]) -> tuple[str, str]:
            username = self._operator(request, form.get("username", ""))
            accounts.set_disabled(username, disabled)  # its sockets close within account_check_interval_s
            return ("operator_disabled" if disabled else "operator_enabled"), username

        return await self._account_change(request, session, change)

    async def reset_password(self, request: web.Request, session: AdminSession) -> web.StreamResponse:
        accounts = self._state(request).accounts

        def change(form: Mapping[str, str]) -> tuple[str, str]:
            username = self._operator(request, form.get("username", ""))
            accounts.set_password(username, form.get("password", ""))
            return "password_reset", username

        return await self._account_change(request, session, change)

    # --- audit ---------------------------------------------------------------------

    def _audit_filters(self, request: web.Request) -> dict[str, Any]:
        q = request.query
        return {
            "since": parse_when(q.get("from", "")),
            "until": parse_when(q.get("to", ""), end=True),
            "operator": q.get("operator", "").strip() or None,
            "event": q.get("event", "").strip() or None,
            "code": q.get("code", "").strip() or None,
        }

    async def audit(self, request: web.Request, session: AdminSession) -> web.StreamResponse:
        state = self._state(request)
        error = ""
        try:
            filters = self._audit_filters(request)
        except ValueError:
            filters, error = {}, text(session.lang, "bad_filter")
        rows = [] if error else await _to_thread(state.audit.rows, newest=_AUDIT_PAGE_ROWS, **filters)
        rows.reverse()
        form = {k: request.query.get(k, "") for k in ("from", "to", "operator", "event", "code")}
        context = {"rows": rows, "form": form, "query": request.query_string, "error": error}
        return self._render(request, "audit.html", session, context, status=400 if error else 200)

    async def audit_csv(self, request: web.Request, session: AdminSession) -> web.StreamResponse:
        state = self._state(request)
        try:
            filters = self._audit_filters(request)
        except ValueError:
            return web.Response(status=400, text=text(session.lang, "bad_filter"))
        rows = await _to_thread(state.audit.rows, **filters)
        self._audit(
            request,
            session,
            "admin_audit_exported",
            detail={"rows": len(rows), "filters": {k: v for k, v in filters.items() if v is not None}},
        )
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["id", "time", "event", "operator", "ip", "session_id", "code", "detail"])
        for row in rows:
            detail = ";".join(f"{k}={v}" for k, v in sorted(row.detail.items()))
            writer.writerow(
                [
                    row.id,
                    row.time,
                    row.event,
                    row.operator or "",
                    row.ip or "",
                    row.session_id or "",
                    row.code or "",
                    detail,
                ]
            )
        name = f"madoguchi-audit-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.csv"
        return web.Response(
            # A BOM, so that Excel reads the Japanese as UTF-8.
            body=("\ufeff" + out.getvalue()).encode(),
            headers={
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            },
        )

    # --- settings ------------------------------------------------------------------

    async def settings(
        self, request: web.Request, session: AdminSession, error: str = ""
    ) -> web.StreamResponse:
        settings = self._state(request).settings
        limits = settings.limits()
        terms = {lang: settings.terms(lang) for lang in ("ja", "en")}
        context = {
            "capacity": {key: getattr(limits, key) for key in CAPACITY_KEYS},
            "terms": terms,
            "versions": {lang: terms_version(t) for lang, t in terms.items()},
            "cobrowse": {f"cobrowse_{k}": v for k, v in settings.cobrowse_rules().items()},
            "branding": settings.branding(),
            "history": await _to_thread(settings.history),
            "error": error,
        }
        return self._render(request, "settings.html", session, context, status=400 if error else 200)

    async def _save(
        self, request: web.Request, session: AdminSession, values: Mapping[str, str | int]
    ) -> web.StreamResponse:
        state = self._state(request)
        changed = await _to_thread(state.settings.change, values, session.username or "", time.time())
        if not changed:
            raise web.HTTPSeeOther("/admin/settings?done=unchanged")
        state.registry.set_limits(state.settings.limits())
        detail: dict[str, Any] = {"keys": sorted(changed)}
        detail |= {k: int(v) for k, v in changed.items() if k in CAPACITY_KEYS}
        detail |= {f"{k}_version": terms_version(v) for k, v in changed.items() if k.startswith("terms_")}
        self._audit(request, session, "admin_settings_changed", detail=detail)
        raise web.HTTPSeeOther("/admin/settings?done=saved")

    async def save_capacity(self, request: web.Request, session: AdminSession) -> web.StreamResponse:
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        try:
            values = parse_capacity(form)
        except SettingsError as exc:
            return await self.settings(request, session, f"{text(session.lang, 'invalid_value')}: {exc}")
        return await self._save(request, session, values)

    async def save_terms(self, request: web.Request, session: AdminSession) -> web.StreamResponse:
        form = await request.post()
        try:
            values = {f"terms_{lang}": check_terms(str(form.get(lang, ""))) for lang in ("ja", "en")}
        except SettingsError as exc:
            return await self.settings(request, session, f"{text(session.lang, 'invalid_value')}: {exc}")
        return await self._save(request, session, values)

    async def save_cobrowse(self, request: web.Request, session: AdminSession) -> web.StreamResponse:
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        try:
            values = parse_cobrowse_rules(form)
        except SettingsError as exc:
            return await self.settings(request, session, f"{text(session.lang, 'invalid_value')}: {exc}")
        return await self._save(request, session, values)

    async def save_branding(self, request: web.Request, session: AdminSession) -> web.StreamResponse:
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        try:
            values = parse_branding(form)
        except SettingsError as exc:
            return await self.settings(request, session, f"{text(session.lang, 'invalid_value')}: {exc}")
        return await self._save(request, session, values)


@dataclasses.dataclass(frozen=True)
class NodeRow:
    """One live relay node in the overview: capacity used on it."""

    node: str
    connections: int
    sessions: int
    codes: int


async def _node_rows(state: Any, pairings: list[Pairing]) -> list[NodeRow] | None:
    """The live nodes (several nodes on Redis), or None with a single node's own store."""
    cluster: Cluster | None = state.cluster
    if cluster is None:
        return None
    try:
        infos = await cluster.nodes()
    except (RedisError, OSError):
        return []
    sessions: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    for p in pairings:
        here = {node_of(c) for c in (p.agent_conn, p.operator_conn) if c is not None}
        for node in here:
            (codes if p.phase in ("waiting", "issued") else sessions)[node] += 1
    return [NodeRow(i.node, i.connections, sessions[i.node], codes[i.node]) for i in infos]


async def _to_thread(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    import asyncio

    return await asyncio.to_thread(func, *args, **kwargs)
