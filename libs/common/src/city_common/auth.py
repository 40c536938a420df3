"""JWT verification and role checks shared by the gateway and the services.

The gateway verifies every token and forwards it; each service verifies it again
(defence in depth: a service reached past the gateway still checks who calls).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request

from city_common.settings import ServiceSettings
from city_common.web.problems import Problem


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"  # command centre / dashboard
    DISPATCHER = "dispatcher"
    GRID_WORKER = "grid_worker"
    RANGER = "ranger"
    DOCTOR = "doctor"
    ENTERPRISE = "enterprise"
    CITIZEN = "citizen"
    SERVICE = "service"  # another city system, machine to machine


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    roles: frozenset[str]
    claims: dict[str, Any]

    def has_any(self, *roles: str) -> bool:
        return Role.ADMIN in self.roles or bool(self.roles.intersection(roles))


# Seconds of clock skew allowed on ``exp`` (and ``nbf``/``iat``).
LEEWAY_S = 30


class TokenVerifier:
    """Verifies bearer tokens, remembering the ones it has verified.

    A camera or a partner system sends the same token with every request until it
    expires; checking its signature and claims again each time was a tenth of
    video-ingest's CPU per frame (ADR 0015). A token is remembered by its exact
    text, which its signature covers, so a remembered token is the one verified;
    a hit checks only its expiry again. Tokens not yet valid (``nbf`` ahead) are
    not remembered. ``cache_size`` bounds the memory; 0 turns remembering off.
    """

    def __init__(
        self,
        settings: ServiceSettings,
        *,
        cache_size: int = 4096,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._key = settings.jwt_public_key or settings.jwt_secret
        self._cache_size = cache_size
        self._clock = clock
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    def verify(self, token: str) -> Principal:
        remembered = self._verified.get(token)
        if remembered is not None:
            principal, expires_at = remembered
            if self._clock() < expires_at + LEEWAY_S:
                self._verified.move_to_end(token)
                return principal
            del self._verified[token]
            raise _unauthorized("the token has expired")
        principal = self._decode(token)
        self._remember(token, principal)
        return principal

    def _remember(self, token: str, principal: Principal) -> None:
        if self._cache_size <= 0:
            return
        claims = principal.claims
        now = self._clock()
        nbf = claims.get("nbf")
        if isinstance(nbf, int | float) and nbf > now:
            return
        self._verified[token] = (principal, float(claims["exp"]))
        if len(self._verified) > self._cache_size:
            self._verified.popitem(last=False)

    def _decode(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[self._settings.jwt_algorithm],
                audience=self._settings.jwt_audience,
                issuer=self._settings.jwt_issuer,
                options={"require": ["exp", "sub", "iss", "aud"]},
                leeway=LEEWAY_S,
            )
        except jwt.ExpiredSignatureError as exc:
            raise _unauthorized("the token has expired") from exc
        except jwt.InvalidTokenError as exc:
            raise _unauthorized(f"invalid token: {exc}") from exc
        roles = claims.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise _unauthorized("the 'roles' claim must be a list of strings")
        return Principal(subject=str(claims["sub"]), roles=frozenset(roles), claims=claims)


def issue_token(
    settings: ServiceSettings,
    subject: str,
    roles: list[str],
    *,
    ttl_s: int = 3600,
    extra: dict[str, Any] | None = None,
) -> str:
    """Sign a token with the shared dev secret (dev stack, tests, demo loader)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "roles": roles,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl_s,
    }
    if extra:
        claims.update(extra)
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


def _unauthorized(detail: str) -> Problem:
    return Problem(
        401,
        "Unauthorized",
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="yongchuan-city"'},
    )


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return token.strip()


async def current_principal(request: Request) -> Principal:
    verifier: TokenVerifier | None = getattr(request.app.state, "token_verifier", None)
    if verifier is None:
        # Auth disabled (local experiments only): act as an anonymous operator.
        return Principal("anonymous", frozenset({Role.OPERATOR}), {})
    token = bearer_token(request)
    if token is None:
        raise _unauthorized("an 'Authorization: Bearer <token>' header is required")
    return verifier.verify(token)


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """Dependency: the caller must hold one of ``roles`` (admin always passes)."""

    async def check(principal: PrincipalDep) -> Principal:
        if not principal.has_any(*roles):
            raise Problem(
                403, "Forbidden", f"this action needs one of the roles: {', '.join(roles)}"
            )
        return principal

    return check
