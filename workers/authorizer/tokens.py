"""HS256 JSON Web Tokens verified locally (stdlib HMAC): signature, algorithm, expiry, not-before, audience.

On AWS a Cognito user pool can issue the tokens instead; see docs/api.md. The secret comes from Secrets Manager.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any


class InvalidToken(ValueError):
    """The token is malformed, not HS256, badly signed, expired or not for this audience."""


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def sign_token(claims: dict[str, Any], secret: str) -> str:
    """An HS256 token of ``claims`` (for tests, the CLI and local tenants)."""
    header = _b64encode(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64encode(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64encode(signature)}"


def verify_token(token: str, secret: str, *, audience: str | None = None, now: float | None = None) -> dict[str, Any]:
    """The claims of a valid token; raise ``InvalidToken`` otherwise (never says which check failed to callers)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("not a JWS compact token")
    try:
        header = json.loads(_b64decode(parts[0]))
        claims = json.loads(_b64decode(parts[1]))
        signature = _b64decode(parts[2])
    except ValueError as error:
        raise InvalidToken("undecodable token") from error
    if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(claims, dict):
        raise InvalidToken("only HS256 tokens are accepted")
    expected = hmac.new(secret.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        raise InvalidToken("bad signature")
    moment = time.time() if now is None else now
    if not isinstance(claims.get("exp"), int | float) or claims["exp"] <= moment:
        raise InvalidToken("expired or without exp")
    if isinstance(claims.get("nbf"), int | float) and claims["nbf"] > moment:
        raise InvalidToken("not yet valid")
    if audience is not None:
        aud = claims.get("aud")
        if aud != audience and not (isinstance(aud, list) and audience in aud):
            raise InvalidToken("wrong audience")
    return claims
