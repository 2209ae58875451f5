"""Who is asking, and what their role and team let them see and do (checked in one place)."""
from __future__ import annotations

from dataclasses import dataclass

from events.i18n import phrase

ROLES = ("admin", "editor", "viewer")
ROLE_WORDS = {"admin": phrase("admin"), "editor": phrase("editor"), "viewer": phrase("viewer")}  # as pages name them


@dataclass(frozen=True)
class Principal:
    key_id: str
    name: str
    role: str
    team: str
    kind: str = "key"  # "key": key_id is an API key's id; "person": it is a person's id (service/people.py)

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.key_id}"

    @property
    def is_person(self) -> bool:
        return self.kind == "person"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def may_write(self) -> bool:
        return self.role in ("admin", "editor")

    @property
    def sees_personal_data(self) -> bool:
        return self.role in ("admin", "editor")

    def may_see(self, teams: tuple[str, ...] | list[str]) -> bool:
        return self.is_admin or self.team in teams


SYSTEM = Principal("system", "Vigil", "admin", "system")
