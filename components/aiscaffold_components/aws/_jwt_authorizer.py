"""The gateway's OIDC/JWT authorizer: an API Gateway Lambda TOKEN authorizer (API-01).

Shipped as the function's code by :class:`~.gateway.ApiGateway` (one file, the Python
standard library only: nothing to pin, build or patch). It accepts a request only when
its ``Authorization: Bearer <JWT>`` token

- is signed (RS256, RS384 or RS512: the algorithms OIDC providers publish RSA keys for;
  ``none`` and HMAC algorithms are refused, https://datatracker.ietf.org/doc/html/rfc8725#section-3.1)
  by a key of the issuer's JSON Web Key Set, found through the issuer's OpenID discovery
  document (``<issuer>/.well-known/openid-configuration``, ``jwks_uri``:
  https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderMetadata);
- names ``OIDC_ISSUER`` as ``iss`` and ``OIDC_AUDIENCE`` in ``aud`` (RFC 7519 4.1.1, 4.1.3);
- is within its ``exp`` and ``nbf`` (60 seconds of clock skew).

Everything else is refused with API Gateway's 401 ("Unauthorized" raised:
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html).
An allowed caller gets a policy for the stage's methods (so API Gateway can cache the
decision for the token across methods) and its ``sub`` as principal id, which the
access log records (``$context.authorizer.principalId``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import urllib.request
from typing import Any

#: DER prefixes of the DigestInfo each RSA algorithm signs (RFC 8017 9.2, note 1).
_DIGEST_INFO: dict[str, tuple[str, bytes]] = {
    "RS256": ("sha256", bytes.fromhex("3031300d060960864801650304020105000420")),
    "RS384": ("sha384", bytes.fromhex("3041300d060960864801650304020205000430")),
    "RS512": ("sha512", bytes.fromhex("3051300d060960864801650304020305000440")),
}
_SKEW = 60
_KEYS_TTL = 3600
_keys: dict[str, dict[str, Any]] = {}
_keys_fetched = 0.0


class Unauthorized(Exception):
    """Refused: API Gateway answers 401 when the authorizer raises "Unauthorized"."""


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _fetch(url: str) -> Any:
    if not url.startswith("https://"):
        raise Unauthorized(f"refusing a non-https URL: {url}")
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - https only
        return json.loads(response.read())


def _signing_keys(issuer: str, *, refresh: bool = False) -> dict[str, dict[str, Any]]:
    global _keys, _keys_fetched
    if refresh or not _keys or time.time() - _keys_fetched > _KEYS_TTL:
        discovery = _fetch(issuer.rstrip("/") + "/.well-known/openid-configuration")
        jwks = _fetch(str(discovery["jwks_uri"]))
        _keys = {str(k.get("kid")): k for k in jwks.get("keys", []) if k.get("kty") == "RSA"}
        _keys_fetched = time.time()
    return _keys


def verify_rsa(alg: str, key: dict[str, Any], signed: bytes, signature: bytes) -> bool:
    """RSASSA-PKCS1-v1_5 verification (RFC 8017 8.2.2) with the key's modulus and exponent."""
    hash_name, prefix = _DIGEST_INFO[alg]
    n = int.from_bytes(_b64(str(key["n"])), "big")
    e = int.from_bytes(_b64(str(key["e"])), "big")
    size = (n.bit_length() + 7) // 8
    if len(signature) != size:
        return False
    decoded = pow(int.from_bytes(signature, "big"), e, n).to_bytes(size, "big")
    digest = prefix + hashlib.new(hash_name, signed).digest()
    expected = b"\x00\x01" + b"\xff" * (size - len(digest) - 3) + b"\x00" + digest
    return hmac.compare_digest(decoded, expected)


def claims_of(
    token: str,
    *,
    issuer: str,
    audience: str,
    keys: dict[str, dict[str, Any]],
    now: float | None = None,
) -> dict[str, Any]:
    """The token's claims once its signature, issuer, audience and lifetime hold."""
    try:
        head, body, sig = token.split(".")
        header = json.loads(_b64(head))
        claims = json.loads(_b64(body))
        signature = _b64(sig)
    except ValueError as error:
        raise Unauthorized("malformed token") from error
    alg = header.get("alg")
    if alg not in _DIGEST_INFO:
        raise Unauthorized(f"algorithm {alg!r} refused")
    key = keys.get(str(header.get("kid")))
    if key is None:
        raise Unauthorized("unknown signing key")
    if not verify_rsa(alg, key, f"{head}.{body}".encode(), signature):
        raise Unauthorized("bad signature")
    moment = time.time() if now is None else now
    audiences = claims.get("aud")
    audiences = audiences if isinstance(audiences, list) else [audiences]
    if claims.get("iss") != issuer:
        raise Unauthorized("wrong issuer")
    if audience not in audiences:
        raise Unauthorized("wrong audience")
    if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] < moment - _SKEW:
        raise Unauthorized("expired")
    if isinstance(claims.get("nbf"), (int, float)) and claims["nbf"] > moment + _SKEW:
        raise Unauthorized("not yet valid")
    return dict(claims)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway TOKEN authorizer entry point."""
    issuer, audience = os.environ["OIDC_ISSUER"], os.environ["OIDC_AUDIENCE"]
    token = str(event.get("authorizationToken", ""))
    if not token.startswith("Bearer "):
        raise Exception("Unauthorized")
    try:
        raw = token[len("Bearer ") :]
        kid = str(json.loads(_b64(raw.split(".")[0])).get("kid"))
        keys = _signing_keys(issuer)
        if kid not in keys:  # the issuer rotated its keys: look once more
            keys = _signing_keys(issuer, refresh=True)
        claims = claims_of(raw, issuer=issuer, audience=audience, keys=keys)
    except (Unauthorized, ValueError, KeyError, OSError) as error:
        print(json.dumps({"decision": "deny", "reason": str(error)}))
        raise Exception("Unauthorized") from None
    # arn:aws:execute-api:<region>:<account>:<api>/<stage>/<verb>/<path>: every method
    # of the stage, so the cached decision serves the token's next calls.
    api_stage = "/".join(str(event["methodArn"]).split("/")[:2])
    return {
        "principalId": str(claims.get("sub", "unknown")),
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": f"{api_stage}/*"}
            ],
        },
        "context": {"client": str(claims.get("azp") or claims.get("client_id") or "")},
    }
