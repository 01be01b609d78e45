"""Target files: every format, per-target overrides, and errors that name the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.targets import Target, TargetError, load_targets, parse_ansible_ini, parse_csv, parse_list, parse_toml


def test_csv_all_columns_and_defaults() -> None:
    text = (
        "host,site,transport,port,user,tags\n"
        "# a comment line\n"
        "pacs01.trust.nhs.uk,Main Hospital,ssh,2222,scan,pacs;imaging\n"
        "10.1.2.3,Community,,,,\n"
        "ward-pc-7,Main Hospital,winrm,,,\n"
    )
    ts = parse_csv(text, "t.csv")
    assert ts[0] == Target("pacs01.trust.nhs.uk", "Main Hospital", "ssh", 2222, "scan", ("imaging", "pacs"))
    assert ts[1] == Target("10.1.2.3", "Community", "ssh", 22, "", ())
    assert ts[2].transport == "winrm" and ts[2].port == 5986  # HTTPS unless 5985 is asked for
    assert ts[0].key == "ssh://pacs01.trust.nhs.uk:2222"


def test_csv_cidr_expands_without_network_and_broadcast() -> None:
    ts = parse_csv("host,site\n192.168.10.0/30,Lab\n")
    assert [t.host for t in ts] == ["192.168.10.1", "192.168.10.2"]
    assert {t.site for t in ts} == {"Lab"}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("host,site\nok,A\nbad host,A\n", "t.csv:3: 'bad host' is not a valid host name"),
        ("host,site,port\nok,A,99999\n", "t.csv:2: port 99999 is outside 1-65535"),
        ("host,site,port\nok,A,ssh\n", "t.csv:2: port 'ssh' is not a number"),
        ("host,transport\nok,telnet\n", "t.csv:2: transport 'telnet' is not one of ssh, winrm"),
        ("host,password\nok,hunter2\n", "t.csv:1: column 'password' looks like a secret"),
        ("name,site\nok,A\n", "t.csv:1: the first line must be a header"),
        ("host,site\n10.0.0.0/8,A\n", "t.csv:2: 10.0.0.0/8 has 16777216 addresses"),
        ("host,site\nok,A,extra,fields\n", "t.csv:2: 4 fields but the header has 2"),
        ("host,tags\nok,bad|tag\n", "t.csv:2: tag 'bad|tag'"),
    ],
)
def test_csv_errors_name_the_line(text: str, fragment: str) -> None:
    with pytest.raises(TargetError) as err:
        parse_csv(text, "t.csv")
    assert fragment in str(err.value)


def test_toml_sites_defaults_and_overrides() -> None:
    text = """
[defaults]
user = "scan"
tags = ["nhs"]

[[site]]
name = "Main Hospital"
port = 2200
tags = ["pacs"]
hosts = ["10.9.0.0/30", "pacs02"]

[[target]]
host = "lab-mac"
site = "Pathology"
port = 22
user = "labscan"
"""
    ts = parse_toml(text, "t.toml")
    assert [t.host for t in ts] == ["10.9.0.1", "10.9.0.2", "pacs02", "lab-mac"]
    assert ts[0] == Target("10.9.0.1", "Main Hospital", "ssh", 2200, "scan", ("nhs", "pacs"))
    assert ts[3] == Target("lab-mac", "Pathology", "ssh", 22, "labscan", ("nhs",))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[defaults\nuser='x'", "t.toml: not valid TOML"),
        ("[[target]]\nsite='A'\n", "[[target]] #1: missing host"),
        ("[[site]]\nname='A'\nhosts=['ok','bad host']\n", "[[site]] #1: 'bad host' is not a valid host"),
        ("[[target]]\nhost='x'\npassword='p'\n", "looks like a secret"),
        ("[servers]\nx=1\n", "unknown table(s) servers"),
    ],
)
def test_toml_errors(text: str, fragment: str) -> None:
    with pytest.raises(TargetError) as err:
        parse_toml(text, "t.toml")
    assert fragment in str(err.value)


ANSIBLE = """
# hospital estate
jump01 ansible_host=10.0.0.5

[radiology]
pacs[01:03].trust.nhs.uk ansible_user=scan
ris01 ansible_host=10.1.1.9 ansible_port=2222

[pathology]
lims01
ris01

[windows]
ward-pc-01 ansible_connection=winrm ansible_port=5986

[radiology:vars]
ansible_user=radscan

[clinical:children]
radiology
pathology
"""


def test_ansible_ini_groups_become_sites() -> None:
    ts = {t.host: t for t in parse_ansible_ini(ANSIBLE, "hosts.ini")}
    assert set(ts) == {
        "10.0.0.5",
        "pacs01.trust.nhs.uk",
        "pacs02.trust.nhs.uk",
        "pacs03.trust.nhs.uk",
        "10.1.1.9",
        "lims01",
        "ward-pc-01",
    }
    assert ts["pacs02.trust.nhs.uk"] == Target("pacs02.trust.nhs.uk", "radiology", "ssh", 22, "scan", ("clinical",))
    # host var beats group var; first group is the site, the others (and parents) tags
    assert ts["10.1.1.9"] == Target("10.1.1.9", "radiology", "ssh", 2222, "radscan", ("clinical", "pathology"))
    assert ts["ward-pc-01"].transport == "winrm" and ts["ward-pc-01"].port == 5986
    assert ts["10.0.0.5"].site == ""


def test_ansible_ini_groups_as_tags() -> None:
    ts = {t.host: t for t in parse_ansible_ini(ANSIBLE, "hosts.ini", groups_as="tag")}
    assert ts["lims01"].site == "" and ts["lims01"].tags == ("clinical", "pathology")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[web\nhost1\n", "inv.ini:1: malformed section header"),
        ("[web]\nhost1 ansible_password=secret\n", "inv.ini:2: ansible_password is a secret"),
        ("[web]\nhost1 junk\n", "inv.ini:2: expected key=value after the host name"),
        ("[web]\nh1 ansible_connection=docker\n", "inv.ini:2: ansible_connection='docker' is not scannable"),
        ("[web:vars]\nnovalue\n", "inv.ini:2: expected key=value"),
    ],
)
def test_ansible_ini_errors(text: str, fragment: str) -> None:
    with pytest.raises(TargetError) as err:
        parse_ansible_ini(text, "inv.ini")
    assert fragment in str(err.value)


def test_plain_list_with_overrides() -> None:
    ts = parse_list("10.2.0.0/31 site=Theatres tags=or;anaesthesia\nmri-console port=2222 user=svc # MRI\n")
    assert [t.host for t in ts] == ["10.2.0.0", "10.2.0.1", "mri-console"]
    assert ts[0].site == "Theatres" and ts[0].tags == ("anaesthesia", "or")
    assert ts[2].port == 2222 and ts[2].user == "svc"
    with pytest.raises(TargetError, match="x.txt:1: unexpected 'colour=red'"):
        parse_list("host1 colour=red\n", "x.txt")


def test_load_targets_detects_format_applies_cli_defaults_and_dedupes(tmp_path: Path) -> None:
    f = tmp_path / "estate.csv"
    f.write_text("host,site,transport,port,user,tags\nh1,,ssh,,,a\nh1,,ssh,,,b\nh2,Other,ssh,,root,\n")
    ts = load_targets(f, site="Default Site", user="scanner")
    assert len(ts) == 2
    assert ts[0] == Target("h1", "Default Site", "ssh", 22, "scanner", ("a", "b"))
    assert ts[1].site == "Other" and ts[1].user == "root"
    ini = tmp_path / "hosts"
    ini.write_text("[ward]\npc1\n")
    assert load_targets(ini)[0].site == "ward"
    lst = tmp_path / "ranges.txt"
    lst.write_text("# ranges\n127.0.0.0/30\n")
    assert len(load_targets(lst)) == 2
    with pytest.raises(TargetError, match="no such targets file"):
        load_targets(tmp_path / "missing.csv")
