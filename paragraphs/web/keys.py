"""API keys in the web pages: asked once (the key form), then kept in a browser-session cookie.

The cookie has no expiry (the browser forgets it when it closes), is HttpOnly (scripts cannot read it)
and SameSite=Strict (another site's form cannot send it). POSTs from another origin are refused too.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from fastapi import Request, Response

from paragraphs import errors
from paragraphs.settings import Settings

COOKIE = "paragraphs_key"
MAX_KEY_CHARS = 512


class Forbidden(errors.AppError):
    status_code = 403


def remember(response: Response, request: Request, key: str) -> None:
    """Keep the key for this browser session (a cookie without expiry)."""
    response.set_cookie(COOKIE, key, httponly=True, samesite="strict", secure=request.url.scheme == "https")


def forget(response: Response) -> None:
    response.delete_cookie(COOKIE, httponly=True, samesite="strict")


def keys_required(settings: Settings) -> bool:
    return bool(settings.api_keys)


def is_valid(settings: Settings, offered: str) -> bool:
    """As the JSON API checks: SHA-256 digests compared in constant time, every key checked."""
    digest = hashlib.sha256(offered.encode()).digest()
    matched = [
        hmac.compare_digest(digest, hashlib.sha256(key.get_secret_value().encode()).digest())
        for key in settings.api_keys
    ]
    return any(matched)


def needs_key(settings: Settings, request: Request) -> bool:
    """Should a write form show the key field (keys configured, none valid remembered)?"""
    if not keys_required(settings):
        return False
    remembered = request.cookies.get(COOKIE)
    return remembered is None or not is_valid(settings, remembered)


def same_origin(request: Request) -> None:
    """Refuse a form posted from another site (the Origin header, sent by browsers with every POST)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return
    if urlsplit(origin).netloc != request.headers.get("host", ""):
        raise Forbidden("this form was sent from another site; open the page here and send it again")


def check(settings: Settings, request: Request) -> str | None:
    """Why this browser may not write now, or None when it may (no keys configured, or a valid one kept)."""
    same_origin(request)
    if not needs_key(settings, request):
        return None
    if request.cookies.get(COOKIE) is not None:
        return "The API key this browser kept is no longer valid. Nothing was changed; type a valid key below."
    return "This server needs an API key for changes. Nothing was changed; type the key below, then send again."


def safe_next(path: str) -> str:
    """Where to go back to after the key form: a path on this site only (no open redirect)."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > 2000:
        return "/"
    return path
