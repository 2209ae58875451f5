"""Pure form handling for the dashboard: the fields of each event type, and form values into API bodies."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from events.catalogue import EVENT_TYPES
from events.event_names import FIELDS
from events.i18n import Phrase, Said, phrase
from notifications.channels import signal
from notifications.channels.registry import CHANNELS
from service.passwords import MAX_LENGTH, MIN_LENGTH

from .display import humanize, zone

FORM_LEVEL = "__all__"
WHOLE_NUMBER = re.compile(r"-?[0-9]{1,9}")  # str.isdigit() also takes '²', which int() refuses
PRECISIONS = ("exact", "day", "month", "year")


@dataclass(frozen=True)
class FormField:
    name: str  # the form's input name; nested fields are dotted: "person.name"
    label: str
    kind: str  # text | textarea | datetime | select | lines | integer | country | event_ref
    required: bool
    options: tuple[str, ...] = ()
    max_length: int | None = None
    hint: str = ""


def appendable_types() -> list[tuple[str, list[str]]]:
    """Event types a person may append through the form, grouped as in the catalogue."""
    groups: dict[str, list[str]] = {}
    for kind in EVENT_TYPES.values():
        if not kind.system_only and kind.name != "CaseOpened":
            groups.setdefault(kind.group, []).append(kind.name)
    return list(groups.items())


def _field(name: str, schema: dict[str, Any], required: bool, defs: dict[str, Any], prefix: str = ""
           ) -> list[FormField]:
    options = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    spec = options[0] if options else schema
    if "$ref" in spec:
        nested = defs[spec["$ref"].rsplit("/", 1)[-1]]
        return [f for sub, sub_schema in nested["properties"].items()
                for f in _field(sub, sub_schema, sub in nested.get("required", ()), defs, f"{prefix}{name}.")]
    words = FIELDS.get(name)
    label = Said(words) if words is not None else humanize(name)
    full = prefix + name
    if "enum" in spec:
        return [FormField(full, label, "select", required, tuple(spec["enum"]))]
    if spec.get("format") == "date-time":
        return [FormField(full, label, "datetime", required, )]
    if spec.get("format") == "uuid":
        return [FormField(full, label, "event_ref", required)]
    if spec.get("type") == "array":
        return [FormField(full, label, "lines", required, hint=Said(phrase("one per line")))]
    if spec.get("type") == "integer":
        return [FormField(full, label, "integer", required)]
    if spec.get("pattern") == "^[A-Za-z]{2}$":
        return [FormField(full, label, "country", required, max_length=2, hint=Said(phrase("two-letter country code, e.g. UZ")))]
    max_length = spec.get("maxLength")
    kind = "textarea" if name == "note" or (max_length or 0) > 300 else "text"
    return [FormField(full, label, kind, required, max_length=max_length)]


def event_fields(type_name: str) -> list[FormField]:
    """The data fields of one event type, from its schema; the free-text note comes last."""
    schema = EVENT_TYPES[type_name].model.model_json_schema()
    required = set(schema.get("required", ()))
    defs = schema.get("$defs", {})
    fields = [f for name, spec in schema["properties"].items() if name != "note"
              for f in _field(name, spec, name in required, defs)]
    return fields + _field("note", schema["properties"]["note"], False, defs)


def local_to_utc_iso(raw: str, tz: str) -> str:
    """A datetime-local value ('2026-11-22T14:30') read in the viewer's zone, as RFC 3339."""
    moment = datetime.fromisoformat(raw)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(tz))
    return moment.isoformat()


def _put(target: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[leaf] = value


def event_data(type_name: str, form: dict[str, str], tz: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The `data` of an event from form values, and errors for values that cannot even be read."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in event_fields(type_name):
        raw = form.get(field.name, "").strip()
        if field.name.startswith("person."):
            data.setdefault("person", {})
        if not raw:
            continue
        if field.kind == "datetime":
            try:
                _put(data, field.name, local_to_utc_iso(raw, tz))
            except ValueError:
                errors[field.name] = Said(NOT_A_MOMENT)
        elif field.kind == "lines":
            _put(data, field.name, [line.strip() for line in raw.splitlines() if line.strip()])
        elif field.kind == "integer":
            if WHOLE_NUMBER.fullmatch(raw):
                _put(data, field.name, int(raw))
            else:
                errors[field.name] = Said(NOT_A_NUMBER)
        elif field.kind == "country":
            _put(data, field.name, raw.upper())
        else:
            _put(data, field.name, raw)
    return data, errors


def event_body(type_name: str, form: dict[str, str], tz: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The JSON body POST /v1/cases/{id}/events would take, built from the append form."""
    data, errors = event_data(type_name, form, tz)
    body: dict[str, Any] = {"type": type_name, "data": data,
                            "date_precision": form.get("date_precision") or "exact"}
    occurred = form.get("occurred_at", "").strip()
    if not occurred:
        errors["occurred_at"] = Said(phrase("when it happened is required"))
    else:
        try:
            body["occurred_at"] = local_to_utc_iso(occurred, tz)
        except ValueError:
            errors["occurred_at"] = Said(NOT_A_MOMENT)
    source = {k: form.get(f"source_{k}", "").strip() for k in ("url", "title")}
    if any(source.values()):
        body["source"] = {k: v for k, v in source.items() if v}
    return body, errors


PATTERN_WORDS = (  # a fragment of a catalogue pattern -> what to tell a person
    ("https?", phrase("Use a link starting with http:// or https://")),
    ("[0-9a-f]{64}", phrase("Use the 64 hexadecimal characters of a SHA-256 digest")),
    ("[a-z0-9][a-z0-9_.-]", phrase("Use lower-case letters, digits, '.', '_' or '-', with no spaces")),
    ("[A-Za-z0-9][A-Za-z0-9_.-]", phrase("Use letters, digits, '.', '_' or '-', with no spaces")),
    ("[A-Za-z0-9_-]{16,256}", phrase("Use 16 to 256 letters, digits, '_' or '-'")),  # a Telegram webhook secret
    (r"[^\s\x00-\x1f\x7f]", phrase("Use no spaces or control characters")),  # a secret or token
)
VALUE_WORDS = {  # a model's own refusal, in English -> the same said in the reader's language
    "only a webhook channel can receive the log's checkpoints":
        phrase("only a webhook channel can receive the log's checkpoints"),
    # personal accounts (service/passwords.py, service/people.py)
    f"must be at least {MIN_LENGTH} characters long": phrase("must be at least %(count)s characters long",
                                                             count=MIN_LENGTH),
    f"must be at most {MAX_LENGTH} characters long": phrase("must be at most %(count)s characters long",
                                                            count=MAX_LENGTH),
    "is one of the most common passwords; choose another":
        phrase("is one of the most common passwords; choose another"),
    "must not be your name or email address": phrase("must not be your name or email address"),
    "the two passwords differ": phrase("the two passwords differ"),
    "this code is not the one your app shows now": phrase("this code is not the one your app shows now"),
    "no passkey was added; add one, or enter a code": phrase("no passkey was added; add one, or enter a code"),
    "a person with this name or email already exists": phrase("a person with this name or email already exists"),
    "email needs VIGIL_SMTP_HOST set": phrase("email needs VIGIL_SMTP_HOST set"),
    # the Signal channel's numbers (notifications/channels/signal.py)
    signal.NOT_A_NUMBER: phrase("must be a phone number in international form, like +49301234567"),
    signal.NOT_A_RECIPIENT: phrase("must be a phone number in international form, like +49301234567, or a group id "
                                   "(group.…)"),
}
NOT_A_MOMENT = phrase("not a date and time")
NOT_A_NUMBER = phrase("not a whole number")


def plain(error: dict[str, Any]) -> str:
    """A validation error as a sentence a person can act on, not the validator's wording; said in English, shown
    in the reader's language (a `Said`)."""
    words = _plain(error)
    return Said(words) if isinstance(words, Phrase) else words


def _plain(error: dict[str, Any]) -> Phrase | str:
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "missing":
        return phrase("This is required")
    if kind == "string_too_short":
        return phrase("This cannot be empty") if ctx.get("min_length") == 1 else \
            phrase("Use at least %(count)s characters", count=ctx.get("min_length"))
    if kind == "string_too_long":
        return phrase("Use at most %(count)s characters", count=ctx.get("max_length"))
    if kind in ("too_long", "too_short"):
        return phrase("Give at most %(count)s entries", count=ctx.get("max_length")) if kind == "too_long" \
            else phrase("Give at least one entry")
    if kind in ("literal_error", "enum"):
        return phrase("Choose one of %(options)s", options=str(ctx.get("expected"))) if ctx.get("expected") \
            else phrase("Choose one of the options")
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        return next((words for fragment, words in PATTERN_WORDS if fragment in pattern),
                    phrase("This is not in the expected form"))
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = str(next(iter(ctx.values()), ""))
        return phrase("Use a number no less than %(bound)s", bound=bound) if kind.startswith("greater") else \
            phrase("Use a number no more than %(bound)s", bound=bound)
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return phrase("Use a whole number")
    if kind.startswith(("datetime", "date_", "timezone")):
        return phrase("Use a date and time")
    if kind.startswith("uuid"):
        return phrase("Choose an event")
    if kind == "extra_forbidden":
        return phrase("This field is not part of this form")
    said = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return VALUE_WORDS.get(said, said)


def errors_by_field(detail: list[dict[str, Any]]) -> dict[str, str]:
    """API error details ({loc, msg}) keyed by form field: body.data.person.name -> person.name."""
    errors: dict[str, str] = {}
    for error in detail:
        loc = [str(p) for p in error.get("loc", [])]
        if loc[:1] == ["body"]:
            loc = loc[1:]
        if loc[:1] == ["data"]:
            loc = loc[1:]
        elif loc[:1] == ["source"]:
            loc = ["source_" + "_".join(loc[1:2])]
        loc = [p for p in loc if not p.isdigit()]  # an item of a list belongs to the list's field
        name = ".".join(loc) or FORM_LEVEL
        errors.setdefault(name, plain(error))
    return errors


def comma_list(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").replace("\n", ",").split(",") if part.strip()]


def validate(model: type[BaseModel], body: dict[str, Any], keyed=errors_by_field
             ) -> tuple[Any | None, dict[str, str]]:
    """The validated model, or errors keyed by form field (never echoing the input back)."""
    try:
        return model.model_validate(body), {}
    except ValidationError as exc:
        return None, keyed([{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"], "ctx": e.get("ctx")}
                            for e in exc.errors()])


def data_errors(model: type[BaseModel], data: dict[str, Any]) -> dict[str, str]:
    """Errors of an event's `data` keyed by form field, read as the API would place them (a field may be named
    `body`, as InterimMeasureGranted's is)."""
    return validate(model, data, lambda detail: errors_by_field(
        [{**error, "loc": ["body", "data", *error["loc"]]} for error in detail]))[1]


CHANNEL_KINDS = tuple(CHANNELS)
# Which kinds show each form input (the page hides the others), and the kinds an escalation can use: those whose
# required inputs the escalation's can give (a URL or email addresses); optional secrets do not count, and of them
# the escalation offers Slack's signing secret. A kind that needs more (a bot token and a chat) escalates through
# the API only.
KINDS_USING = {name: " ".join(k for k, entry in CHANNELS.items() if name in entry.form_fields)
               for name in dict.fromkeys(f for entry in CHANNELS.values() for f in entry.form_fields)}
# Email first: the form's default escalation is a person's inbox.
ESCALATION_KINDS = tuple(sorted(
    (k for k, entry in CHANNELS.items() if set(entry.form_fields) - set(entry.form_secrets) <= {"url", "to"}),
    key=lambda k: CHANNELS[k].transport != "smtp"))


def channel_body(kind: str, form: dict[str, str], prefix: str = "") -> dict[str, Any]:
    """A channel object from the subscription form's fields for that kind (names prefixed for escalation)."""
    channel: dict[str, Any] = {"kind": kind}
    entry = CHANNELS.get(kind)
    for name in entry.form_fields if entry else ():
        raw = form.get(prefix + name)
        if name in entry.form_secrets:
            if (raw or "").strip():
                channel[name] = raw.strip()
        else:
            channel[name] = comma_list(raw) if name in entry.form_lists else (raw or "").strip()
    return channel


def subscription_body(form: dict[str, str], event_types: list[str]) -> dict[str, Any]:
    """The JSON body POST /v1/subscriptions would take, built from the subscription form."""
    body: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "channel": channel_body(form.get("channel_kind", ""), form),
        "filter": {"countries": [c.upper() for c in comma_list(form.get("countries"))],
                   "tags": comma_list(form.get("tags")), "event_types": event_types},
        "include_personal_data": form.get("include_personal_data") == "on",
        "language": form.get("language") or "en",
        "log_checkpoints": form.get("log_checkpoints") == "on",
    }
    if form.get("min_severity"):
        body["filter"]["min_severity"] = form["min_severity"]
    if form.get("reminders", "").strip():
        body["reminders"] = [r.upper() for r in comma_list(form["reminders"])]
    if form.get("escalate_after", "").strip():
        body["escalate_after"] = form["escalate_after"].strip().upper()
        body["escalate_to"] = channel_body(form.get("escalate_kind", ""), form, "escalate_")
    return body


def subscription_errors(detail: list[dict[str, Any]]) -> dict[str, str]:
    """Subscription validation errors keyed by the form's input names."""
    errors: dict[str, str] = {}
    for error in detail:
        loc = [str(p) for p in error.get("loc", []) if not str(p).isdigit()]
        if loc[:1] == ["body"]:
            loc = loc[1:]
        if loc[:1] in (["channel"], ["escalate_to"]):
            prefix = "" if loc[0] == "channel" else "escalate_"
            rest = [p for p in loc[1:] if p not in CHANNEL_KINDS]  # a tagged union names the kind in loc
            loc = [prefix + rest[0]] if rest and rest[0] != "kind" else [prefix + ("channel_kind" if not prefix
                                                                                   else "kind")]
        elif loc[:1] == ["filter"]:
            loc = loc[1:2] or [FORM_LEVEL]
        name = ".".join(loc) or FORM_LEVEL
        errors.setdefault(name, plain(error))
    return errors


def case_body(form: dict[str, str], tz: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The JSON body POST /v1/cases would take, built from the new-case form."""
    errors: dict[str, str] = {}
    person: dict[str, Any] = {"name": form.get("name", "").strip(),
                              "aliases": [a.strip() for a in form.get("aliases", "").splitlines() if a.strip()]}
    birth_year = form.get("birth_year", "").strip()
    if birth_year:
        if WHOLE_NUMBER.fullmatch(birth_year):
            person["birth_year"] = int(birth_year)
        else:
            errors["person.birth_year"] = Said(NOT_A_NUMBER)
    if form.get("nationality", "").strip():
        person["nationality"] = form["nationality"].strip().upper()
    body: dict[str, Any] = {"person": person, "country": form.get("country", "").strip().upper(),
                            "tags": [t.lower() for t in comma_list(form.get("tags"))],
                            "date_precision": form.get("date_precision") or "exact"}
    for name in ("origin_country", "summary", "timezone"):
        value = form.get(name, "").strip()
        if value:
            body[name] = value.upper() if name == "origin_country" else value
    occurred = form.get("occurred_at", "").strip()
    if occurred:
        try:
            body["occurred_at"] = local_to_utc_iso(occurred, tz)
        except ValueError:
            errors["occurred_at"] = Said(NOT_A_MOMENT)
    return body, errors
