"""Per-site enrolment tokens for agent uploads: generation, hashing and the stored record.

Why tokens are per site: the collector service takes the site of an upload from the token that
authenticated it, never from the payload, so a workstation at one site cannot file itself (or
anything else) under another.  Why only a hash is stored: a copy of the database (a backup, a
support bundle) must not be enough to upload as a site.  Tokens carry 256 bits of randomness, so
a plain SHA-256 is the right hash (a slow password hash protects low-entropy secrets; these are
not).  The token id is a public handle for ``tokens list`` and ``tokens revoke``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

PREFIX = "lsk"
_TOKEN_RE = re.compile(r"^lsk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_SITE_RE = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")


class TokenError(ValueError):
    """A token or a site name is malformed."""


@dataclass(slots=True, frozen=True)
class TokenInfo:
    """What the store keeps about a token (never the token itself)."""

    token_id: str
    site: str
    created_at: str
    revoked_at: str = ""
    label: str = ""

    @property
    def active(self) -> bool:
        return not self.revoked_at


def new_token() -> tuple[str, str]:
    """A fresh ``(token_id, token)``; the token is shown once and then only its hash exists."""
    token_id = secrets.token_hex(6)
    return token_id, f"{PREFIX}_{token_id}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_token(token: str) -> str | None:
    """The token id if ``token`` is well formed, else None (so garbage never reaches the database)."""
    match = _TOKEN_RE.match(token.strip())
    return match.group(1) if match else None


def check_site(site: str) -> str:
    site = site.strip()
    if not _SITE_RE.match(site):
        raise TokenError("site must be 1-200 printable characters")
    return site
