"""What agents/legacyscan-agent.ps1 sends, sent to a REAL ``legacyscan serve`` over HTTPS: a real
host's raw ``windows-collect/1`` document (with the inventory id the agent appends), gzip, Bearer
token.  The collector parses it with the tested parser and stores the host it describes; the same
body again is a duplicate (200), which is what lets the agent empty its spool; a token it does not
know is 401, which makes the agent keep it.  PowerShell itself cannot run here: the request is
made byte for byte as the script builds it (see test_agent_script_contract for the script side)."""

from __future__ import annotations

import gzip
import json
import re
import uuid
from pathlib import Path

import pytest

from agents.windows import parse_document
from tests.conftest import FIXTURES
from tests.integration.test_server_agent import Serve, create_token, db, pki, post, server, stored  # noqa: F401

pytestmark = pytest.mark.integration
AGENT = Path(__file__).resolve().parents[2] / "agents" / "legacyscan-agent.ps1"


def _as_the_agent_sends(name: str) -> tuple[bytes, str]:
    text = (FIXTURES / "hosts" / name / "collect.json").read_text("ascii").rstrip()
    inventory_id = str(uuid.uuid4())
    # Invoke-Collection: the document's closing brace replaced by the id, then UTF-8 and gzip.
    return gzip.compress((text[:-1] + ',"inventory_id":"' + inventory_id + '"}').encode("utf-8")), inventory_id


@pytest.mark.parametrize("name", ["windows-win11-23h2-enterprise-eval", "windows-srv2012-standard-aws"])
def test_a_raw_document_is_stored_as_the_host_it_describes(server: Serve, db: str, name: str) -> None:  # noqa: F811
    token, _ = create_token(db, "Ward 7")
    body, inventory_id = _as_the_agent_sends(name)
    first = post(server, token, body, **{"Content-Encoding": "gzip"})
    again = post(server, token, body, **{"Content-Encoding": "gzip"})
    assert first.status_code == 201, first.text
    assert again.status_code == 200  # duplicate: the agent may now delete its spool file
    wrong = post(server, "lsa_nope_" + "x" * 20, body, **{"Content-Encoding": "gzip"})
    assert wrong.status_code == 401
    # A raw document the collector cannot read: 422 with its own JSON error, the only answer
    # (with 400/413/415) on which the script moves a spool file to rejected\
    bad = gzip.compress(b'{"legacyscan":"windows-collect/9","inventory_id":"x1"}')
    refused = post(server, token, bad, **{"Content-Encoding": "gzip"})
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/json")
    assert re.search(r'"error"\s*:\s*"', refused.text) and "windows-collect/9" in refused.text
    [inv] = stored(db)
    expected = parse_document((FIXTURES / "hosts" / name / "collect.json").read_text("ascii"))
    assert inv.inventory_id == inventory_id
    assert inv.host.site == "Ward 7" and inv.collector.transport == "agent"
    assert inv.os.facts == expected.os.facts
    assert sorted(s.name for s in inv.software) == sorted(s.name for s in expected.software)
    assert len(inv.software) > 10


def test_agent_script_contract() -> None:
    """The script's side of the protocol above, read from the script (no PowerShell here)."""
    text = AGENT.read_text("ascii")
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert "'/v1/inventories'" in code and "'Bearer ' + $script:token" in code
    assert "Content-Encoding', 'gzip'" in code and "GZipStream" in code
    assert "$code -eq 200 -or $code -eq 201" in code  # only created/duplicate empty the spool
    assert "@(400, 413, 415, 422) -contains $code" in code and "AllowAutoRedirect = $false" in code
    assert "[Enum]::ToObject([Net.SecurityProtocolType], 3072)" in code  # TLS 1.2 where .NET allows it
    assert "Retry-After" in code and "Start-Sleep -Seconds $wait" in code
    assert re.search(r"SetAccessRuleProtection\(\$true, \$false\)", code)
    assert "'S-1-5-18', 'S-1-5-32-544'" in code  # SYSTEM, Administrators only
    assert "Test-Protected $TokenFile" in code
    for code_ in ("Exit-With 2", "Exit-With 1", "exit 75", "exit $rc"):
        assert code_ in code
    assert "BelowNormal" in code and "-NoProfile" in code
    assert "ServerCertificateValidationCallback = {$true}" not in code.replace(" ", "")
    assert "Win32_Product" not in code and "Invoke-Expression" not in code
    assert json.dumps("windows-collect/1") in code  # the marker it looks for
