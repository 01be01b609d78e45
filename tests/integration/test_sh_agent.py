"""The POSIX sh agent (agents/legacyscan-agent.sh) for hosts without a usable Python.

It is generated from the SSH probe's bundle (checked here to be current), runs under every
Bourne-family shell Debian has, and what it drops or uploads becomes, through
``scanner/service/raw_documents.py``, the same inventory an SSH scan or a local collection of this host
gives - in the file-drop folder read by ``legacyscan import``, and over verified TLS with curl and
with wget to a real ``legacyscan serve``, through its spool.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from agents.build_sh_agent import TARGET
from agents.build_sh_agent import main as build_main
from agents.collect import Collector
from agents.shell import LocalShell
from scanner.service.raw_documents import parse_raw
from scanner.store.sqlite import SqliteStore
from tests.conftest import require_or_skip
from tests.integration.test_bundle_shells import BOURNE_BASH, FORBIDDEN, SHELLS
from tests.integration.test_server_agent import Serve, cli, create_token
from tests.integration.tls import make_pki

pytestmark = pytest.mark.integration

SCRIPT = str(TARGET)


def test_the_committed_script_is_generated_from_the_bundle() -> None:
    assert build_main(["--check"]) == 0, "run: python -m agents.build_sh_agent"


def test_the_script_uses_only_bourne_shell_constructs() -> None:
    text = TARGET.read_text()
    rules = {p: why for p, why in FORBIDDEN.items() if p != r"!"}  # a file, not a csh command line:
    rules[r"(^|[;&|]\s*)!\s"] = "! pipeline negation"  # [!0-9] patterns and #!/bin/sh are Bourne
    found = [why for p, why in rules.items() for _ in re.finditer(p, text, re.MULTILINE)]
    assert found == []


@pytest.fixture(scope="module")
def local() -> set[tuple[str, str]]:
    return {(s.name, s.version) for s in Collector(LocalShell()).collect().software}


def _drop(shell: list[str], out: Path, env: dict[str, str] | None = None) -> dict[str, object]:
    if shutil.which(shell[0]) is None:
        require_or_skip(f"{shell[0]} is not installed")
    argv = [*(a for a in shell if a != "-s"), SCRIPT, "--output", str(out)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False, env=env or dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    [doc] = list(out.glob("*.json"))
    data: dict[str, object] = json.loads(doc.read_text())
    return data


@pytest.mark.parametrize("shell", list(SHELLS))
def test_file_drop_under_every_shell_parses_to_this_hosts_inventory(
    shell: str, tmp_path: Path, local: set[tuple[str, str]]
) -> None:
    data = _drop(SHELLS[shell], tmp_path / "drop")
    assert data["legacyscan"] == "unix-bundle/1"
    inv = parse_raw(data)
    assert inv.os.family == "linux" and inv.os.facts["files"]["/etc/os-release"] == Path("/etc/os-release").read_text()
    assert {(s.name, s.version) for s in inv.software} == local
    assert inv.host.hostname == os.uname().nodename and inv.collector.transport == "agent"
    assert inv.inventory_id == data["inventory_id"]


def test_file_drop_under_a_bourne_like_shell(tmp_path: Path, local: set[tuple[str, str]]) -> None:
    """The agent under bash with no ``command``/``printf``/``local`` builtins and missing commands
    exiting 1 (tests/integration/test_bundle_shells.py: as Solaris 10's /bin/sh)."""
    out = tmp_path / "drop"
    wrapper = BOURNE_BASH + f"set -- --output {out}\n. {SCRIPT}\n"
    proc = subprocess.run(
        ["bash", "--posix", "-s"], input=wrapper, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0 and "not found" not in proc.stderr, proc.stderr
    [doc] = list(out.glob("*.json"))
    inv = parse_raw(json.loads(doc.read_text()))
    assert inv.os.family == "linux" and {(s.name, s.version) for s in inv.software} == local


def test_legacyscan_import_reads_the_drop_folder(tmp_path: Path, local: set[tuple[str, str]]) -> None:
    _drop(SHELLS["dash"], tmp_path / "drop")
    db = f"sqlite:///{tmp_path / 'central.db'}"
    proc = cli("import", str(tmp_path / "drop"), "--site", "Old Wing", db=db)
    assert proc.returncode == 0
    store = SqliteStore(str(tmp_path / "central.db"))
    try:
        [inv] = store.latest_inventories()
    finally:
        store.close()
    assert inv.host.site == "Old Wing" and {(s.name, s.version) for s in inv.software} == local


def test_a_hostile_document_is_refused_naming_the_field(tmp_path: Path) -> None:
    data = _drop(SHELLS["dash"], tmp_path / "drop")
    from scanner.service.raw_documents import RawDocumentError

    for field, value in (("boundary", "x;rm -rf /"), ("output_hex", ["zz"]), ("commands", "uname")):
        with pytest.raises(RawDocumentError, match=field):
            parse_raw({**data, field: value})


@pytest.mark.parametrize("http", ["curl", "wget"])
def test_upload_with_verified_tls_through_the_spool(http: str, tmp_path: Path) -> None:
    if shutil.which(http) is None:
        require_or_skip(f"{http} is not installed")
    pki = make_pki(tmp_path / "pki")
    db = f"sqlite:///{tmp_path / 'central.db'}"
    server = Serve(db, pki).start()
    try:
        token, _ = create_token(db, "Old Wing")
        token_file = tmp_path / "token"
        token_file.write_text(token + "\n")
        spool = tmp_path / "spool"
        base = [
            "sh",
            SCRIPT,
            "--server",
            server.url,
            "--token-file",
            str(token_file),
            "--spool",
            str(spool),
            "--with",
            http,
        ]
        untrusted = subprocess.run(base, capture_output=True, text=True, timeout=120, check=False)
        assert untrusted.returncode == 75, untrusted.stderr  # test CA not trusted: kept for the next run
        assert "kept in the spool" in untrusted.stderr and len(list(spool.glob("*.json.gz"))) == 1
        assert token not in untrusted.stderr
        ok = subprocess.run(
            [*base, "--ca-bundle", str(pki.ca_cert)], capture_output=True, text=True, timeout=120, check=False
        )
        assert ok.returncode == 0, ok.stderr
        assert list(spool.glob("*.json*")) == []
        wrong = tmp_path / "wrong"
        wrong.write_text("ls_0000_not-a-real-token\n")
        refused = subprocess.run(
            [
                "sh",
                SCRIPT,
                "--server",
                server.url,
                "--token-file",
                str(wrong),
                "--spool",
                str(spool),
                "--with",
                http,
                "--ca-bundle",
                str(pki.ca_cert),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert refused.returncode == 1 and "refused the token" in refused.stderr, refused.stderr
    finally:
        server.stop()
    store = SqliteStore(str(tmp_path / "central.db"))
    try:
        invs = store.latest_inventories()
    finally:
        store.close()
    # both runs' inventories arrived (the spooled one too), filed under the token's site
    assert {i.host.site for i in invs} == {"Old Wing"} and invs and invs[0].collector.transport == "agent"


def test_the_systemd_example_units_verify(tmp_path: Path) -> None:
    """examples/systemd/legacyscan-agent-sh.{service,timer} (docs: deployment) pass the real
    ``systemd-analyze verify`` with ExecStart pointed at this checkout's script: exit 75 counts as
    success, the job runs at idle priority, and only its spool is writable."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        require_or_skip("systemd-analyze is not installed (apt-get install systemd)")
    examples = Path(SCRIPT).parents[1] / "examples" / "systemd"
    service = (examples / "legacyscan-agent-sh.service").read_text()
    for line in (
        "SuccessExitStatus=75",
        "Nice=19",
        "IOSchedulingClass=idle",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/spool/legacyscan-agent-sh",
        "ExecStart=/opt/legacyscan/legacyscan-agent.sh",
    ):
        assert line in service, line
    (tmp_path / "legacyscan-agent-sh.service").write_text(
        service.replace("/opt/legacyscan/legacyscan-agent.sh", SCRIPT)
    )
    shutil.copy(examples / "legacyscan-agent-sh.timer", tmp_path)
    res = subprocess.run(
        [analyze, "verify", str(tmp_path / "legacyscan-agent-sh.service"), str(tmp_path / "legacyscan-agent-sh.timer")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0 and "legacyscan-agent-sh" not in res.stdout + res.stderr, res.stdout + res.stderr


@pytest.mark.parametrize("shell", ["dash", "busybox"])
def test_the_sh_agent_never_uploads_what_a_planted_link_points_to(shell: str, tmp_path: Path) -> None:
    """#19 item 12 for the sh agent (written after that fix, with the same spool): a symbolic link,
    a hard link, a FIFO or another user's file in the spool is moved to rejected/ with its reason,
    never sent; the agent's own inventory is.  On the code before, curl uploaded each link's
    target (another file the agent's user can read) and blocked on the FIFO."""
    import gzip

    from tests.integration.test_server_agent import fake_inventory

    if shutil.which(shell) is None or shutil.which("curl") is None:
        require_or_skip(f"{shell} or curl is not installed")
    pki = make_pki(tmp_path / "pki")
    db = f"sqlite:///{tmp_path / 'central.db'}"
    spool = tmp_path / "spool"
    spool.mkdir(mode=0o700)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for name in ("link", "hardlink", "foreign"):
        inv = fake_inventory(f"secret-{name}", 2)
        inv.collected_at = "2026-12-01T08:00:00Z"
        (elsewhere / f"{name}.json.gz").write_bytes(gzip.compress(inv.to_json().encode()))
    (spool / "20200101T000000Z-link.json.gz").symlink_to(elsewhere / "link.json.gz")
    os.link(elsewhere / "hardlink.json.gz", spool / "20200101T000001Z-hardlink.json.gz")
    foreign = spool / "20200101T000002Z-foreign.json.gz"
    foreign.write_bytes((elsewhere / "foreign.json.gz").read_bytes())
    if os.geteuid() == 0:
        os.chown(foreign, 65534, 65534)
    os.mkfifo(spool / "20200101T000003Z-fifo.json.gz")
    server = Serve(db, pki).start()
    try:
        token, _ = create_token(db, "Old Wing")
        token_file = tmp_path / "token"
        token_file.write_text(token + "\n")
        argv = [shell, SCRIPT] if shell != "busybox" else ["busybox", "sh", SCRIPT]
        argv += ["--server", server.url, "--token-file", str(token_file), "--spool", str(spool)]
        argv += ["--with", "curl", "--ca-bundle", str(pki.ca_cert)]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False)
    finally:
        server.stop()
    assert proc.returncode == 0, proc.stderr
    store = SqliteStore(str(tmp_path / "central.db"))
    try:
        names = sorted(i.host.hostname for i in store.latest_inventories())
    finally:
        store.close()
    assert not any(n.startswith("secret-") for n in names), names
    assert len(names) == 1, names  # this host's own inventory, sent through the spool
    rejected = {p.name: p for p in (spool / "rejected").iterdir()}
    reasons = {n[: -len(".reason.txt")]: p.read_text() for n, p in rejected.items() if n.endswith(".reason.txt")}
    assert "symbolic link" in reasons["20200101T000000Z-link.json.gz"]
    assert "2 hard links" in reasons["20200101T000001Z-hardlink.json.gz"]
    assert "not a regular file" in reasons["20200101T000003Z-fifo.json.gz"]
    if os.geteuid() == 0:
        assert "owned by uid 65534" in reasons["20200101T000002Z-foreign.json.gz"]
    assert rejected["20200101T000000Z-link.json.gz"].is_symlink() and (elsewhere / "link.json.gz").is_file()
    assert [p.name for p in spool.glob("*.json*")] == []
