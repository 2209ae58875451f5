"""The errors the services raise, each carrying what it is about; service/app.py turns each into its answer."""
from __future__ import annotations

from typing import Any, Literal

Missing = Literal["case", "alert", "subscription", "delivery", "person", "calendar link"]


class InputError(Exception):
    """Bad input, reported as 422 with a `detail` list naming each field."""

    def __init__(self, detail: list[dict[str, Any]]):
        super().__init__(detail)
        self.detail = detail


class NotFound(Exception):
    """A `what` that does not exist or that the caller may not see (the two look the same to the caller).

    `ids` are what was asked for; `named` when the answer should list them (a bulk request, where the caller
    needs to know which of its ids were refused)."""

    def __init__(self, what: Missing, *ids: str, named: bool = False):
        super().__init__(f"{what} not found: {', '.join(ids)}")
        self.what, self.ids, self.named = what, ids, named


class Unauthorized(Exception):
    """A callback from outside (a chat service's button click) whose signature, secret or freshness does not
    hold, or that was already acted on: nothing was done; the message says which check failed."""


class Forbidden(Exception):
    """The caller may not do this, whatever the input; the message says why."""


class Conflict(Exception):
    """The thing exists but is not in a state that allows this; the message says which state is needed."""


class NotYetRecorded(Exception):
    """A look back to before the case's first record: there is no state to show, not an empty one."""


class AlreadyErased(Exception):
    """The case's personal data was erased before; `case_id` names the case."""

    def __init__(self, case_id: str):
        super().__init__(case_id)
        self.case_id = case_id
