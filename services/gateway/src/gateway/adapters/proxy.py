"""Forwarding of public API calls to the services."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

# Hop-by-hop headers (RFC 9110 §7.6.1) and those the proxy recomputes.
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "traceparent",
    # The gateway answers with its own trace headers (same trace id).
    "x-trace-id",
}


@dataclass(frozen=True, slots=True)
class Upstream:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class ServiceUnavailable(Exception):  # noqa: N818 - reads as what happened
    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"{service}: {reason}")
        self.service = service
        self.reason = reason


class ServiceProxy:
    def __init__(self, service_urls: dict[str, str], *, timeout_s: float) -> None:
        self.urls = {name: url.rstrip("/") for name, url in service_urls.items()}
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=3.0),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        )

    async def close(self) -> None:
        await self._client.aclose()

    @staticmethod
    def forward_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(k, v) for k, v in headers if k.lower() not in _HOP_BY_HOP]

    async def forward(
        self,
        service: str,
        method: str,
        path: str,
        *,
        query: str,
        headers: list[tuple[str, str]],
        body: bytes,
        traceparent: str,
        client_ip: str | None,
    ) -> Upstream:
        url = f"{self.urls[service]}/{path}"
        if query:
            url += "?" + query
        out = self.forward_headers(headers) + [("traceparent", traceparent)]
        if client_ip:
            out.append(("x-forwarded-for", client_ip))
        try:
            response = await self._client.request(method, url, headers=out, content=body)
        except httpx.TimeoutException as exc:
            raise ServiceUnavailable(service, "timed out") from exc
        except httpx.TransportError as exc:
            raise ServiceUnavailable(service, f"unreachable ({type(exc).__name__})") from exc
        return Upstream(
            status=response.status_code,
            headers=[
                (k, v)
                for k, v in response.headers.multi_items()
                if k.lower() not in _HOP_BY_HOP and k.lower() != "content-encoding"
            ],
            body=response.content,
        )

    async def readiness(self, traceparent: str) -> dict[str, dict[str, object]]:
        async def one(name: str) -> tuple[str, dict[str, object]]:
            try:
                response = await self._client.get(
                    f"{self.urls[name]}/readyz", headers={"traceparent": traceparent}, timeout=5.0
                )
                body = response.json()
                return name, {
                    "ready": response.status_code == 200,
                    "checks": body.get("checks", {}),
                }
            except (httpx.HTTPError, ValueError) as exc:
                return name, {"ready": False, "error": type(exc).__name__}

        results = await asyncio.gather(*(one(n) for n in self.urls))
        return dict(results)
