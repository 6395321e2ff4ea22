"""Domain errors, each carrying its HTTP status, rendered as RFC 9457 problem details.

Every problem says what went wrong in English and Traditional Chinese (``LocalizedText``): its ``title`` and its
``detail``, and the ``message`` of a field error when a service gives one. The body is written in one language,
the caller's (``body(locale=...)``); ``detail`` stays the English text for logs and the command line.
"""

from __future__ import annotations

from typing import Any

from okr_rollout.texts import DEFAULT_LOCALE, LocalizedText


def localized(value: Any, locale: str) -> Any:
    """``value`` with every ``LocalizedText`` inside it (dicts and lists walked) written in ``locale``."""
    if isinstance(value, LocalizedText):
        return value.get(locale)
    if isinstance(value, dict):
        return {key: localized(item, locale) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [localized(item, locale) for item in value]
    return value


class ProblemError(Exception):
    status: int = 400
    title: LocalizedText | str = LocalizedText("Bad request", "請求有誤")
    slug: str = "bad-request"

    def __init__(
        self,
        detail: LocalizedText | str,
        *,
        errors: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        # A plain string is a text that has no translation yet (a message from a library, a stored detail):
        # shown as it is in both languages rather than not at all.
        self.localized = detail if isinstance(detail, LocalizedText) else LocalizedText(detail or "-", detail or "-")
        super().__init__(self.localized.en)
        self.detail = self.localized.en
        self.errors = errors
        self.extra = extra or {}
        self.headers = headers or {}

    def text(self, locale: str) -> str:
        """The detail in ``locale``."""
        return self.localized.get(locale)

    def body(self, instance: str | None = None, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
        problem: dict[str, Any] = {
            "type": f"/problems/{self.slug}",
            # A title given as a plain string (a subclass not yet translated) is shown as it is.
            "title": self.title.get(locale) if isinstance(self.title, LocalizedText) else str(self.title),
            "status": self.status,
            "detail": self.localized.get(locale),
        }
        if instance:
            problem["instance"] = instance
        if self.errors is not None:
            problem["errors"] = localized(self.errors, locale)
        problem.update(localized(self.extra, locale))
        return problem


TOKEN_REQUIRED = LocalizedText("A valid bearer token is required.", "需要有效的 Bearer 權杖。")


class BadRequest(ProblemError):
    pass


class Unauthorized(ProblemError):
    status, title, slug = 401, LocalizedText("Unauthorized", "未授權"), "unauthorized"

    def __init__(self, detail: LocalizedText | None = None) -> None:
        super().__init__(detail or TOKEN_REQUIRED, headers={"WWW-Authenticate": 'Bearer realm="okr-rollout"'})


class Forbidden(ProblemError):
    """A resource the caller sees but may not act on (what the caller may not see is 404, never this)."""

    status, title, slug = 403, LocalizedText("Forbidden", "禁止存取"), "forbidden"


class NotFound(ProblemError):
    status, title, slug = 404, LocalizedText("Not found", "找不到"), "not-found"


class Conflict(ProblemError):
    status, title, slug = 409, LocalizedText("Conflict", "衝突"), "conflict"


class GateRefused(Conflict):
    title, slug = LocalizedText("Transition refused by its gate", "關卡拒絕了此轉換"), "gate-refused"


class PreconditionFailed(ProblemError):
    status, title, slug = 412, LocalizedText("Precondition failed", "前置條件不符"), "precondition-failed"


class PayloadTooLarge(ProblemError):
    status, title, slug = 413, LocalizedText("Payload too large", "內容過大"), "payload-too-large"


class Unprocessable(ProblemError):
    status, title, slug = 422, LocalizedText("Unprocessable content", "無法處理的內容"), "validation-error"


class ServiceUnavailable(ProblemError):
    status, title, slug = 503, LocalizedText("Service unavailable", "服務暫時無法使用"), "unavailable"


RETRY_AFTER_SECONDS = 2


def unavailable() -> ServiceUnavailable:
    """The database is locked, unreachable or out of free connections: a transient state the client retries."""
    problem = ServiceUnavailable(LocalizedText("The database is busy or unreachable; retry shortly.",
                                                "資料庫忙碌中或無法連線,請稍後再試。"))
    problem.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return problem


class UnsupportedMediaType(ProblemError):
    status, title, slug = 415, LocalizedText("Unsupported media type", "不支援的媒體類型"), "unsupported-media-type"


def not_found(thing: LocalizedText) -> NotFound:
    """404 for a ``thing`` that does not exist or that the caller may not see: said alike, so that the answer
    tells nothing about what another caller has."""
    return NotFound(LocalizedText(f"There is no such {thing.en}, or it is not visible to you.",
                                  f"找不到此{thing.zh_tw},或您沒有檢視權限。"))


def field_error(field: str, message: LocalizedText, rule: str) -> dict[str, Any]:
    """One entry of a problem's ``errors``: where (``body.name``), what (in both languages), and the rule's key."""
    return {"field": field, "message": message, "type": rule}
