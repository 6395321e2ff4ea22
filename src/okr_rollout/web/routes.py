"""The pages for coaches and internal coaches: sign-in, language, and the router that gathers every page.

``install_web(app)`` adds the pages and their static files to the application.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi import APIRouter, FastAPI, Response
from fastapi.staticfiles import StaticFiles

from okr_rollout.auth.caller import Role
from okr_rollout.texts import supported_locale
from okr_rollout.users import service as users
from okr_rollout.web import forms, i18n
from okr_rollout.web.context import (
    LOCALE_COOKIE,
    SESSION_COOKIE,
    FormDep,
    PostedFormDep,
    Web,
    WebDep,
    WebRoute,
    check_csrf,
    page,
    redirect,
    safe_next,
    session_lifetime,
)
from okr_rollout.web.documents import router as documents_router
from okr_rollout.web.pages import router as pages_router
from okr_rollout.web.records import router as records_router

STATIC_DIR = Path(__file__).parent / "static"
LOCALE_COOKIE_SECONDS = 365 * 24 * 3600

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def home_of(web: Web) -> str:
    if web.user is None:
        return "/sign-in"
    return "/readiness" if web.user.role == Role.internal_coach.value else "/portfolio"


@router.get("/")
def home(web: WebDep) -> Response:
    return redirect(web, home_of(web))


@router.get("/sign-in")
def sign_in_page(web: WebDep, next: str | None = None) -> Response:
    if web.user is not None:
        return redirect(web, safe_next(next, home_of(web)))
    return page(web, "sign_in.html", next=safe_next(next, ""), email="", problem=None, retry_after=0, errors={})


@router.post("/sign-in")
def sign_in(web: WebDep, posted: PostedFormDep) -> Response:
    form = posted.data
    check_csrf(web, form)
    email = str(form.get("email") or "")
    target = safe_next(str(form.get("next") or ""), "")
    if posted.refused is not None:  # a NUL character: no one's address or password, and nothing to record
        return page(web, "sign_in.html", status=422, next=target, email=email, problem=None, retry_after=0,
                    errors=forms.from_problem(posted.refused).fields)
    throttle = users.Throttle(web.settings.web_sign_in_max_failures,
                              timedelta(seconds=web.settings.web_sign_in_window_seconds))
    result = users.sign_in(web.session, email, str(form.get("password") or ""), web.now, throttle)
    if result.user is None:
        status, problem = (429, "throttled") if result.throttled else (401, "wrong")
        response = page(web, "sign_in.html", status=status, next=target, email=email, problem=problem,
                        retry_after=result.retry_after, errors={})
        if result.throttled:
            response.headers["Retry-After"] = str(result.retry_after)
        return response
    lifetime = session_lifetime(web.settings)
    token = users.start_session(web.session, result.user, web.now, lifetime)
    web.user = result.user
    web.set_cookie(SESSION_COOKIE, token, int(lifetime.total_seconds()))
    return redirect(web, target or home_of(web))


@router.post("/sign-out")
def sign_out(web: WebDep, form: FormDep) -> Response:
    check_csrf(web, form)
    users.end_session(web.session, web.request.cookies.get(SESSION_COOKIE))
    web.set_cookie(SESSION_COOKIE, "", 0)
    return redirect(web, "/sign-in")


@router.post("/locale")
def switch_locale(web: WebDep, form: FormDep) -> Response:
    """Choose the pages' language: kept for the user (every browser) and in a cookie (the sign-in page too)."""
    check_csrf(web, form)
    chosen = supported_locale(str(form.get("locale") or "")) or i18n.DEFAULT
    if web.user is not None:
        users.set_locale(web.session, web.user, chosen)
    web.set_cookie(LOCALE_COOKIE, chosen, LOCALE_COOKIE_SECONDS)
    return redirect(web, safe_next(str(form.get("next") or ""), home_of(web)))


router.include_router(pages_router)
router.include_router(records_router)
router.include_router(documents_router)


def install_web(app: FastAPI) -> None:
    """Serve the pages and their static files (CSS, the small script) from ``app``."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
