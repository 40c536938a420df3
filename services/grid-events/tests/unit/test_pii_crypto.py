"""Pseudonyms, envelope encryption with key rotation, and the PII key settings."""

from __future__ import annotations

import base64
import os

import pytest
from pydantic import ValidationError

from grid_events.adapters.crypto import PiiCipher, PiiCiphertextInvalid, PiiKeyUnavailable
from grid_events.config import DEV_PII_ENCRYPTION_KEY, DEV_PII_HMAC_KEY, Settings


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def cipher(keys: dict[str, bytes], active: str, hmac_key: bytes = b"h" * 32) -> PiiCipher:
    return PiiCipher(hmac_key=hmac_key, encryption_keys=keys, active_key_id=active)


K1, K2 = os.urandom(32), os.urandom(32)
NUMBER = "11010519491231002X"


def test_pseudonyms_are_keyed_stable_and_separated_by_purpose() -> None:
    a = cipher({"k1": K1}, "k1", hmac_key=b"a" * 32)
    b = cipher({"k1": K1}, "k1", hmac_key=b"b" * 32)
    assert a.pseudonym("resident_id", NUMBER) == a.pseudonym("resident_id", NUMBER)
    assert len(a.pseudonym("resident_id", NUMBER)) == 32
    assert a.pseudonym("resident_id", NUMBER) != b.pseudonym("resident_id", NUMBER)
    assert a.pseudonym("resident_id", NUMBER) != a.pseudonym("phone", NUMBER)


def test_fingerprints_ignore_key_order_but_not_values() -> None:
    c = cipher({"k1": K1}, "k1")
    assert c.fingerprint("r", {"a": 1, "b": "张三"}) == c.fingerprint("r", {"b": "张三", "a": 1})
    assert c.fingerprint("r", {"a": 1, "b": "张三"}) != c.fingerprint("r", {"a": 1, "b": "张四"})


def test_encryption_round_trip_with_a_fresh_nonce_each_time() -> None:
    c = cipher({"k1": K1}, "k1")
    one, two = c.encrypt(NUMBER, context=b"ctx"), c.encrypt(NUMBER, context=b"ctx")
    assert one != two, "a random nonce per value"
    assert NUMBER.encode() not in one
    assert c.decrypt(one, context=b"ctx") == c.decrypt(two, context=b"ctx") == NUMBER
    assert PiiCipher.key_id_of(one) == "k1"


def test_the_context_binds_a_ciphertext_to_its_place() -> None:
    c = cipher({"k1": K1}, "k1")
    sealed = c.encrypt(NUMBER, context=b"resident:aaa")
    with pytest.raises(PiiCiphertextInvalid):
        c.decrypt(sealed, context=b"resident:bbb")


@pytest.mark.parametrize("where", [0, 1, 5, 20, -1])
def test_any_tampering_is_detected(where: int) -> None:
    c = cipher({"k1": K1}, "k1")
    sealed = bytearray(c.encrypt(NUMBER, context=b"x"))
    sealed[where] ^= 0x01
    with pytest.raises((PiiCiphertextInvalid, PiiKeyUnavailable)):
        c.decrypt(bytes(sealed), context=b"x")


def test_truncated_envelopes_are_refused() -> None:
    c = cipher({"k1": K1}, "k1")
    sealed = c.encrypt(NUMBER, context=b"x")
    for cut in (0, 1, 3, len(sealed) - 17):
        with pytest.raises(PiiCiphertextInvalid):
            c.decrypt(sealed[:cut], context=b"x")


def test_keys_rotate_old_ciphertexts_still_open() -> None:
    before = cipher({"k1": K1}, "k1")
    old = before.encrypt(NUMBER, context=b"x")
    after = cipher({"k1": K1, "k2": K2}, "k2")
    new = after.encrypt(NUMBER, context=b"x")
    assert PiiCipher.key_id_of(new) == "k2"
    assert after.decrypt(old, context=b"x") == after.decrypt(new, context=b"x") == NUMBER
    retired = cipher({"k2": K2}, "k2")
    with pytest.raises(PiiKeyUnavailable) as err:
        retired.decrypt(old, context=b"x")
    assert err.value.key_id == "k1"


def test_settings_defaults_are_the_marked_dev_keys() -> None:
    settings = Settings()
    assert settings.pii_hmac_key == DEV_PII_HMAC_KEY
    assert settings.active_key_id == "dev-1"
    assert "DEV ONLY" in base64.b64decode(DEV_PII_ENCRYPTION_KEY).decode()
    PiiCipher.from_settings(settings)  # builds


def test_settings_refuse_the_dev_keys_in_production() -> None:
    with pytest.raises(ValidationError, match="refused in production"):
        Settings(environment="prod")
    with pytest.raises(ValidationError, match="refused in production"):
        Settings(
            environment="prod",
            pii_encryption_keys={"p1": b64(K1), "dev-1": DEV_PII_ENCRYPTION_KEY},
            pii_active_key_id="p1",
            pii_hmac_key=b64(os.urandom(32)),
        )
    prod = Settings(
        environment="prod",
        pii_hmac_key=b64(os.urandom(48)),
        pii_encryption_keys={"2026-11": b64(K1)},
    )
    assert prod.active_key_id == "2026-11"


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITY_PII_HMAC_KEY", b64(b"k" * 32))
    monkeypatch.setenv("CITY_PII_ENCRYPTION_KEYS", f'{{"a": "{b64(K1)}", "b": "{b64(K2)}"}}')
    monkeypatch.setenv("CITY_PII_ACTIVE_KEY_ID", "b")
    settings = Settings()
    assert settings.active_key_id == "b"
    assert PiiCipher.from_settings(settings).active_key_id == "b"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"pii_hmac_key": "not base64!"}, "not valid base64"),
        ({"pii_hmac_key": b64(b"short")}, "at least 32 bytes"),
        ({"pii_encryption_keys": {}}, "at least one key"),
        ({"pii_encryption_keys": {"k": b64(b"x" * 16)}}, "must be 32 bytes"),
        ({"pii_encryption_keys": {"bad id!": b64(K1)}}, "key id"),
        ({"pii_encryption_keys": {"a": b64(K1), "b": b64(K2)}}, "must name one"),
        ({"pii_active_key_id": "nope"}, "must be one of"),
    ],
)
def test_settings_refuse_malformed_keys(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**overrides)  # type: ignore[arg-type]
