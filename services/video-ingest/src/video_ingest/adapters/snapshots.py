"""Camera snapshot URLs over HTTP: one GET, bounded in time and size."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

import httpx

from video_ingest.domain.images import media_type


@dataclass(frozen=True, slots=True)
class Snapshot:
    image: bytes
    # The bare media type the camera declared, if any.
    content_type: str | None


class SnapshotUnavailable(Exception):  # noqa: N818 - a camera state, not a bug
    """The camera gave no image: ``outcome`` names why for the metrics."""

    def __init__(self, outcome: str, reason: str) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason


class SnapshotSource(Protocol):
    async def fetch(self, url: str) -> Snapshot:
        """The camera's current image; raises SnapshotUnavailable."""
        ...


class HttpSnapshotSource:
    """Fetches a camera's snapshot with a shared client (its connection pool)."""

    def __init__(self, client: httpx.AsyncClient, *, timeout_s: float, max_bytes: int) -> None:
        self._client = client
        self._timeout_s = timeout_s
        self._max_bytes = max_bytes

    async def fetch(self, url: str) -> Snapshot:
        try:
            # httpx's timeouts bound each read; a camera trickling bytes could still
            # take for ever, so the whole poll has a deadline too.
            async with asyncio.timeout(self._timeout_s):
                return await self._get(url)
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise SnapshotUnavailable(
                "timeout", f"no snapshot within {self._timeout_s:g} s"
            ) from exc
        except httpx.HTTPError as exc:
            raise SnapshotUnavailable(
                "unreachable", f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            ) from exc

    async def _get(self, url: str) -> Snapshot:
        async with self._client.stream("GET", url) as response:
            if response.status_code != 200:
                raise SnapshotUnavailable(
                    "http_error", f"the camera answered HTTP {response.status_code}"
                )
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > self._max_bytes:
                raise SnapshotUnavailable("too_large", self._too_large())
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self._max_bytes:
                    raise SnapshotUnavailable("too_large", self._too_large())
            return Snapshot(bytes(body), media_type(response.headers.get("content-type")))

    def _too_large(self) -> str:
        return f"the snapshot is larger than the frame limit of {self._max_bytes} bytes"
