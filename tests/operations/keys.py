"""Signing keys for the JWT tests: RS256, ES256 and HS256, their JWKS, and a token maker."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

HS_SECRET = b"fedgate-test-secret-that-is-long-enough-for-hs256"


class Keys:
    """One key per algorithm; `jwks_file()` holds RS256 + HS256, `jwks_url()` the ES256 one."""

    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())

    def file_jwks(self) -> dict[str, Any]:
        rsa_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.rsa.public_key()))
        rsa_jwk.update(kid="rsa-1", alg="RS256", use="sig")
        oct_jwk = {"kty": "oct", "kid": "hs-1", "alg": "HS256",
                   "k": base64.urlsafe_b64encode(HS_SECRET).rstrip(b"=").decode()}
        return {"keys": [rsa_jwk, oct_jwk]}

    def url_jwks(self) -> dict[str, Any]:
        ec_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.ec.public_key()))
        ec_jwk.update(kid="ec-1", alg="ES256", use="sig")
        return {"keys": [ec_jwk]}

    def token(self, alg: str = "RS256", expires_in: float = 300, **claims: Any) -> str:
        payload = {"sub": "user-1", "exp": int(time.time() + expires_in), **claims}
        if alg == "RS256":
            return jwt.encode(payload, self.rsa, algorithm="RS256", headers={"kid": "rsa-1"})
        if alg == "ES256":
            return jwt.encode(payload, self.ec, algorithm="ES256", headers={"kid": "ec-1"})
        return jwt.encode(payload, HS_SECRET, algorithm="HS256", headers={"kid": "hs-1"})
