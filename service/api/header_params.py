"""Optional string headers a hot route reads itself, documented and refused exactly as FastAPI's `Header()` would.

FastAPI solves each `Header()` parameter at some 18 us a request; reading `request.headers` costs next to nothing.
The route lists its headers in `openapi_extra` (`documented`), which FastAPI appends after the parameters it
derives itself, where it would have put the headers; a value over its length gives the 422 entry pydantic gives."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping


@dataclass(frozen=True)
class HeaderParam:
    name: str
    max_length: int

    def openapi(self) -> dict[str, Any]:
        return {"name": self.name, "in": "header", "required": False,
                "schema": {"anyOf": [{"type": "string", "maxLength": self.max_length}, {"type": "null"}],
                           "title": self.name}}

    def error(self, value: str | None) -> dict[str, Any] | None:
        if value is None or len(value) <= self.max_length:
            return None
        return {"loc": ["header", self.name], "msg": f"String should have at most {self.max_length} characters",
                "type": "string_too_long"}


def documented(*params: HeaderParam) -> dict[str, Any]:
    """The `openapi_extra` that documents the headers as `Header(alias=name, max_length=...)` parameters."""
    return {"parameters": [param.openapi() for param in params]}


def header_errors(params: tuple[HeaderParam, ...], headers: Mapping[str, str]) -> list[dict[str, Any]]:
    """The 422 entries for the headers over their length, in the order the route lists them."""
    return [error for error in (param.error(headers.get(param.name)) for param in params) if error is not None]
