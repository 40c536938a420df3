"""Notification rules: targets, masks, retries, and what a notice says."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from city_common.events.schemas import FireAlarmStatus
from fire_detect.adapters.channels import ChannelError, SmsGatewayChannel, WebhookChannel
from fire_detect.domain.notify import (
    SMS_SEGMENT_CHARS,
    AlarmNotice,
    Channel,
    DeliveryStatus,
    InvalidTarget,
    RetryPolicy,
    mask_target,
    normalise_mobile,
    normalise_target,
    normalise_webhook_url,
    sms_text,
    webhook_body,
)

NOTICE = AlarmNotice(
    alarm_id="fa-0123456789abcdef",
    status=FireAlarmStatus.RAISED,
    kind="reported",
    lon=105.930123,
    lat=29.350234,
    uncertainty_m=100.0,
    danger_level=4,
    at=datetime(2026, 3, 14, 7, 2, 30, tzinfo=UTC),
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("0086-199-0000-1111", "19900001111"),
    ],
)
def test_mobile_numbers_are_normalised(raw: str, expected: str) -> None:
    assert normalise_mobile(raw) == expected


@pytest.mark.parametrize("raw", ["1381234567", "12812345678", "023-49876543", "abc", ""])
def test_what_is_not_a_mobile_number_is_refused(raw: str) -> None:
    with pytest.raises(InvalidTarget, match="mobile"):
        normalise_mobile(raw)


def test_webhook_urls_must_be_absolute_http_without_credentials() -> None:
    assert normalise_webhook_url(" https://hooks.example.cn/fire?k=1 ") == (
        "https://hooks.example.cn/fire?k=1"
    )
    for bad, reason in (
        ("ftp://example.cn/x", "http"),
        ("https:///no-host", "host"),
        ("https://user:secret@example.cn/x", "password"),
        ("http://example.cn:99999/x", "URL"),
        ("http://example.cn/x#part", "fragment"),
        ("http://example.cn/" + "a" * 2000, "2000"),
    ):
        with pytest.raises(InvalidTarget, match=reason):
            normalise_webhook_url(bad)


def test_the_channel_decides_which_target_is_valid() -> None:
    assert normalise_target(Channel.SMS, "13812345678") == "13812345678"
    with pytest.raises(InvalidTarget):
        normalise_target(Channel.SMS, "https://example.cn/hook")
    with pytest.raises(InvalidTarget):
        normalise_target(Channel.WEBHOOK, "13812345678")


def test_targets_are_masked_for_responses() -> None:
    assert mask_target(Channel.SMS, "13812345678") == "138****5678"
    assert mask_target("webhook", "https://hooks.example.cn/t/SECRET?k=2") == (
        "https://hooks.example.cn/***"
    )
    assert mask_target("webhook", "http://127.0.0.1:8080") == "http://127.0.0.1:8080/"


def test_retries_back_off_exponentially_up_to_a_cap_then_give_up() -> None:
    policy = RetryPolicy(
        max_attempts=5, base_delay=timedelta(seconds=2), max_delay=timedelta(seconds=10), jitter=0
    )
    assert [policy.delay_after(n).total_seconds() for n in range(1, 6)] == [2, 4, 8, 10, 10]
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert policy.after_failure(1, now) == (DeliveryStatus.FAILED, now + timedelta(seconds=2))
    assert policy.after_failure(4, now) == (DeliveryStatus.FAILED, now + timedelta(seconds=10))
    assert policy.after_failure(5, now) == (DeliveryStatus.GAVE_UP, None)
    # A huge attempt count does not overflow.
    assert policy.delay_after(10_000) == timedelta(seconds=10)
    with pytest.raises(ValueError, match="jitter"):
        RetryPolicy(jitter=1.0)
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="base_delay"):
        RetryPolicy(base_delay=timedelta(seconds=10), max_delay=timedelta(seconds=1))


def test_the_sms_text_is_one_segment_of_chinese_in_local_time() -> None:
    text = sms_text(NOTICE)
    # 07:02 UTC is 15:02 in Chongqing.
    assert text == "【永川林火】新火警 fa-0123456789abcdef 105.9301E,29.3502N 危险4级 03-14 15:02"
    for status in FireAlarmStatus:
        longest = AlarmNotice(**{**_fields(NOTICE), "status": status, "lon": -179.99999})
        assert len(sms_text(longest)) <= SMS_SEGMENT_CHARS, sms_text(longest)
    odd = AlarmNotice(**{**_fields(NOTICE), "alarm_id": "fa-" + "x" * 60})
    cut = sms_text(odd)
    assert len(cut) == SMS_SEGMENT_CHARS and cut.endswith("…")


def test_notices_survive_the_database_round_trip_and_make_the_webhook_body() -> None:
    stored = json.loads(json.dumps(NOTICE.to_json()))
    assert AlarmNotice.from_json(stored) == NOTICE
    body = webhook_body(NOTICE, delivery_id=7, link="https://city/alarms/fa-0123456789abcdef")
    assert body["location"] == {"type": "Point", "coordinates": [105.930123, 29.350234]}
    assert body["status"] == "raised" and body["danger_level"] == 4
    assert body["delivery_id"] == 7 and body["at"] == "2026-03-14T07:02:30+00:00"
    assert body["text"] == sms_text(NOTICE)


async def test_the_sms_gateway_gets_the_text_and_refusals_become_channel_errors() -> None:
    seen: list[httpx.Request] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if (
            request.url.host == "hook.test"
            or json.loads(request.content).get("to") == "13900000000"
        ):
            return httpx.Response(503, text="busy")
        return httpx.Response(202, json={"queued": True})

    async with httpx.AsyncClient(transport=httpx.MockTransport(gateway)) as client:
        sms = SmsGatewayChannel(client, gateway_url="http://sms.test/send", token="t0k")
        await sms.send("13812345678", NOTICE, delivery_id=3)
        with pytest.raises(ChannelError, match="HTTP 503"):
            await sms.send("13900000000", NOTICE, delivery_id=4)
        with pytest.raises(ChannelError, match="no SMS gateway"):
            await SmsGatewayChannel(client, gateway_url=None).send(
                "13812345678", NOTICE, delivery_id=5
            )
        hook = WebhookChannel(client, link_base="https://city/alarms/")
        with pytest.raises(ChannelError, match="HTTP 503"):
            await hook.send("http://hook.test/x", NOTICE, delivery_id=4)
    first = seen[0]
    assert str(first.url) == "http://sms.test/send"
    assert first.headers["authorization"] == "Bearer t0k"
    assert first.headers["idempotency-key"] == "fire-delivery-3"
    assert json.loads(first.content) == {
        "to": "13812345678",
        "text": sms_text(NOTICE),
        "reference": "fire-delivery-3",
    }
    # The unconfigured gateway made no request.
    assert [r.url.host for r in seen] == ["sms.test", "sms.test", "hook.test"]


def _fields(notice: AlarmNotice) -> dict[str, object]:
    return {name: getattr(notice, name) for name in AlarmNotice.__slots__}


def test_retries_of_one_alarm_spread_out_but_each_is_reproducible() -> None:
    policy = RetryPolicy(base_delay=timedelta(seconds=8), max_delay=timedelta(minutes=10))
    waits = [policy.delay_after(3, key=str(delivery)) for delivery in range(22)]
    # Between half and all of the 32 s backoff, at 22 different points.
    assert all(timedelta(seconds=16) <= w <= timedelta(seconds=32) for w in waits)
    assert len(set(waits)) == 22
    assert max(waits) - min(waits) > timedelta(seconds=8)
    # The same delivery and attempt wait the same; the next attempt waits longer.
    assert policy.delay_after(3, key="7") == waits[7]
    assert policy.delay_after(4, key="7") > waits[7]
