"""Domain errors. Services raise them; `portal.error_pages` maps them to pages and problem documents."""

from __future__ import annotations

from collections.abc import Mapping


class HearkenError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title


class Unauthorized(HearkenError):
    status = 401
    title = "Sign-in required"


class Forbidden(HearkenError):
    status = 403
    title = "Forbidden"


class NotFound(HearkenError):
    status = 404
    title = "Not found"


class Conflict(HearkenError):
    status = 409
    title = "Conflict"


class RateLimited(HearkenError):
    status = 429
    title = "Too many requests"

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(detail or f"Too many requests; try again in {retry_after} seconds.")
        self.retry_after = retry_after


class Invalid(HearkenError):
    """Validation failed; `errors` maps each bad field to what is wrong with it, all at once."""

    status = 422
    title = "Invalid input"

    def __init__(self, errors: Mapping[str, str], detail: str | None = None) -> None:
        self.errors = dict(errors)
        super().__init__(detail or "; ".join(f"{k}: {v}" for k, v in self.errors.items()))


class Errors:
    """Collects field errors so a form reports every problem in one answer."""

    def __init__(self) -> None:
        self._errors: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self._errors.setdefault(field, message)

    def __bool__(self) -> bool:
        return bool(self._errors)

    def raise_if_any(self) -> None:
        if self._errors:
            raise Invalid(self._errors)
