"""The debootstrap fixture itself: a cached real Debian root, scanned-to over its own sshd.

Other tests (verdicts on real roots, legacy-host probes) rely on this fixture being what it says:
the root is the suite asked for, from the archive apt uses here, the sshd answering is the root's
own (its host key, its /etc/debian_version), and stopping it leaves no process or mount behind.
"""

from __future__ import annotations

import os
from pathlib import Path

import paramiko
import pytest

from tests.conftest import require_or_skip
from tests.integration import debroot

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def bookworm() -> Path:
    why = debroot.available()
    if why:
        require_or_skip(why)
    return debroot.debian_root("bookworm")


def test_mirror_comes_from_apt_sources(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "x.sources").write_text(
        "Types: deb\nURIs: http://mirror.invalid/debian-security\nSuites: bookworm-security\n\n"
        "Types: deb-src\nURIs: http://src.invalid/debian\nSuites: bookworm\n\n"
        "# a comment\nTypes: deb\nURIs: http://mirror.invalid/debian/\nSuites: bookworm bookworm-updates\n"
    )
    assert debroot.mirror_url(tmp_path) == "http://mirror.invalid/debian"
    (tmp_path / "sources.list.d" / "x.sources").unlink()
    (tmp_path / "sources.list").write_text("deb [signed-by=/k.gpg] http://list.invalid/debian bullseye main\n")
    assert debroot.mirror_url(tmp_path) == "http://list.invalid/debian"


def test_standard_packages_share_one_root() -> None:
    if debroot.available():
        require_or_skip(str(debroot.available()))
    assert debroot.spec("bullseye", ("python3",)) == debroot.spec("bullseye")
    assert debroot.spec("bullseye", ("sqlite3",)).name == debroot.spec("bullseye").name  # already standard
    assert debroot.spec("bullseye", ("nginx-light",)).name != debroot.spec("bullseye").name
    with pytest.raises(ValueError):
        debroot.spec("bookworm", ("evil;rm",))


def test_root_is_the_suite_and_cached(bookworm: Path) -> None:
    assert (bookworm / "etc/debian_version").read_text().startswith("12.")
    pkgs = debroot.installed_packages(bookworm)
    assert set(debroot.SUITE_PACKAGES["bookworm"]) <= set(pkgs)
    assert debroot.debian_root("bookworm") == bookworm  # second call: the cache, no rebuild
    assert debroot.build_info(bookworm)["suite"] == "bookworm"


def test_root_sshd_is_the_roots_own_and_cleans_up(bookworm: Path) -> None:
    server = debroot.start_root_sshd(bookworm, "127.0.0.1")
    try:
        client = paramiko.SSHClient()
        client.load_host_keys(str(server.known_hosts))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        client.connect(
            server.address,
            server.port,
            username=server.user,
            key_filename=str(server.client_key),
            allow_agent=False,
            look_for_keys=False,
            timeout=10,
        )
        _, out, _ = client.exec_command("cat /etc/debian_version; head -c 20 /proc/uptime >/dev/null && echo proc")
        text = out.read().decode()
        client.close()
        assert text.split() == [(bookworm / "etc/debian_version").read_text().strip(), "proc"]
        assert debroot._pids_in(bookworm)
    finally:
        server.stop()
    assert not server._session_pids()
    assert not [m for m in debroot._mounts_below(bookworm)]
    assert not any(p.name.startswith("legacyscan-") for p in (bookworm / "run").iterdir())
    assert not os.path.exists(server.state)
