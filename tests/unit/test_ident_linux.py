"""Linux OS and package identification on real labelled strings (corpus + whole-host captures).

Counted like the acceptance check: high- and medium-confidence labels; exact product and cycle
(or a listed alternative); product "none" must come back as no product; never a false "eol".
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from eol_data.catalog import Catalog
from scanner.identify.registry import IdentifyContext, evaluate
from scanner.model import Policy

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fixtures" / "corpus" / "os_records.jsonl"
CAPTURES = ROOT / "scanner" / "demo_data" / "captures" / "linux"
REF = date(2026, 11, 22)
LINUX_FORMATS = {"os-release", "release files (path -> content)", "release-file"}


@pytest.fixture(scope="module")
def ctx() -> IdentifyContext:
    return IdentifyContext(Catalog())


def _expected(label: dict[str, Any]) -> tuple[set[tuple[str | None, str | None]], bool | None]:
    def norm(p: str) -> str | None:
        return None if p == "none" else p

    ok = {(norm(label["product"]), label["cycle"] if label["product"] != "none" else None)}
    for alt in label.get("alternatives") or []:
        ok.add((norm(alt["product"]), alt.get("cycle") if alt["product"] != "none" else None))
    return ok, label.get("is_eol_2026_11_22")


def _score(cases: list[tuple[str, dict[str, Any], dict[str, Any]]], ctx: IdentifyContext) -> dict[str, Any]:
    exact = wrong = false_eol = 0
    misses = []
    for rid, record, label in cases:
        if label["confidence"] not in ("high", "medium"):
            continue
        out = evaluate(record, ctx, REF, Policy())
        ok, is_eol = _expected(label)
        got = (out["product"], out["cycle"])
        if got in ok:
            exact += 1
        else:
            misses.append((rid, got, ok, out["rule"]))
            # "unknown" (no product or no cycle) is not counted as wrong; a confident other answer is.
            if out["product"] is not None and out["cycle"] is not None:
                wrong += 1
        if out["status"] == "eol" and is_eol is False:
            false_eol += 1
    total = exact + len(misses)
    return {"total": total, "exact": exact, "wrong": wrong, "false_eol": false_eol, "misses": misses}


def test_corpus_linux_os_records(ctx: IdentifyContext) -> None:
    cases = []
    for line in CORPUS.read_text("utf-8").splitlines():
        rec = json.loads(line)
        if rec["raw_format"] in LINUX_FORMATS:
            cases.append((rec["id"], {"kind": "os", "family": "linux", "files": rec["raw"]}, rec["expected"]))
    s = _score(cases, ctx)
    assert s["total"] >= 50
    assert s["exact"] / s["total"] >= 0.97, s["misses"]
    assert s["wrong"] / s["total"] <= 0.01, s["misses"]
    assert s["false_eol"] == 0


def _capture_os_files(cap: dict[str, Any]) -> dict[str, str]:
    """Rebuild release files from a capture's OS section (os-release text, or the agent's FULL_NAME
    as the first line of the distro's release file, which is what the agent itself read)."""
    os_ = cap["os"]
    if "os-release" in os_:
        files = {"/etc/os-release": os_["os-release"]}
        if "alpine-release" in os_:
            files["/etc/alpine-release"] = os_["alpine-release"]
        return files
    osys = os_.get("OPERATINGSYSTEM") or os_.get("operatingsystem") or {}
    full = osys.get("FULL_NAME") or osys.get("full_name") or ""
    name = (osys.get("NAME") or osys.get("name") or "").lower()
    version = osys.get("VERSION") or osys.get("version") or ""
    if "debian" in full.lower() or "raspbian" in full.lower():
        m = re.search(r"(\d+)(\.\d+)?", full)
        return {"/etc/debian_version": (m.group(0) if m else version) + "\n"}
    if "ubuntu" in full.lower():
        m = re.search(r"(\d+\.\d+)", full)
        return {"/etc/lsb-release": f"DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE={m.group(1) if m else version}\n"}
    if "suse" in full.lower():
        m = re.search(r"(\d+)(?: SP(\d+))?", full)
        sp = osys.get("SERVICE_PACK") or (m.group(2) if m and m.group(2) else "0")
        sp = re.sub(r"\D", "", str(sp)) or "0"
        return {"/etc/SuSE-release": f"{full}\nVERSION = {m.group(1) if m else ''}\nPATCHLEVEL = {sp}\n"}
    if "slackware" in full.lower() or name == "slackware":
        return {"/etc/slackware-version": full + "\n"}
    return {"/etc/redhat-release": full + "\n"}


def test_captures_linux_os(ctx: IdentifyContext) -> None:
    cases = []
    for path in sorted(CAPTURES.glob("*.json")):
        cap = json.loads(path.read_text("utf-8"))
        record = {"kind": "os", "family": "linux", "files": _capture_os_files(cap)}
        cases.append((path.name, record, cap["expected"]["os"]))
    s = _score(cases, ctx)
    assert s["total"] >= 15
    assert s["exact"] / s["total"] >= 0.95, s["misses"]
    assert s["wrong"] / s["total"] <= 0.02, s["misses"]
    assert s["false_eol"] == 0


def test_captures_linux_packages(ctx: IdentifyContext) -> None:
    cases = []
    for path in sorted(CAPTURES.glob("*.json")):
        cap = json.loads(path.read_text("utf-8"))
        by_key = {(s["name"], s["version"]): s for s in cap["software"]}
        for label in cap["expected"]["software"]:
            sw = by_key.get((label["match"]["name"], label["match"]["version"]))
            assert sw is not None, label["match"]
            source = sw.get("source") if sw.get("source") in ("dpkg", "rpm", "apk") else "rpm"
            record = {"kind": "software", "source": source, "name": sw["name"], "version": sw["version"]}
            cases.append((f"{path.name}:{sw['name']}", record, label))
    s = _score(cases, ctx)
    assert s["total"] >= 150
    assert s["exact"] / s["total"] >= 0.95, s["misses"]
    assert s["wrong"] / s["total"] <= 0.02, s["misses"]
    assert s["false_eol"] == 0


@pytest.mark.parametrize(
    "files, expected",
    [
        # CentOS Stream reuses ID=centos
        ({"/etc/os-release": 'NAME="CentOS Stream"\nID="centos"\nVERSION_ID="9"\n'}, ("centos-stream", "9")),
        # Scientific Linux reuses ID=rhel: not RHEL
        ({"/etc/os-release": 'NAME="Scientific Linux"\nID="rhel"\nVERSION_ID="7.9"\n'}, (None, None)),
        # RHEL minor -> major
        ({"/etc/os-release": 'NAME="Red Hat Enterprise Linux"\nID="rhel"\nVERSION_ID="8.10"\n'}, ("rhel", "8")),
        # Linux Mint 19 that ships Ubuntu's os-release
        (
            {
                "/etc/os-release": 'NAME="Ubuntu"\nID=ubuntu\nVERSION_ID="18.04"\n',
                "/etc/lsb-release": "DISTRIB_ID=LinuxMint\nDISTRIB_RELEASE=19.3\n",
            },
            ("linuxmint", "19.3"),
        ),
        # Ubuntu point release keeps the YY.MM cycle
        (
            {"/etc/os-release": 'NAME="Ubuntu"\nID=ubuntu\nVERSION_ID="20.04"\nVERSION="20.04.6 LTS"\n'},
            ("ubuntu", "20.04"),
        ),
        # SLES service pack
        ({"/etc/os-release": 'NAME="SLES"\nID="sles"\nVERSION_ID="15.4"\nVERSION="15-SP4"\n'}, ("sles", "15.4")),
        ({"/etc/os-release": 'NAME="SLES"\nID="sles"\nVERSION_ID="12"\n'}, ("sles", "12.0")),
        # Amazon Linux numbering
        ({"/etc/os-release": 'NAME="Amazon Linux"\nID="amzn"\nVERSION_ID="2"\n'}, ("amazon-linux", "2")),
        # A distribution endoflife.date does not track is not its ID_LIKE parent
        ({"/etc/os-release": 'NAME="Kali GNU/Linux"\nID=kali\nID_LIKE=debian\nVERSION_ID="2024.1"\n'}, (None, None)),
        # A rolling distribution's build number (Clear Linux 28120) is not a cycle: its one cycle is
        (
            {"/etc/os-release": 'NAME="Clear Linux OS"\nID=clear-linux-os\nVERSION_ID=28120\n'},
            ("clear-linux", "current"),
        ),
        # Alpine 3.1 is not 3.10
        ({"/etc/os-release": 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.1.2\n'}, ("alpine-linux", "3.1")),
        # Legacy release files only
        ({"/etc/redhat-release": "CentOS release 5.11 (Final)\n"}, ("centos", "5")),
        (
            {"/etc/SuSE-release": "SUSE Linux Enterprise Server 11 (x86_64)\nVERSION = 11\nPATCHLEVEL = 3\n"},
            ("sles", "11.3"),
        ),
    ],
)
def test_linux_traps(ctx: IdentifyContext, files: dict[str, str], expected: tuple[str | None, str | None]) -> None:
    out = evaluate({"kind": "os", "family": "linux", "files": files}, ctx, REF, Policy())
    assert (out["product"], out["cycle"]) == expected, out


def test_newer_than_every_cycle_is_unknown_not_eol(ctx: IdentifyContext) -> None:
    out = evaluate(
        {"kind": "os", "family": "linux", "files": {"/etc/os-release": "ID=debian\nVERSION_ID=19\n"}},
        ctx,
        REF,
        Policy(),
    )
    assert out["product"] == "debian" and out["cycle"] is None and out["status"] == "unknown"
    assert "newer than every cycle" in out["reason"]


@pytest.mark.parametrize(
    "name, version, source, expected",
    [
        ("openssl", "1:1.1.1k-5.el8_5", "rpm", ("openssl", "1.1.1")),
        ("libssl1.0.0", "1.0.2n-1ubuntu5.4", "dpkg", ("openssl", "1.0.2")),  # soname is not the version
        ("postfix", "2.10.1-6.el7", "rpm", ("postfix", "2.10")),  # 2.10 is not 2.1
        ("postgresql", "15+248", "dpkg", ("postgresql", "15")),  # Debian metapackage
        ("python3-requests", "2.28.1-1", "dpkg", (None, None)),  # a library, not Python itself
        ("openjdk-17-jre-headless", "17.0.9+9-1~deb12u1", "dpkg", (None, None)),  # supplementary openjdk: null here
        ("java-17-openjdk-headless", "1:17.0.10.0.7-2.el9", "rpm", ("redhat-build-of-openjdk", "17")),
        ("perl.x86_64", "5.10.1-115.el6", "rpm", ("perl", None)),  # predates the dataset's cycles
    ],
)
def test_package_traps(
    ctx: IdentifyContext, name: str, version: str, source: str, expected: tuple[str | None, str | None]
) -> None:
    out = evaluate({"kind": "software", "source": source, "name": name, "version": version}, ctx, REF, Policy())
    assert (out["product"], out["cycle"]) == expected, out


@pytest.mark.parametrize(
    "files, expected",
    [
        # Two assignments run onto one line (copied through a web page): the ID is the first token
        ({"/etc/os-release": 'NAME="Debian GNU/Linux"\nID=debian ID_LIKE=none\nVERSION_ID="11"\n'}, ("debian", "11")),
        # SLE Micro 5.x (ID sle-micro) is SUSE Linux Micro, not SLES
        ({"/etc/os-release": 'NAME="SLE Micro"\nID="sle-micro"\nVERSION_ID="5.4"\n'}, ("suse-linux-micro", "5.4")),
        # Only /etc/system-release-cpe: the OS CPE names vendor and release
        ({"/etc/system-release-cpe": "cpe:/o:redhat:enterprise_linux:8.6:ga\n"}, ("rhel", "8")),
        ({"/etc/system-release-cpe": "cpe:2.3:o:amazon:amazon_linux:2\n"}, ("amazon-linux", "2")),
        # An os-release without ID keeps its CPE_NAME
        (
            {
                "/etc/os-release": 'NAME="Oracle Linux Server"\nVERSION="7.9"\nCPE_NAME="cpe:/o:oracle:linux:7:9:server"\n'  # noqa: E501
            },
            ("oracle-linux", "7"),
        ),
        # ... but a rebuild that reuses its parent's CPE stays unknown, never the parent
        ({"/etc/os-release": 'NAME="CentOS Stream"\nVERSION="8"\nCPE_NAME="cpe:/o:centos:centos:8"\n'}, (None, None)),
        # A vendor the CPE table does not list is unknown
        ({"/etc/system-release-cpe": "cpe:/o:scientificlinux:scientificlinux:7.9:ga\n"}, (None, None)),
        # Debian testing/unstable names the next release's codename but is not that release
        (
            {"/etc/os-release": 'PRETTY_NAME="Debian GNU/Linux bookworm/sid"\nNAME="Debian GNU/Linux"\nID=debian\n'},
            ("debian", None),
        ),
    ],
)
def test_second_round_linux_forms(
    ctx: IdentifyContext, files: dict[str, str], expected: tuple[str | None, str | None]
) -> None:
    """General forms found in the second, independent string collection (see
    tests/fixtures/extra_labelled/PROVENANCE.md): checked here on strings other than the fixtures'."""
    out = evaluate({"kind": "os", "family": "linux", "files": files}, ctx, REF, Policy())
    assert (out["product"], out["cycle"]) == expected, out
    assert out["status"] != "eol" or expected[1] is not None
