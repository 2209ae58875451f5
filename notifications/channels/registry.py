"""The channel registry: every kind, from the entry its module contributes, and the settings union they make."""
from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import Field

from . import discord, email, matrix, mattermost, signal, slack, teams, telegram, webhook
from .base import ChannelKind

# A new channel is one module with a `KIND` entry, added here; this order is the API schema's and the forms'.
CHANNELS: dict[str, ChannelKind] = {m.KIND.name: m.KIND for m in (
    webhook, slack, mattermost, teams, discord, matrix, telegram, signal, email)}
KINDS = tuple(CHANNELS)

Channel = Annotated[Union[tuple(kind.model for kind in CHANNELS.values())], Field(discriminator="kind")]


def url_fields(channel: Any) -> tuple[str, ...]:
    """The names of the receiver URLs a channel model carries (none for no channel)."""
    return CHANNELS[channel.kind].url_fields if channel is not None else ()
