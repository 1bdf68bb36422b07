"""A small, real OpenID Connect provider for the tests, served by uvicorn on 127.0.0.1.

It speaks enough of the protocol for Authlib's real client: a discovery document, an authorize
endpoint that approves at once and redirects back with a code, a token endpoint (client secret by
Basic or POST, PKCE S256, codes usable once) returning an RS256 id_token signed with `joserfc`, a JWKS
and a userinfo endpoint. Tests steer it through `behaviour` to make it misbehave the ways real
providers (or attackers) do.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID = "hearken-test"
CLIENT_SECRET = "provider-secret-for-tests"


@dataclass
class Person:
    sub: str
    email: str
    email_verified: bool = True
    name: str = "Pat Provider"


@dataclass
class Behaviour:
    """What the provider does on the next sign-ins; reset before every test."""

    person: Person = field(default_factory=lambda: Person("sub-1", "pat@example.com"))
    email_in_id_token: bool = False  # else only in userinfo, as many providers do
    id_token_issuer: str | None = None  # sign with another `iss` than discovery says
    id_token_nonce: str | None = None  # put another nonce in the id_token
    discovery_issuer: str | None = None  # describe itself as another issuer
    sign_with_other_key: bool = False


class Provider:
    def __init__(self) -> None:
        self.port = _free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.key = RSAKey.generate_key(2048, parameters={"kid": "provider-key"}, private=True)
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "provider-key"}, private=True)
        self.behaviour = Behaviour()
        self.codes: dict[str, dict[str, Any]] = {}
        self.access_tokens: dict[str, Person] = {}
        self.token_requests = 0
        self.app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
                Route("/userinfo", self.userinfo),
                Route("/jwks", self.jwks),
            ]
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def reset(self) -> None:
        self.behaviour = Behaviour()
        self.codes.clear()
        self.access_tokens.clear()
        self.token_requests = 0

    # Serving.

    def start(self) -> None:
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="oidc-provider", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test OpenID provider did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)

    # Endpoints.

    async def discovery(self, request: Request) -> Response:
        base = self.issuer
        return JSONResponse(
            {
                "issuer": self.behaviour.discovery_issuer or base,
                "authorization_endpoint": f"{base}/authorize",
                "token_endpoint": f"{base}/token",
                "userinfo_endpoint": f"{base}/userinfo",
                "jwks_uri": f"{base}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            }
        )

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != CLIENT_ID or q.get("response_type") != "code":
            return JSONResponse({"error": "unauthorized_client"}, status_code=400)
        if "openid" not in q.get("scope", "").split():
            return JSONResponse({"error": "invalid_scope"}, status_code=400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "redirect_uri": q["redirect_uri"],
            "nonce": q.get("nonce"),
            "challenge": q.get("code_challenge"),
            "method": q.get("code_challenge_method"),
            "person": self.behaviour.person,
            "used": False,
        }
        query = urlencode({"code": code, "state": q.get("state", "")})
        return RedirectResponse(f"{q['redirect_uri']}?{query}", status_code=302)

    def _client_ok(self, request: Request, form: dict[str, str]) -> bool:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            return (user, password) == (CLIENT_ID, CLIENT_SECRET)
        return (form.get("client_id"), form.get("client_secret")) == (CLIENT_ID, CLIENT_SECRET)

    async def token(self, request: Request) -> Response:
        self.token_requests += 1
        form = {k: str(v) for k, v in (await request.form()).items()}
        if not self._client_ok(request, form):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = self.codes.get(form.get("code", ""))
        if form.get("grant_type") != "authorization_code" or grant is None or grant["used"]:
            return JSONResponse({"error": "invalid_grant", "error_description": "unknown or used code"}, 400)
        grant["used"] = True  # a code works once, even when the exchange fails below
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return JSONResponse({"error": "invalid_grant", "error_description": "redirect_uri differs"}, 400)
        if grant["challenge"] is not None:
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["challenge"]:
                return JSONResponse({"error": "invalid_grant", "error_description": "PKCE check failed"}, 400)
        person: Person = grant["person"]
        access_token = secrets.token_urlsafe(24)
        self.access_tokens[access_token] = person
        b = self.behaviour
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": b.id_token_issuer or self.issuer,
            "sub": person.sub,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": b.id_token_nonce or grant["nonce"],
        }
        if b.email_in_id_token:
            claims |= self._profile(person)
        key = self.other_key if b.sign_with_other_key else self.key
        id_token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
        body = {"access_token": access_token, "token_type": "Bearer", "expires_in": 300, "id_token": id_token}
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    @staticmethod
    def _profile(person: Person) -> dict[str, Any]:
        return {"email": person.email, "email_verified": person.email_verified, "name": person.name}

    async def userinfo(self, request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        person = self.access_tokens.get(token) if scheme.lower() == "bearer" else None
        if person is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        return JSONResponse({"sub": person.sub, **self._profile(person)})

    async def jwks(self, request: Request) -> Response:
        return JSONResponse(KeySet([self.key]).as_dict(private=False))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
