"""Pure pieces of the collector service: token format and hashing, the per-token rate limiter,
upload parsing (site from the token), and the compact wire form's exact round trip."""

from __future__ import annotations

import json

import pytest

from agents.inventory import Hardware, Host, Inventory, OsInfo, Problem, Software
from agents.wire import compact_json
from scanner.service.server import RateLimiter, Refused, accept_upload
from scanner.store.enrolment import TokenError, TokenInfo, check_site, new_token, parse_token, token_hash
from scanner.store.sqlite import decode_body


def parse_upload(body: bytes, token: TokenInfo) -> Inventory:
    """What the collector service stores of an upload (its one validator), read back."""
    return decode_body(accept_upload(body, token).body)


def test_tokens_are_random_well_formed_and_hashed() -> None:
    token_id, token = new_token()
    other_id, other = new_token()
    assert parse_token(token) == token_id and token_id != other_id and token != other
    assert parse_token("lsk_short_x") is None and parse_token("") is None
    assert token_hash(token) != token_hash(other) and token not in token_hash(token)
    with pytest.raises(TokenError):
        check_site("bad\nsite")
    assert check_site("  St Mary's  ") == "St Mary's"


def test_rate_limiter_bucket_per_key() -> None:
    limiter = RateLimiter(rate=1.0, burst=2)
    assert limiter.check("a", 0.0) == 0 and limiter.check("a", 0.0) == 0
    wait = limiter.check("a", 0.0)
    assert wait == pytest.approx(1.0)
    assert limiter.check("b", 0.0) == 0  # another token is not affected
    assert limiter.check("a", 1.0) == 0  # refilled after a second


def test_upload_takes_the_site_from_the_token() -> None:
    inv = Inventory(host=Host(hostname="pc", site="Elsewhere", address="10.1.2.3"))
    parsed = parse_upload(compact_json(inv).encode(), TokenInfo("t1", "Ward 9", "2026-01-01"))
    assert (parsed.host.site, parsed.host.address, parsed.collector.transport) == ("Ward 9", "", "agent")
    assert parsed.inventory_id == inv.inventory_id


@pytest.mark.parametrize(("body", "status"), [(b"\xff\xfe", 400), (b"null", 422), (b'{"software": []}', 422)])
def test_upload_refusals(body: bytes, status: int) -> None:
    with pytest.raises(Refused) as info:
        parse_upload(body, TokenInfo("t1", "Ward 9", "2026-01-01"))
    assert info.value.status == status


def test_compact_form_round_trips_exactly_and_omits_defaults() -> None:
    inv = Inventory(
        host=Host(hostname="pc", machine_id="m", tags=["x"]),
        os=OsInfo(family="windows", facts={"build": "19045", "ubr": 1}),
        software=[
            Software(name="A", version="1", system_component=False),
            Software(name="B", scope="user", sid="S-1-5-21-1"),
        ],
        hardware=Hardware(cpu_cores=4, secure_boot=None, tpm_present=True),
        problems=[Problem("dpkg", "locked")],
        collected_at="2026-11-30T09:00:00Z",
    )
    text = compact_json(inv)
    data = json.loads(text)
    assert data["software"][0] == {"name": "A", "version": "1", "system_component": False}
    assert "secure_boot" not in data["hardware"] and data["hardware"]["tpm_present"] is True
    assert Inventory.from_dict(data) == inv
    assert len(text) < len(inv.to_json()) / 2
