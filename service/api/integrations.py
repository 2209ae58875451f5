"""Callbacks from chat services (button clicks): authenticated by their own signatures, not by an API key."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from service.container import Container

from .deps import container

router = APIRouter(prefix="/integrations", tags=["integrations"])


@router.post("/slack/actions", status_code=200)
async def slack_actions(request: Request, box: Container = Depends(container)) -> Response:
    """A click on a Slack message's Acknowledge button (form field `payload`), signed with the Slack app's signing
    secret (`X-Slack-Signature`, `X-Slack-Request-Timestamp`); 401 if unsigned, stale or replayed, 404 for an
    alert the subscription's team may not see."""
    await box.chat_actions.slack_click(await request.body(), request.headers.get("x-slack-request-timestamp"),
                                       request.headers.get("x-slack-signature"))
    return Response(status_code=200)


@router.post("/telegram/{subscription_id}", status_code=200)
async def telegram_update(subscription_id: str, request: Request, box: Container = Depends(container)) -> Response:
    """A Telegram update for this subscription's bot, carrying its webhook secret in
    `X-Telegram-Bot-Api-Secret-Token`; a press on an Acknowledge button acknowledges the alert."""
    await box.chat_actions.telegram_update(subscription_id, await request.body(),
                                           request.headers.get("x-telegram-bot-api-secret-token"))
    return Response(status_code=200)
