import time

import jwt
import pytest
from pydantic import ValidationError

from city_common.auth import Role, TokenVerifier, issue_token
from city_common.observability.tracing import new_trace, parse_traceparent
from city_common.settings import ServiceSettings
from city_common.web.problems import Problem


def test_traceparent_parsing_follows_w3c() -> None:
    ctx = new_trace()
    assert parse_traceparent(ctx.traceparent) == ctx
    assert parse_traceparent("00-" + "0" * 32 + "-" + "1" * 16 + "-01") is None
    assert parse_traceparent("garbage") is None
    child = ctx.child()
    assert child.trace_id == ctx.trace_id and child.span_id != ctx.span_id


def test_tokens_are_verified_with_issuer_audience_and_roles() -> None:
    settings = ServiceSettings()
    verifier = TokenVerifier(settings)
    principal = verifier.verify(issue_token(settings, "ranger-1", ["ranger"]))
    assert principal.subject == "ranger-1" and principal.has_any(Role.RANGER)
    assert not principal.has_any(Role.DOCTOR)

    with pytest.raises(Problem) as expired:
        verifier.verify(issue_token(settings, "x", ["ranger"], ttl_s=-120))
    assert expired.value.status == 401 and "expired" in (expired.value.detail or "")

    other = ServiceSettings(jwt_secret="another-secret-that-is-long-enough-0000")
    with pytest.raises(Problem):
        verifier.verify(issue_token(other, "x", ["admin"]))

    wrong_audience = ServiceSettings(jwt_audience="someone-else")
    with pytest.raises(Problem):
        verifier.verify(issue_token(wrong_audience, "x", ["admin"]))


def test_a_verified_token_is_remembered_until_it_expires() -> None:
    settings = ServiceSettings()
    now = [1_000_000.0]
    verifier = TokenVerifier(settings, cache_size=2, clock=lambda: now[0])
    token = jwt.encode(
        {
            "sub": "cam-1",
            "roles": ["service"],
            "iss": settings.jwt_issuer,
            "aud": settings.jwt_audience,
            "exp": int(time.time()) + 60,
        },
        settings.jwt_secret,
        algorithm="HS256",
    )
    first = verifier.verify(token)
    # Remembered: the same principal, without decoding again.
    assert verifier.verify(token) is first
    # A token altered by one character is another token: verified, and refused.
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(Problem):
        verifier.verify(tampered)
    # Past its expiry (and the leeway), a remembered token is refused too.
    now[0] = time.time() + 60 + 31
    with pytest.raises(Problem) as expired:
        verifier.verify(token)
    assert expired.value.status == 401 and "expired" in (expired.value.detail or "")


def test_the_remembered_tokens_are_bounded_and_not_yet_valid_ones_are_not_kept() -> None:
    settings = ServiceSettings()
    verifier = TokenVerifier(settings, cache_size=2)
    tokens = [issue_token(settings, f"s{i}", ["service"]) for i in range(3)]
    for token in tokens:
        verifier.verify(token)
    assert list(verifier._verified) == tokens[1:]
    later = issue_token(settings, "later", ["service"], extra={"nbf": int(time.time()) + 20})
    assert verifier.verify(later).subject == "later"  # within the leeway
    assert later not in verifier._verified
    off = TokenVerifier(settings, cache_size=0)
    off.verify(tokens[0])
    assert not off._verified


def test_admin_passes_every_role_check() -> None:
    settings = ServiceSettings()
    admin = TokenVerifier(settings).verify(issue_token(settings, "a", ["admin"]))
    assert admin.has_any(Role.DOCTOR)


def test_settings_normalise_and_validate_urls() -> None:
    s = ServiceSettings(database_url="postgresql://u:p@h:1/db")
    assert s.database_url == "postgresql+asyncpg://u:p@h:1/db"
    with pytest.raises(ValidationError, match="database_url"):
        ServiceSettings(database_url="sqlite:///x.db")
    with pytest.raises(ValidationError):
        ServiceSettings(topic_prefix="bad prefix!")
