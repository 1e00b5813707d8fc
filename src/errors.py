"""Domain errors, independent of GraphQL.

Services raise these; the GraphQL layer turns them into `UserError` data in one place.

    OutboundqlError
    ├── NotFound        a row that does not exist *or* belongs to a project the viewer cannot see
    ├── Forbidden       the viewer sees the row but their role does not allow the change
    ├── ProjectArchived the project is archived: read-only until unarchived
    ├── Conflict        the change collides with existing data
    ├── Unavailable     the server is not set up for what was asked (e.g. no LLM configured)
    └── InvalidInput    one or more fields are wrong (carries every issue at once)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem with a request: a machine-readable code, the input field, and a sentence for people."""

    code: str
    message: str
    field: str | None = None


class OutboundqlError(Exception):
    """Base class of every error a user can cause. ``code`` is the `UserErrorCode` name."""

    code = "INVALID"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def issues(self) -> list[Issue]:
        return [Issue(self.code, self.message, self.field)]

    @property
    def extensions(self) -> dict[str, object]:
        """Shown with the error when it surfaces from a query (mutations return it as data)."""
        return {"code": self.code, "field": self.field}


class NotFound(OutboundqlError):
    code = "NOT_FOUND"

    def __init__(self, what: str, *, field: str | None = None) -> None:
        super().__init__(f"{what} not found.", field=field)


class Forbidden(OutboundqlError):
    code = "FORBIDDEN"


class ProjectArchived(OutboundqlError):
    code = "PROJECT_ARCHIVED"

    def __init__(self, *, field: str | None = None) -> None:
        super().__init__("This project is archived and read-only: an admin can unarchive it "
                         "(unarchiveProject) to change it again.", field=field)


class Conflict(OutboundqlError):
    code = "CONFLICT"


class Unavailable(OutboundqlError):
    code = "UNAVAILABLE"


class InvalidInput(OutboundqlError):
    """Collects several validation issues so a form can show them all at once."""

    code = "INVALID"

    def __init__(self, message: str = "", *, field: str | None = None, issues: list[Issue] | None = None) -> None:
        self._issues = list(issues or [])
        if message:
            self._issues.insert(0, Issue(self.code, message, field))
        super().__init__(message or "; ".join(i.message for i in self._issues), field=field)

    def issues(self) -> list[Issue]:
        return list(self._issues)


class Collector:
    """Accumulate validation issues, then raise them together.

    Example:
        check = Collector()
        if not name: check.add("name", "Name is required.")
        check.raise_if_any()
    """

    def __init__(self) -> None:
        self.items: list[Issue] = []

    def add(self, field: str | None, message: str, code: str = "INVALID") -> None:
        self.items.append(Issue(code, message, field))

    def raise_if_any(self) -> None:
        if self.items:
            raise InvalidInput(issues=self.items)
