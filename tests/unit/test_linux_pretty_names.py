"""os-release PRETTY_NAMEs as one-line OS strings (neofetch / fastfetch "OS:" lines, agents' full names).

Why: the release files' own lines say "... release N"; a PRETTY_NAME does not ("Rocky Linux 9.1 (Blue
Onyx)", "Red Hat Enterprise Linux 10.0 (Coughlan)", "Fedora Linux 36"), and neofetch / fastfetch put
"OS: " before it and the architecture after it.  All of these came back "no known release file
pattern" (round-5 labelled strings: fastfetch #163, neofetch #2159, KoviD #72; PRETTY_NAMEs of the
os-release files of elastic/go-sysinfo and stanislav-tkach/os_info test data).  Derivatives that cite
their base keep their own answer."""

from __future__ import annotations

from datetime import date

import pytest

from eol_data.catalog import Catalog
from scanner.identify.registry import IdentifyContext, evaluate
from scanner.model import Policy


@pytest.mark.parametrize(
    "text, expected",
    [
        ("OS: Fedora Linux 36 [x86_64]", ("fedora", "36")),
        ("CentOS 7 Core 7.1.1503", ("centos", "7")),
        ("OS: Debian GNU/Linux 8 (jessie) x86_64", ("debian", "8")),
        ("Port kv to Ubuntu 20.04.6 LTS, kernel 5.4.0-164-generic #181-Ubuntu SM", ("ubuntu", "20.04")),
        ("Rocky Linux 9.1 (Blue Onyx)", ("rocky-linux", "9")),
        ("Red Hat Enterprise Linux 10.0 (Coughlan)", ("rhel", "10")),
        ("Red Hat Enterprise Linux Server 7.6 (Maipo)", ("rhel", "7")),
        ("AlmaLinux 9.1 (Lime Lynx)", ("almalinux", "9")),
        ("CentOS Linux 7 (Core)", ("centos", "7")),
        ("CentOS Stream 9", ("centos-stream", "9")),
        ("Oracle Linux Server 7.9", ("oracle-linux", "7")),
        ("Alpine Linux v3.17", ("alpine-linux", "3.17")),
        ("Pop!_OS 20.04 LTS", ("pop-os", "20.04")),
        # not their parents
        ("Nobara Linux 39 (KDE Plasma)", (None, None)),
        ("Ultramarine Linux 39 (Kuma)", (None, None)),
        ("KDE neon User Edition 5.27 (based on Ubuntu 22.04 LTS)", (None, None)),
        ("Linux Mint 21 Vanessa (based on Ubuntu 22.04 LTS)", ("linuxmint", "21")),
    ],
)
def test_pretty_name_lines(text: str, expected: tuple[str | None, str | None]) -> None:
    record = {"kind": "os", "family": "linux", "full_name": text}
    out = evaluate(record, IdentifyContext(Catalog()), date(2026, 11, 22), Policy())
    assert (out["product"], out["cycle"]) == expected, out
