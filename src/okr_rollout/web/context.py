"""What every page handler gets: the unit of work, the signed-in user as a Caller, the language, the CSRF token;
and how pages answer: rendered HTML, redirects after POST, HTML error pages."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Coroutine
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from starlette.datastructures import FormData

from okr_rollout.api.deps import get_session, refuse_ids_out_of_range
from okr_rollout.auth.caller import Caller, Role
from okr_rollout.catalog.service import Catalog
from okr_rollout.db import session_scope
from okr_rollout.errors import RETRY_AFTER_SECONDS, ProblemError, not_found
from okr_rollout.notifications import inbox as notifications
from okr_rollout.settings import Settings
from okr_rollout.texts import LocalizedText, preferred_locale, supported_locale
from okr_rollout.users import service as users
from okr_rollout.web import forms, i18n
from okr_rollout.web.templating import render

if TYPE_CHECKING:  # the user, their person and their web session come from the users service
    from okr_rollout.models import Person, User, WebSession

SESSION_COOKIE = "okr_session"
CSRF_COOKIE = "okr_csrf"
LOCALE_COOKIE = "okr_locale"
DEVICE_COOKIE = "okr_device"
# What a person of a client organization, signed in by a link, may open; anything else is 404 to them.
CLIENT_PATHS = ("/me", "/link/", "/pulse/", "/inbox", "/settings", "/sign-out", "/sign-in", "/locale")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class SignInRequired(Exception):
    """The page needs a signed-in user: the answer is a redirect to the sign-in page."""


class CsrfRejected(Exception):
    """A form came without this browser's CSRF token."""


@dataclass
class Web:
    request: Request
    session: Session
    settings: Settings
    catalog: Catalog
    now: datetime
    user: User | None
    web_session: WebSession | None
    person: Person | None
    locale: str
    anonymous_csrf: str
    cookies: dict[str, tuple[str, int | None]] = field(default_factory=dict)

    @property
    def caller(self) -> Caller:
        if self.user is None:
            raise SignInRequired()
        return users.caller_of(self.user, self.person)

    @property
    def csrf(self) -> str:
        return self.web_session.csrf_token if self.web_session else self.anonymous_csrf

    @property
    def secure(self) -> bool:
        configured = self.settings.web_cookie_secure
        return configured if configured is not None else self.request.url.scheme == "https"

    def unit_of_work(self, *, write: bool) -> AbstractContextManager[Session]:
        """A unit of work of its own, for a handler that must not hold one open while it works (sign-in)."""
        return session_scope(self.request.app.state.session_factory, write=write)

    @property
    def client_address(self) -> str:
        return client_address(self.request, self.settings.web_trusted_proxies)

    def set_cookie(self, name: str, value: str, max_age: int | None = None) -> None:
        self.cookies[name] = (value, max_age)

    def apply(self, response: Response) -> Response:
        for name, (value, max_age) in self.cookies.items():
            if max_age == 0:
                response.delete_cookie(name, path="/", secure=self.secure, httponly=True, samesite="lax")
            else:
                response.set_cookie(name, value, max_age=max_age, path="/", secure=self.secure, httponly=True,
                                    samesite="lax")
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def _locale(request: Request, user: User | None, person: Person | None) -> str:
    for choice in (user.locale if user else None, person.locale if person else None,
                   request.cookies.get(LOCALE_COOKIE)):
        found = supported_locale(choice)
        if found:
            return found
    return preferred_locale(request.headers.get("accept-language")) or i18n.DEFAULT


# The unit of work ends (commits) when the handler returns, before the response leaves: the browser follows a
# redirect at once, and must find the change committed.
SessionForPage = Annotated[Session, Depends(get_session, scope="function")]


def get_web(request: Request, session: SessionForPage) -> Web:
    return _web(request, session)


def get_reader_web(request: Request) -> Web:
    """``get_web`` read in a unit of work that has ended when the handler starts: for a POST that must not begin
    with SQLite's write lock (sign-in checks a password first, then writes in short units of its own)."""
    with session_scope(request.app.state.session_factory, write=False) as session:
        return _web(request, session)


def _web(request: Request, session: Session) -> Web:
    refuse_ids_out_of_range(request)  # a page of an id no row can have: 404, as the API answers
    settings: Settings = request.app.state.settings
    clock: Callable[[], datetime] = request.app.state.clock
    now = clock()
    found = users.session_user(session, request.cookies.get(SESSION_COOKIE), now)
    web_session, user = found if found else (None, None)
    person = users.person_of(session, user)
    path = request.url.path
    if user is not None and user.role == Role.client.value and path != "/" and not path.startswith(CLIENT_PATHS):
        raise not_found(LocalizedText("page", "頁面"))  # a person signed in by a link sees their own page only
    locale = _locale(request, user, person)
    request.state.web_locale = locale
    anonymous = request.cookies.get(CSRF_COOKIE) or ""
    web = Web(request, session, settings, request.app.state.catalog, now, user, web_session, person, locale,
              anonymous or users.new_token())
    if not anonymous and web_session is None:
        web.set_cookie(CSRF_COOKIE, web.anonymous_csrf)
    return web


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(trusted_proxies: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(part.strip(), strict=False)
                 for part in trusted_proxies.split(",") if part.strip())


def client_address(request: Request, trusted_proxies: str) -> str:
    """The address the request came from: the connection's peer, unless the peer is a trusted proxy; then the
    nearest address in X-Forwarded-For that is no trusted proxy (what lies beyond it anyone could have written)."""
    peer = request.client.host if request.client else ""
    networks = _networks(trusted_proxies)
    hops = [peer] + [hop.strip() for hop in reversed(request.headers.get("x-forwarded-for", "").split(","))]
    for nearer, hop in pairwise(hops):
        if not _within(nearer, networks):
            return nearer
        if not hop or not _parses(hop):
            return nearer
    return hops[-1] if hops[-1] else peer


def _parses(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _within(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)


@dataclass(frozen=True)
class PostedForm:
    """A posted form, checked once for every page: ``refused`` is the 422 naming each field that carries the NUL
    character (stored by SQLite, refused by PostgreSQL), and then ``data`` shows each NUL as U+FFFD."""

    data: FormData
    refused: ProblemError | None


async def get_posted_form(request: Request) -> PostedForm:
    return PostedForm(*forms.nul_refusal(await request.form()))


def check_csrf(web: Web, form: FormData) -> None:
    if not users.same_token(web.csrf, str(form.get("csrf_token") or "")):
        raise CsrfRejected()


WebDep = Annotated[Web, Depends(get_web)]
ReaderWebDep = Annotated[Web, Depends(get_reader_web)]
PostedFormDep = Annotated[PostedForm, Depends(get_posted_form)]


def get_form(web: WebDep, posted: PostedFormDep) -> FormData:
    """The form of a page that has no field to show a refusal beside (buttons, hidden fields): refused whole, as
    an error page, once its CSRF token is checked (a forged form stays 403). A page with a form to show again
    takes ``PostedFormDep`` and shows ``refused`` itself."""
    if posted.refused is not None:
        check_csrf(web, posted.data)
        raise posted.refused
    return posted.data


FormDep = Annotated[FormData, Depends(get_form)]


def page(web: Web, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    unread = notifications.unread_count(web.session, web.person.id) if web.person is not None else 0
    html = render(template, web.locale, user=web.user, person=web.person, csrf=web.csrf,
                  here=_here(web.request), now=web.now, unread=unread, **context)
    return web.apply(HTMLResponse(html, status_code=status))  # type: ignore[return-value]


def redirect(web: Web, url: str) -> Response:
    return web.apply(RedirectResponse(url, status_code=303))


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path of this site: never another host (``//evil``, ``https://…``, backslashes)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def session_lifetime(settings: Settings) -> timedelta:
    return timedelta(hours=settings.web_session_hours)


class WebRoute(APIRoute):
    """A page route: errors become HTML pages (never a stack trace), a missing sign-in a redirect."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                target = quote(_here(request), safe="/?=&")
                return RedirectResponse(f"/sign-in?next={target}", status_code=303)
            except CsrfRejected:
                return _error_page(request, 403, "csrf")
            except ProblemError as error:
                return _error_page(request, error.status, "not_found" if error.status == 404 else "problem",
                                   error.localized)
            except (StaleDataError, IntegrityError):
                # Someone changed the same record at the same moment; the request's work was rolled back.
                return _error_page(request, 409, "problem")
            except OperationalError:
                return _error_page(request, 503, "unavailable")

        return route


def _error_page(request: Request, status: int, kind: str, detail: LocalizedText | None = None) -> HTMLResponse:
    locale = getattr(request.state, "web_locale", None) or preferred_locale(
        request.headers.get("accept-language")) or i18n.DEFAULT
    html = render("error.html", locale, user=None, person=None, csrf="", here=request.url.path, unread=0,
                  status=status, kind=kind, detail=detail.get(locale) if detail else "", now=None)
    response = HTMLResponse(html, status_code=status)
    if status == 503:  # the database is busy or unreachable: as the API says, come back shortly
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
