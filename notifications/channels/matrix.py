"""Matrix: PUT an m.room.message with the delivery id as transaction id, so a retry never posts twice."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import quote

from pydantic import StringConstraints

from ..message import AlertMessage
from .base import ChannelKind, HttpRequest, html_escape, json_request, render_text
from .config import ChannelSettings, HttpUrlText, Secret


class MatrixChannel(ChannelSettings):
    kind: Literal["matrix"]
    homeserver: HttpUrlText
    room_id: Annotated[str, StringConstraints(pattern=r"^[!#][^:\s\x00-\x1f\x7f]+:[^\s\x00-\x1f\x7f]+$",
                                              max_length=300)]
    access_token: Secret


def render(channel: MatrixChannel, message: AlertMessage, secret: str, now: datetime) -> HttpRequest:
    plain = render_text(message, str, lambda url, label: url, 30000)
    formatted = render_text(message, html_escape, lambda url, label: f'<a href="{html_escape(url)}">{label}</a>',
                            30000).replace("\n", "<br>")
    url = (f"{channel.homeserver.rstrip('/')}/_matrix/client/v3/rooms/{quote(channel.room_id, safe='')}"
           f"/send/m.room.message/{quote(message.delivery_id, safe='')}")
    payload = {"msgtype": "m.text", "body": plain, "format": "org.matrix.custom.html", "formatted_body": formatted}
    return json_request("PUT", url, payload, {"authorization": f"Bearer {channel.access_token}"},
                        secret_parts=(channel.access_token,))


KIND = ChannelKind("matrix", MatrixChannel, render, url_fields=("homeserver",), shown_fields=("room_id",),
                   form_fields=("homeserver", "room_id", "access_token"))
