"""Pseudonyms and encryption of personal data.

- Lookup: HMAC-SHA256 under a secret key. Identity numbers come from a space of
  about 10^11 values, so an unkeyed hash would be reversed by enumerating it;
  without the key the pseudonym says nothing.
- Recovery: AES-256-GCM with a fresh random 96-bit nonce per value. The envelope
  names the key it was made with, so keys can rotate: new data is sealed with the
  active key, and every key still listed can open what it sealed.

Envelope (bytes): version (1) | key id length (1) | key id (ASCII) | nonce (12) |
ciphertext and 16-byte tag. The header and a caller-given context (what the
value is and whose it is) are the associated data, so a ciphertext copied to
another column or another resident fails to open.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from grid_events.config import Settings, decode_key

ENVELOPE_VERSION = 1
NONCE_BYTES = 12


class PiiKeyUnavailable(Exception):  # noqa: N818 - reads as what happened
    """The envelope names a key this process does not hold."""

    def __init__(self, key_id: str) -> None:
        super().__init__(f"encryption key {key_id!r} is not configured")
        self.key_id = key_id


class PiiCiphertextInvalid(Exception):  # noqa: N818
    """The envelope is malformed, tampered with, or opened in the wrong context."""


class PiiCipher:
    def __init__(
        self, *, hmac_key: bytes, encryption_keys: Mapping[str, bytes], active_key_id: str
    ) -> None:
        if active_key_id not in encryption_keys:
            raise ValueError("the active key id must be one of the encryption keys")
        self._hmac_key = hmac_key
        self._aead = {key_id: AESGCM(key) for key_id, key in encryption_keys.items()}
        self.active_key_id = active_key_id

    @classmethod
    def from_settings(cls, settings: Settings) -> PiiCipher:
        return cls(
            hmac_key=decode_key(settings.pii_hmac_key, "pii_hmac_key"),
            encryption_keys={
                key_id: decode_key(value, key_id)
                for key_id, value in settings.pii_encryption_keys.items()
            },
            active_key_id=settings.active_key_id,
        )

    # --- pseudonyms ----------------------------------------------------------

    def pseudonym(self, purpose: str, value: str) -> bytes:
        """HMAC-SHA256 of ``value``; ``purpose`` separates e.g. identity numbers from phones."""
        message = purpose.encode() + b"\x00" + value.encode()
        return hmac.new(self._hmac_key, message, hashlib.sha256).digest()

    def fingerprint(self, purpose: str, values: Mapping[str, object]) -> bytes:
        """A keyed digest of a whole record, to tell an unchanged re-import from an update."""
        canonical = json.dumps(values, sort_keys=True, ensure_ascii=False, default=str)
        return self.pseudonym(f"fingerprint:{purpose}", canonical)

    # --- encryption ----------------------------------------------------------

    def encrypt(self, plaintext: str, *, context: bytes) -> bytes:
        key_id = self.active_key_id.encode("ascii")
        header = bytes((ENVELOPE_VERSION, len(key_id))) + key_id
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead[self.active_key_id].encrypt(nonce, plaintext.encode(), header + context)
        return header + nonce + sealed

    def decrypt(self, envelope: bytes, *, context: bytes) -> str:
        key_id, header, body = _split(envelope)
        aead = self._aead.get(key_id)
        if aead is None:
            raise PiiKeyUnavailable(key_id)
        try:
            plaintext = aead.decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], header + context)
        except InvalidTag as exc:
            raise PiiCiphertextInvalid("the ciphertext does not open in this context") from exc
        return plaintext.decode()

    @staticmethod
    def key_id_of(envelope: bytes) -> str:
        """Which key sealed ``envelope`` (a re-encryption job picks the old ones)."""
        return _split(envelope)[0]


def _split(envelope: bytes) -> tuple[str, bytes, bytes]:
    if len(envelope) < 2 or envelope[0] != ENVELOPE_VERSION:
        raise PiiCiphertextInvalid("unknown envelope version")
    end = 2 + envelope[1]
    if len(envelope) < end + NONCE_BYTES + 16:
        raise PiiCiphertextInvalid("the envelope is truncated")
    try:
        key_id = envelope[2:end].decode("ascii")
    except UnicodeDecodeError as exc:
        raise PiiCiphertextInvalid("the key id is not ASCII") from exc
    return key_id, envelope[:end], envelope[end:]
