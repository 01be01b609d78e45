"""Fuzz: every parser of operator-written files, the collector's upload validator and the
``eol identify`` line evaluator.

Contract checked (#19 "0 unexpected exceptions", item 18 "every refusal names file, line or
field"): each may refuse only with its documented error type, and a file refusal names the file.
Seeds are the project's own examples (examples/*) mutated; the upload validator gets real-shaped
inventory documents with odd values anywhere.
"""

from __future__ import annotations

import copy
import gzip
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from agents.inventory import Host, Inventory, OsInfo, Software
from eol_data.site import SiteCatalogError, parse_site_catalog
from scanner import exceptions, targets
from scanner.enrolment import TokenInfo
from scanner.plan import ConfigError
from tests.fuzz.strategies import inputs, json_values

pytestmark = pytest.mark.timeout(180)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def _example(name: str) -> str:
    return (EXAMPLES / name).read_text("utf-8")


TARGET_SEEDS = {
    "csv": ["host,site,transport,port,user,tags\nward-pc-01,North,ssh,22,scan,pacs;imaging\n"
            "10.1.2.0/30,South,winrm,,,\n"],
    "toml": ['[defaults]\nsite = "North"\nuser = "scan"\n\n[[targets]]\nhost = "ward-pc-01"\nport = 2222\n'
             'tags = ["pacs"]\n\n[[targets]]\nhosts = ["10.0.0.1", "10.0.0.0/30"]\ntransport = "winrm"\n'],
    "ini": ["[north]\nweb[01:03].example ansible_user=scan\ndb1 ansible_host=10.0.0.5 ansible_port=2222\n\n"
            "[north:vars]\nansible_connection=ssh\n\n[all:children]\nnorth\n"],
    "list": ["ward-pc-01 site=North tags=pacs\n10.0.0.0/30 transport=winrm port=5986\n# comment\n"],
}


@pytest.mark.parametrize("kind", sorted(TARGET_SEEDS))
@given(data=st.data())
def test_target_file_parsers_refuse_only_with_target_error_naming_the_file(kind: str, data: st.DataObject) -> None:
    text = data.draw(inputs(TARGET_SEEDS[kind]))
    try:
        if kind == "ini":
            out = targets.parse_ansible_ini(text, "t.ini")
        else:
            out = {"csv": targets.parse_csv, "toml": targets.parse_toml, "list": targets.parse_list}[kind](text, "t.x")
    except targets.TargetError as exc:
        assert str(exc).startswith("t."), exc
        return
    assert all(t.host for t in targets.finalise(out))


@pytest.mark.parametrize("kind", ["toml", "csv"])
@given(data=st.data())
def test_exceptions_register_refuses_only_with_its_error_naming_the_file(kind: str, data: st.DataObject) -> None:
    text = data.draw(inputs([_example(f"exceptions.{kind}")]))
    try:
        reg = (exceptions.parse_toml if kind == "toml" else exceptions.parse_csv)(text, "register.x")
    except exceptions.ExceptionFileError as exc:
        assert str(exc).startswith("register.x"), exc
        return
    assert all(e.id for e in reg.entries)


@given(inputs([_example("legacyscan-site.toml")]))
def test_site_catalogue_refuses_only_with_its_error_naming_the_file(text: str) -> None:
    try:
        parse_site_catalog(text, Path("site.toml"))
    except SiteCatalogError as exc:
        assert str(exc).startswith("site.toml"), exc


@given(inputs([_example("legacyscan.toml")]))
def test_report_config_refuses_only_with_its_error_naming_the_file(text: str) -> None:
    from scanner.files import loads_toml
    from scanner.plan import config_from_dict

    try:
        config_from_dict(loads_toml(text), "cfg.toml")
    except ValueError as exc:  # tomllib.TOMLDecodeError (the CLI names the file) or ConfigError
        if isinstance(exc, ConfigError):
            assert str(exc).startswith("cfg.toml"), exc


# -- the upload validator --------------------------------------------------------------------------


def _document() -> dict[str, Any]:
    inv = Inventory(host=Host(hostname="ward-pc-01", machine_id="m-1", site="ignored"),
                    os=OsInfo(family="linux", name="Debian GNU/Linux 12 (bookworm)", version="12",
                              facts={"files": {"/etc/os-release": "ID=debian\nVERSION_ID=\"12\"\n"}}),
                    software=[Software(name="bash", version="5.2.15-2+b2", source="dpkg", arch="amd64"),
                              Software(name="openssl", version="3.0.11-1~deb12u2", source="dpkg")],
                    collected_at="2026-11-30T08:00:00Z")
    return inv.to_dict()


DOC = _document()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, prefix + (i,))
    return out


@st.composite
def upload_bodies(draw: st.DrawFn) -> bytes:
    doc = copy.deepcopy(DOC)
    paths = _paths(doc)[1:]
    for _ in range(draw(st.integers(0, 4))):
        path = draw(st.sampled_from(paths))
        node: Any = doc
        try:
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = draw(json_values)
        except (KeyError, IndexError, TypeError):
            continue
    try:
        raw = json.dumps(doc, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    except ValueError:
        raw = b"{}"
    mode = draw(st.sampled_from(["plain", "gzip", "cut", "bytes"]))
    if mode == "gzip":
        return gzip.compress(raw)
    if mode == "cut":
        return raw[: draw(st.integers(0, len(raw)))]
    if mode == "bytes":
        return draw(st.binary(max_size=300))
    return raw


TOKEN = TokenInfo(token_id="t1", site="North", created_at="2026-11-01T00:00:00Z")


@given(upload_bodies())
@example(json.dumps({**DOC, "schema_version": True}).encode())
@example(json.dumps({**DOC, "host": {"hostname": "a\ud800"}}, ensure_ascii=True).encode())
def test_upload_validator_refuses_only_with_refused(body: bytes) -> None:
    from scanner import upload

    for fn in (upload.parse_upload, upload.accept_upload):
        try:
            fn(body, TOKEN)
        except upload.Refused as exc:
            assert 400 <= exc.status < 500, exc.status


# -- eol identify ----------------------------------------------------------------------------------

OS_RECORD = {"kind": "os", "family": "windows", "caption": "Microsoft Windows 10 Pro", "version": "10.0.19045",
             "build": "19045", "ubr": 3803, "display_version": "22H2"}
SW_RECORD = {"kind": "software", "name": "Java 8 Update 391", "version": "8.0.3910.13", "publisher": "Oracle",
             "source": "windows-registry"}
LINUX_RECORD = {"kind": "os", "family": "linux", "files": {"/etc/os-release": 'ID=debian\nVERSION_ID="12"\n'}}


@st.composite
def identify_lines(draw: st.DrawFn) -> bytes:
    record = copy.deepcopy(draw(st.sampled_from([OS_RECORD, SW_RECORD, LINUX_RECORD])))
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.one_of(st.sampled_from(sorted(set(OS_RECORD) | set(SW_RECORD) | {"files", "facts", "arch"})),
                             st.text(max_size=8)))
        record[key] = draw(json_values)
    try:
        line = json.dumps(record).encode()
    except ValueError:
        line = b"{}"
    return draw(st.one_of(st.just(line), inputs([line.decode()]).map(lambda t: t.encode("utf-8", "surrogatepass"))))


@pytest.fixture(scope="module")
def evaluator() -> Any:
    from eol_data.catalog import Catalog
    from scanner.identify import IdentifyContext, evaluate
    from scanner.model import Policy

    ctx = IdentifyContext(Catalog())
    policy = Policy()
    return lambda record: evaluate(record, ctx, date(2026, 11, 30), policy)


@given(st.lists(identify_lines(), min_size=1, max_size=5))
@example([json.dumps({**OS_RECORD, "ubr": "\u00b2", "build": "\u00b2"}).encode()])
@example([json.dumps({**SW_RECORD, "version": "\u00b2" * 3, "name": "Java \u00b2"}).encode()])
def test_identify_answers_every_line_without_internal_errors(evaluator: Any, lines: list[bytes]) -> None:
    from scanner.cli.eol import identify_stream

    out = io.BytesIO()
    n = identify_stream(io.BytesIO(b"\n".join(lines) + b"\n"), out, evaluator)
    answers = out.getvalue().decode().splitlines()
    assert len(answers) == n
    for answer in answers:
        doc = json.loads(answer)
        assert "internal error" not in doc.get("error", ""), doc
