"""The pages for coaches and internal coaches: sign-in, language, and the router that gathers every page.

``install_web(app)`` adds the pages and their static files to the application.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Response
from fastapi.staticfiles import StaticFiles

from okr_rollout.auth.caller import Role
from okr_rollout.texts import supported_locale
from okr_rollout.users import service as users
from okr_rollout.web import forms, i18n
from okr_rollout.web.client import router as client_router
from okr_rollout.web.coaching import router as coaching_router
from okr_rollout.web.context import (
    DEVICE_COOKIE,
    LOCALE_COOKIE,
    SESSION_COOKIE,
    FormDep,
    PostedFormDep,
    ReaderWebDep,
    Web,
    WebDep,
    WebRoute,
    check_csrf,
    page,
    redirect,
    safe_next,
    session_lifetime,
)
from okr_rollout.web.corrections import router as corrections_router
from okr_rollout.web.documents import router as documents_router
from okr_rollout.web.inbox import router as inbox_router
from okr_rollout.web.pages import router as pages_router
from okr_rollout.web.people import router as people_router
from okr_rollout.web.records import router as records_router
from okr_rollout.web.waves import router as waves_router

STATIC_DIR = Path(__file__).parent / "static"
LOCALE_COOKIE_SECONDS = 365 * 24 * 3600
DEVICE_COOKIE_SECONDS = users.DEVICE_COOKIE_DAYS * 24 * 3600

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def home_of(web: Web) -> str:
    if web.user is None:
        return "/sign-in"
    if web.user.role == Role.client.value:
        return "/me"
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
def sign_in(web: ReaderWebDep, posted: PostedFormDep) -> Response:
    """Sign in without holding a write transaction while the password is checked: the page was read in a unit
    of work that has ended; the throttle and the new session are each a short write of their own."""
    form = posted.data
    check_csrf(web, form)
    email = str(form.get("email") or "")
    target = safe_next(str(form.get("next") or ""), "")
    if posted.refused is not None:  # a NUL character: no one's address or password, and nothing to record
        return page(web, "sign_in.html", status=422, next=target, email=email, problem=None, retry_after=0,
                    errors=forms.from_problem(posted.refused, locale=web.locale).fields)
    settings = web.settings
    policy = users.SignInPolicy(settings.web_sign_in_account_failures, settings.web_sign_in_client_failures,
                                settings.web_sign_in_device_failures)
    with web.unit_of_work(write=False) as session:
        attempt = users.sign_in_attempt(session, email, web.client_address, web.request.cookies.get(DEVICE_COOKIE))
    with web.unit_of_work(write=True) as session:
        admission = users.admit(session, attempt, policy, web.now)
    if admission.refused:
        response = page(web, "sign_in.html", status=429, next=target, email=email,
                        problem="throttled_client" if admission.refused_by == "client" else "throttled",
                        retry_after=admission.retry_after, errors={})
        response.headers["Retry-After"] = str(admission.retry_after)
        return response
    verdict = users.check_password(attempt, str(form.get("password") or ""))
    if verdict.user is None:
        return page(web, "sign_in.html", status=401, next=target, email=email, problem="wrong", retry_after=0,
                    errors={})
    lifetime = session_lifetime(web.settings)
    with web.unit_of_work(write=True) as session:
        users.conclude_sign_in(session, admission, verdict)
        token = users.start_session(session, verdict.user, web.now, lifetime)
    web.user = verdict.user
    web.set_cookie(SESSION_COOKIE, token, int(lifetime.total_seconds()))
    web.set_cookie(DEVICE_COOKIE, users.device_cookie(verdict.user), DEVICE_COOKIE_SECONDS)
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
router.include_router(corrections_router)
router.include_router(documents_router)
router.include_router(coaching_router)
router.include_router(people_router)
router.include_router(inbox_router)
router.include_router(client_router)
router.include_router(waves_router)


def install_web(app: FastAPI) -> None:
    """Serve the pages and their static files (CSS, the small script) from ``app``."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
