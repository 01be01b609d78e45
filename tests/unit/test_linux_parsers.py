"""Pure Linux parsers on real captured files (corpus os-release texts, a real dpkg database, a
real Alpine installed database rebuilt from its captured header letters)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents import linux
from agents.collect import Collector
from agents.shell import ReplayShell

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fixtures" / "corpus" / "os_records.jsonl"
HOST = ROOT / "tests" / "fixtures" / "hosts" / "debian12-workplace"
CAPTURES = ROOT / "scanner" / "demo_data" / "captures"


def test_os_release_parser_on_every_corpus_file() -> None:
    seen = 0
    for line in CORPUS.read_text("utf-8").splitlines():
        rec = json.loads(line)
        for path, text in rec["raw"].items():
            if path in ("/etc/os-release", "/usr/lib/os-release") and text.strip():
                data = linux.parse_os_release(text)
                seen += 1
                assert "NAME" in data or "ID" in data, rec["id"]
                assert all('"' not in v[:1] for v in data.values()), "quotes must be removed"
    assert seen >= 30


def test_os_release_quoting_and_comments() -> None:
    text = '# comment\nNAME="Foo Linux"\nID=foo\nVERSION="1.0 (Bar \\"q\\")"\nBROKEN LINE\nID_LIKE=\'rhel fedora\'\n'
    data = linux.parse_os_release(text)
    assert data == {"NAME": "Foo Linux", "ID": "foo", "VERSION": '1.0 (Bar "q")', "ID_LIKE": "rhel fedora"}


def test_dpkg_status_real_database() -> None:
    text = (HOST / "files/var/lib/dpkg/status").read_text("utf-8")
    pkgs = linux.parse_dpkg_status(text)
    assert len(pkgs) > 100
    names = {p.name for p in pkgs}
    assert {"bash", "libc6", "dpkg"} <= names
    assert all(p.name and p.version and p.source == "dpkg" for p in pkgs)


def test_dpkg_status_skips_removed_packages() -> None:
    text = (
        "Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n\n"
        "Package: here\nStatus: install ok installed\nVersion: 2:1.2-3\nArchitecture: amd64\n"
    )
    pkgs = linux.parse_dpkg_status(text)
    assert [(p.name, p.version, p.arch) for p in pkgs] == [("here", "2:1.2-3", "amd64")]


def test_dpkg_query_and_rpm_output() -> None:
    dq = "bash\t5.2.15-2+b2\tamd64\tii \nold\t1.0\tamd64\trc \n"
    assert [p.name for p in linux.parse_dpkg_query(dq)] == ["bash"]
    rpm = (
        "openssl\t1:1.1.1k-5.el8_5\tx86_64\tCentOS\n"
        "bash\t(none):4.4.19-14.el8\tx86_64\t(none)\ngpg-pubkey\t0:x-y\t(none)\t\n"
    )
    parsed = linux.parse_rpm_qa(rpm)
    assert [(p.name, p.version, p.publisher) for p in parsed] == [
        ("openssl", "1:1.1.1k-5.el8_5", "CentOS"),
        ("bash", "4.4.19-14.el8", ""),
    ]


def test_apk_installed_db_from_real_capture() -> None:
    cap = json.loads((CAPTURES / "linux/alpine-3.10-container-image_trivy.json").read_text("utf-8"))
    stanzas = ["\n".join(f"{k}:{v}" for k, v in sw["raw"].items()) for sw in cap["software"]]
    pkgs = linux.parse_apk_installed("\n\n".join(stanzas) + "\n")
    assert len(pkgs) == len(cap["software"])
    assert ("musl", "1.1.22-r3") in {(p.name, p.version) for p in pkgs}


def test_replayed_host_through_real_collector() -> None:
    inv = Collector(ReplayShell(HOST), site="ward-7").collect()
    assert inv.os.family == "linux"
    assert inv.os.name.startswith("Debian GNU/Linux 12")
    assert "/etc/os-release" in inv.os.facts["files"]
    assert len(inv.software) > 100
    assert inv.host.site == "ward-7"
    assert inv.host.machine_id.startswith("derived-")  # the capture has no machine-id
    assert not [p for p in inv.problems if p.probe != "uname"]


def test_dpkg_query_status_abbrev_held_is_installed_half_installed_is_not() -> None:
    # want/state/error: "hi " is `apt-mark hold` on an installed package; "iU"/"iF" never finished.
    dq = (
        "held\t1.0\tamd64\thi \nunpacked\t1.0\tamd64\tiU \nfailed\t1.0\tamd64\tiF \n"
        "removed\t1.0\tamd64\trc \nnormal\t2.0\tall\tii \n"
    )
    assert [p.name for p in linux.parse_dpkg_query(dq)] == ["held", "normal"]


def test_identical_package_lines_share_one_record_across_hosts() -> None:
    """Fleet scans rely on it (per-line parse once, encode/match memos by identity): through the
    memo the scan owns (``PackageMemo``), never the pure parsers."""
    memo = linux.PackageMemo()
    host_a = "bash\t5.2.15-2+b2\tamd64\tii \nopenssl\t3.0.11-1~deb12u2\tamd64\tii \n"
    host_b = "openssl\t3.0.11-1~deb12u2\tamd64\tii \ncurl\t7.88.1-10\tamd64\tii \n"
    a, b = memo.dpkg_query(host_a), memo.dpkg_query(host_b)
    assert a[1] is b[0] and linux.shared(a[1])
    assert a[0] is not b[1] and (a[0].name, b[1].name) == ("bash", "curl")
    rpm_line = "bash\t(none):4.4.19-14.el8\tx86_64\t(none)\n"
    assert memo.rpm_qa(rpm_line)[0] is memo.rpm_qa(rpm_line)[0]
    assert memo.rpm_qa(rpm_line)[0] is not memo.dpkg_query("bash\t4.4.19-14.el8\tx86_64\tii \n")[0]
    from agents.inventory import Software

    assert not linux.shared(Software(name="bash", version="5.2.15-2+b2", arch="amd64", source="dpkg"))
    # another scan's memo: records of its own (equal, not the same)
    other = linux.PackageMemo().dpkg_query(host_a)
    assert other == a and not any(x is y for x, y in zip(other, a, strict=True))
    # the same records as the pure parsers, whatever the memo remembers
    assert a == linux.parse_dpkg_query(host_a) and memo.rpm_qa(rpm_line) == linux.parse_rpm_qa(rpm_line)


def test_line_memo_is_bounded() -> None:
    memo = linux.PackageMemo(lines=10)
    first = memo.dpkg_query("".join(f"p{i}\t1.{i}\tall\tii \n" for i in range(25)))
    assert len(first) == 25 and len(memo.lines["dpkg"]) <= 10
    assert sum(any(sw is kept for kept in memo.lines["dpkg"].values()) for sw in first) <= 10  # the rest forgotten
    again = memo.dpkg_query("p3\t1.3\tall\tii \n")
    assert (again[0].name, again[0].version) == ("p3", "1.3")
    assert again[0] is not first[3] and again[0] == first[3]  # forgotten: parsed again, the same record


def test_the_pure_parsers_return_equal_independent_records_every_call() -> None:
    """A parser is a function of its text: called twice it returns equal records of the caller's
    own (changing one changes nothing another call returned, nor what a later call returns)."""
    status = (HOST / "files/var/lib/dpkg/status").read_text("utf-8")
    query = "bash\t5.2.15-2+b2\tamd64\tii \nopenssl\t3.0.11-1~deb12u2\tamd64\tii \n"
    rpm = "bash\t(none):4.4.19-14.el8\tx86_64\t(none)\ncurl\t(none):7.61.1-22.el8\tx86_64\t(none)\n"
    for parse, text in (
        (linux.parse_dpkg_status, status),
        (linux.parse_dpkg_query, query),
        (linux.parse_rpm_qa, rpm),
    ):
        first, second = parse(text), parse(text)
        assert len(first) > 1 and first == second
        assert not any(a is b for a, b in zip(first, second, strict=True))
        assert not any(map(linux.shared, first))
        name = second[0].name
        first[0].name = "changed"
        first[0].collapsed.append("a rule")
        assert (second[0].name, second[0].collapsed) == (name, [])
        assert (parse(text)[0].name, parse(text)[0].collapsed) == (name, [])


def test_a_memos_records_cannot_be_changed() -> None:
    """What one host's inventory holds is every host's with the same line: nobody may edit it."""
    import copy
    import pickle
    from dataclasses import replace

    from agents.inventory import FrozenSoftware, Software

    memo = linux.PackageMemo()
    text = "bash\t5.2.15-2+b2\tamd64\tii \n"
    record = memo.dpkg_query(text)[0]
    assert isinstance(record, FrozenSoftware)
    with pytest.raises(AttributeError):
        record.version = "6.0"
    with pytest.raises(TypeError):
        record.collapsed.append("a rule")
    with pytest.raises(TypeError):
        record.collapsed += ["a rule"]
    assert memo.dpkg_query(text)[0] is record and (record.version, record.collapsed) == ("5.2.15-2+b2", [])
    # equal to an ordinary record with the same fields; a changed copy is a record of its own
    plain = Software(name="bash", version="5.2.15-2+b2", arch="amd64", source="dpkg")
    assert record == plain and plain == record and record != replace(plain, version="6.0")
    changed = replace(record, version="6.0")
    assert changed.version == "6.0" and record.version == "5.2.15-2+b2"
    thawed = record.thawed()
    thawed.collapsed.append("a rule")
    assert type(thawed) is Software and record.collapsed == [] and thawed == replace(plain, collapsed=["a rule"])
    for back in (copy.deepcopy(record), pickle.loads(pickle.dumps(record))):  # noqa: S301 - our own bytes
        assert back == record and back is not record and isinstance(back, FrozenSoftware)
        with pytest.raises(TypeError):
            back.collapsed.append("a rule")
    # every record without collapsed rules shares the one empty list nobody can change: a pickle of
    # a fleet's rows writes it once (the collector processes send packages as rows of their fields)
    others = memo.dpkg_query("curl\t7.88.1-10\tamd64\tii \nzlib1g\t1:1.2.13\tamd64\tii \n")
    assert all(sw.collapsed is record.collapsed for sw in others)
    rows = pickle.loads(pickle.dumps([(sw.name, sw.collapsed) for sw in [record, *others]]))  # noqa: S301
    assert len({id(collapsed) for _, collapsed in rows}) == 1 and rows[0][1] == []
    with pytest.raises(TypeError):
        rows[0][1].append("a rule")


def test_dpkg_status_filtered_by_grep_gives_the_same_packages_as_the_whole_file() -> None:
    """What the SSH probe sends (``grep -E DPKG_STATUS_FIELDS``, no blank lines between stanzas)
    parses to exactly the packages of the whole database (a real one, from a captured host)."""
    import subprocess

    status = HOST / "files/var/lib/dpkg/status"
    filtered = subprocess.run(
        ["grep", "-E", linux.DPKG_STATUS_FIELDS, str(status)], capture_output=True, text=True, check=True
    ).stdout
    assert "Description" not in filtered and "\n\n" not in filtered
    whole = [(p.name, p.version, p.arch) for p in linux.parse_dpkg_status(status.read_text("utf-8"))]
    assert len(whole) > 100
    assert [(p.name, p.version, p.arch) for p in linux.parse_dpkg_status(filtered)] == whole


def test_line_memo_survives_concurrent_parsers_evicting() -> None:
    """Fleet scans parse on many threads at once; a full memo must never break one of them."""
    import threading

    memo = linux.PackageMemo(lines=50)
    errors: list[BaseException] = []

    def parse(offset: int) -> None:
        try:
            for round_ in range(40):
                text = "".join(f"p{offset}-{round_}-{i}\t1.{i}\tall\tii \n" for i in range(30))
                got = memo.dpkg_query(text)
                assert [p.name for p in got] == [f"p{offset}-{round_}-{i}" for i in range(30)]
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    import sys

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: the old eviction failed here
    try:
        threads = [threading.Thread(target=parse, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors, errors[:3]


def test_a_whole_answer_met_before_gives_the_same_records_in_a_list_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every host of a build sends the same package-manager text: it is parsed once per memo."""
    status = (HOST / "files/var/lib/dpkg/status").read_text("utf-8")
    rpm = "bash\t(none):4.4.19-14.el8\tx86_64\t(none)\ncurl\t(none):7.61.1-22.el8\tx86_64\t(none)\n"
    calls: list[str] = []
    memo = linux.PackageMemo()
    for parse, text in ((memo.dpkg_status, status), (memo.rpm_qa, rpm)):
        first = parse(text)
        monkeypatch.setattr(memo, "_parsed", lambda *a: calls.append("parsed") or [])
        again = parse(text)
        monkeypatch.undo()
        assert not calls and again == first and all(a is b for a, b in zip(again, first, strict=True))
        again.clear()  # the caller's own list: editing it changes nothing remembered
        assert parse(text) == first and len(first) > 1
    # a text is remembered by its digest, never kept itself (a whole dpkg database is megabytes)
    assert linux.text_key(status) in memo.texts["dpkg-status"] and linux.text_key(rpm) in memo.texts["rpm"]
    assert all(isinstance(key, bytes) and len(key) == 16 for texts in memo.texts.values() for key in texts)
    # a line memo that restarts forgets the texts too (they hold the records of the lines forgotten)
    memo.lines_max = 3
    many = "".join(f"q{i}\t1.{i}\tall\tii \n" for i in range(7))
    got = memo.dpkg_query(many)
    assert [p.name for p in got] == [f"q{i}" for i in range(7)]
    assert linux.text_key(many) not in memo.texts["dpkg"] and not memo.texts["rpm"]
