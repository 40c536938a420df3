"""The channels that carry an alarm notice to a person: all behind one interface.

A channel either returns (the far end accepted the message) or raises
``ChannelError`` saying why not; retrying is the delivery worker's business.
"""

from __future__ import annotations

from typing import Protocol

import httpx

from fire_detect.domain.notify import AlarmNotice, sms_text, webhook_body

USER_AGENT = "yongchuan-fire-detect/0.1"


class ChannelError(Exception):
    """The message was not accepted; the text says why (it is kept on the record)."""


class NotificationChannel(Protocol):
    async def send(self, target: str, notice: AlarmNotice, *, delivery_id: int) -> None:
        """Deliver ``notice`` to ``target``; raise ChannelError when it was not accepted."""
        ...


def _refused(response: httpx.Response) -> ChannelError:
    excerpt = response.text[:200].replace("\n", " ")
    return ChannelError(f"HTTP {response.status_code} {response.reason_phrase}: {excerpt}".strip())


async def _post(client: httpx.AsyncClient, url: str, body: object, headers: dict[str, str]) -> None:
    try:
        response = await client.post(url, json=body, headers=headers)
    except httpx.TimeoutException as exc:
        raise ChannelError(f"timed out: {type(exc).__name__}") from exc
    except httpx.HTTPError as exc:
        raise ChannelError(f"{type(exc).__name__}: {exc}") from exc
    if not response.is_success:
        raise _refused(response)


class WebhookChannel:
    """POSTs the notice as JSON to the subscriber's URL; any 2xx answer means sent.

    The delivery id travels as ``Idempotency-Key``: a notice whose answer was lost is
    sent again, and the receiver can tell."""

    def __init__(self, client: httpx.AsyncClient, *, link_base: str) -> None:
        self._client = client
        self._link_base = link_base

    async def send(self, target: str, notice: AlarmNotice, *, delivery_id: int) -> None:
        body = webhook_body(notice, delivery_id=delivery_id, link=self._link_base + notice.alarm_id)
        headers = {
            "Idempotency-Key": f"fire-delivery-{delivery_id}",
            "User-Agent": USER_AGENT,
        }
        await _post(self._client, target, body, headers)


class SmsGatewayChannel:
    """Hands a one-segment text to an HTTP SMS gateway: ``POST {gateway}`` with
    ``{"to", "text", "reference"}`` and, if configured, a bearer token; 2xx means the
    gateway took it. Without a configured gateway every attempt fails, loudly."""

    def __init__(
        self, client: httpx.AsyncClient, *, gateway_url: str | None, token: str | None = None
    ) -> None:
        self._client = client
        self._gateway_url = gateway_url
        self._token = token

    async def send(self, target: str, notice: AlarmNotice, *, delivery_id: int) -> None:
        if not self._gateway_url:
            raise ChannelError("no SMS gateway is configured (CITY_FIRE_SMS_GATEWAY_URL)")
        headers = {"Idempotency-Key": f"fire-delivery-{delivery_id}", "User-Agent": USER_AGENT}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        body = {"to": target, "text": sms_text(notice), "reference": f"fire-delivery-{delivery_id}"}
        await _post(self._client, self._gateway_url, body, headers)
