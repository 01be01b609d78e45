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
from eol_data.rules import Rules
from eol_data.site import SiteCatalogError, parse_site_catalog
from scanner import targets
from scanner.plan import risk_register as exceptions
from scanner.plan.config import ConfigError
from scanner.store.enrolment import TokenInfo
from tests.fuzz.strategies import hostile_text, inputs, json_values

pytestmark = pytest.mark.timeout(180)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def _example(name: str) -> str:
    return (EXAMPLES / name).read_text("utf-8")


TARGET_SEEDS = {
    "csv": [
        "host,site,transport,port,user,tags\nward-pc-01,North,ssh,22,scan,pacs;imaging\n10.1.2.0/30,South,winrm,,,\n"
    ],
    "toml": [
        '[defaults]\nsite = "North"\nuser = "scan"\n\n[[targets]]\nhost = "ward-pc-01"\nport = 2222\n'
        'tags = ["pacs"]\n\n[[targets]]\nhosts = ["10.0.0.1", "10.0.0.0/30"]\ntransport = "winrm"\n'
    ],
    "ini": [
        "[north]\nweb[01:03].example ansible_user=scan\ndb1 ansible_host=10.0.0.5 ansible_port=2222\n\n"
        "[north:vars]\nansible_connection=ssh\n\n[all:children]\nnorth\n"
    ],
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
    from scanner.plan.config import config_from_dict

    try:
        config_from_dict(loads_toml(text), "cfg.toml")
    except ValueError as exc:  # tomllib.TOMLDecodeError (the CLI names the file) or ConfigError
        if isinstance(exc, ConfigError):
            assert str(exc).startswith("cfg.toml"), exc


# -- the upload validator --------------------------------------------------------------------------


def _document() -> dict[str, Any]:
    inv = Inventory(
        host=Host(hostname="ward-pc-01", machine_id="m-1", site="ignored"),
        os=OsInfo(
            family="linux",
            name="Debian GNU/Linux 12 (bookworm)",
            version="12",
            facts={"files": {"/etc/os-release": 'ID=debian\nVERSION_ID="12"\n'}},
        ),
        software=[
            Software(name="bash", version="5.2.15-2+b2", source="dpkg", arch="amd64"),
            Software(name="openssl", version="3.0.11-1~deb12u2", source="dpkg"),
        ],
        collected_at="2026-11-30T08:00:00Z",
    )
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
    from scanner.service import upload
    from tests.upload_reference import parse_upload

    for fn in (parse_upload, upload.accept_upload):
        try:
            fn(body, TOKEN)
        except upload.Refused as exc:
            assert 400 <= exc.status < 500, exc.status


@given(upload_bodies())
@example(json.dumps({**DOC, "software": [{"name": "a", "version": 1}, {"name": "b", "arch": None}]}).encode())
@example(json.dumps({**DOC, "host": {"hostname": ["pc"]}, "software": "x"}).encode())
# the model reads the package records before the collector: the first error is the record's
@example(json.dumps({**DOC, "software": [{"name": "a", "windows_installer": []}], "collector": {"name": []}}).encode())
@example(json.dumps({**DOC, "software": [{"name": "a", "windows_installer": []}], "collected_at": []}).encode())
def test_the_upload_validator_answers_as_the_models_own_reading(body: bytes) -> None:
    """One validator (``accept_upload``), held to the model's reading of the whole document
    (``tests/upload_reference.py``): any mutated document is accepted by both or refused by both
    with the same status and reason, and what is stored is the same inventory."""
    from scanner.service import upload
    from scanner.store.sqlite import decode_body, encode_body
    from tests.upload_reference import parse_upload

    try:
        reference = parse_upload(body, TOKEN)
    except upload.Refused as exc:
        try:
            upload.accept_upload(body, TOKEN)
        except upload.Refused as fast:
            assert (fast.status, fast.reason) == (exc.status, exc.reason)
        else:
            raise AssertionError(f"accepted what the reference refuses: {exc.reason}") from None
        return
    assert decode_body(upload.accept_upload(body, TOKEN).body) == decode_body(encode_body(reference))


# -- eol identify ----------------------------------------------------------------------------------

OS_RECORD = {
    "kind": "os",
    "family": "windows",
    "caption": "Microsoft Windows 10 Pro",
    "version": "10.0.19045",
    "build": "19045",
    "ubr": 3803,
    "display_version": "22H2",
}
SW_RECORD = {
    "kind": "software",
    "name": "Java 8 Update 391",
    "version": "8.0.3910.13",
    "publisher": "Oracle",
    "source": "windows-registry",
}
LINUX_RECORD = {"kind": "os", "family": "linux", "files": {"/etc/os-release": 'ID=debian\nVERSION_ID="12"\n'}}


@st.composite
def identify_lines(draw: st.DrawFn) -> bytes:
    record = copy.deepcopy(draw(st.sampled_from([OS_RECORD, SW_RECORD, LINUX_RECORD])))
    for _ in range(draw(st.integers(0, 3))):
        key = draw(
            st.one_of(
                st.sampled_from(sorted(set(OS_RECORD) | set(SW_RECORD) | {"files", "facts", "arch"})),
                st.text(max_size=8),
            )
        )
        record[key] = draw(json_values)
    try:
        line = json.dumps(record).encode()
    except ValueError:
        line = b"{}"
    return draw(st.one_of(st.just(line), inputs([line.decode()]).map(lambda t: t.encode("utf-8", "surrogatepass"))))


@pytest.fixture(scope="module")
def evaluator() -> Any:
    from eol_data.catalog import Catalog
    from scanner.identify.registry import IdentifyContext, evaluate
    from scanner.model import Policy

    ctx = IdentifyContext(Catalog())
    policy = Policy()
    return lambda record: evaluate(record, ctx, date(2026, 11, 30), policy)


@given(st.lists(identify_lines(), min_size=1, max_size=5))
@example([json.dumps({**OS_RECORD, "ubr": "\u00b2", "build": "\u00b2"}).encode()])
@example([json.dumps({**SW_RECORD, "version": "\u00b2" * 3, "name": "Java \u00b2"}).encode()])
def test_identify_answers_every_line_without_internal_errors(evaluator: Any, lines: list[bytes]) -> None:
    from scanner.identify.answers import identify_stream

    out = io.BytesIO()
    n = identify_stream(io.BytesIO(b"\n".join(lines) + b"\n"), out, evaluator)
    answers = out.getvalue().decode().splitlines()
    assert len(answers) == n
    for answer in answers:
        doc = json.loads(answer)
        assert "internal error" not in doc.get("error", ""), doc


# Windows OS records: any realistic caption beside any build the rules know.  The build tables
# are read from the rules (every NT 10 feature-update build, server-only ones included) plus the
# NT 5/6 builds the legacy rules decide service packs by; each example draws one caption and the
# fields around it, then asks about that caption with every build, so every pair is reachable.
WINDOWS_CAPTIONS = [
    "Microsoft Windows Server 2022 Datacenter",
    "Microsoft Windows Server 2019 Standard",
    "Microsoft Windows Server 2016 Standard Evaluation",
    "Microsoft Windows Server 2025 Datacenter",
    "Microsoft Windows Server Datacenter",
    "Microsoft Windows Server Standard",
    "Microsoft Windows Server 2012 R2 Standard",
    "Microsoft® Windows Server® 2008 Enterprise",
    "Microsoft Windows Server 2008 R2 Enterprise",
    "Microsoft(R) Windows(R) Server 2003, Standard Edition",
    "Microsoft Windows 2000 Server",
    "Windows Server 2022 Standard Evaluation",
    "Microsoft Windows 10 Pro",
    "Microsoft Windows 10 Enterprise",
    "Microsoft Windows 10 Education",
    "Microsoft Windows 10 Home",
    "Microsoft Windows 10 Enterprise LTSC",
    "Microsoft Windows 10 Enterprise 2016 LTSB",
    "Microsoft Windows 10 IoT Enterprise LTSC 2021",
    "Microsoft Windows 10 Enterprise multi-session",
    "Microsoft Windows 10 Pro for Workstations",
    "Microsoft Windows 10 Professionnel",
    "Microsoft Windows 10 Pro N",
    "Windows 10 Enterprise",
    "Microsoft Windows 11 Pro",
    "Microsoft Windows 11 Enterprise",
    "Microsoft Windows 11 Home",
    "Microsoft Windows 11 IoT Enterprise LTSC 2024",
    "Microsoft Windows 11 Education",
    "Microsoft Windows 11 Enterprise multi-session",
    "Microsoft Windows 8.1 Pro",
    "Microsoft Windows 8 Enterprise",
    "Microsoft Windows 7 Professional",
    "Microsoft Windows 7 Enterprise Service Pack 1",
    "Windows Embedded Standard 7",
    "Windows Embedded POSReady 7",
    "Microsoft Windows XP Professional",
    "Microsoft Windows Vista Business",
    "Microsoft Windows Embedded 8.1 Industry Pro",
    "Windows",
    "",
]
_WINDOWS_RULES = Rules().table("windows_os")
WINDOWS_BUILDS = sorted(
    {int(b) for b in _WINDOWS_RULES["nt10"]} | {2195, 2600, 3790, 6000, 6001, 6002, 6003, 7600, 7601, 9200, 9600}
)
_NT_BY_BUILD = {
    2195: "5.0",
    2600: "5.1",
    3790: "5.2",
    6000: "6.0",
    6001: "6.0",
    6002: "6.0",
    6003: "6.0",
    7600: "6.1",
    7601: "6.1",
    9200: "6.2",
    9600: "6.3",
}
EDITION_IDS = [
    "Professional",
    "Core",
    "Enterprise",
    "EnterpriseS",
    "IoTEnterpriseS",
    "IoTEnterprise",
    "Education",
    "ServerRdsh",
    "ServerStandard",
    "ServerDatacenter",
    "ServerStandardEval",
]


@st.composite
def windows_fields(draw: st.DrawFn) -> dict[str, Any]:
    """Caption and the fields around a build: where the build sits, edition, role, feature update."""
    fields: dict[str, Any] = {
        "kind": "os",
        "family": "windows",
        "caption": draw(st.sampled_from(WINDOWS_CAPTIONS)),
        "_shape": draw(st.sampled_from(["build", "version", "both", "int", "systeminfo"])),
    }
    optional = {
        "edition_id": st.sampled_from(EDITION_IDS),
        "product_type": st.sampled_from([1, 2, 3, "1", "3"]),
        "installation_type": st.sampled_from(["Client", "Server", "Server Core"]),
        "display_version": st.sampled_from(sorted(_WINDOWS_RULES["feature_updates"])).map(str.upper),
        "ubr": st.integers(0, 7000),
        "service_pack": st.sampled_from(["Service Pack 1", "Service Pack 2", ""]),
    }
    for name in draw(st.lists(st.sampled_from(sorted(optional)), unique=True, max_size=3)):
        fields[name] = draw(optional[name])
    return fields


def _with_build(fields: dict[str, Any], build: int) -> dict[str, Any]:
    record = {k: v for k, v in fields.items() if k != "_shape"}
    version = f"{_NT_BY_BUILD.get(build, '10.0')}.{build}"
    shape = fields["_shape"]
    if shape == "systeminfo":  # a localized/pasted systeminfo: caption and build only in extra keys
        record["OS Name"] = record.pop("caption")
        record["OS Version"] = f"{version} N/A Build {build}"
    elif shape == "int":
        record["build"] = build
    else:
        if shape in ("build", "both"):
            record["build"] = str(build)
        if shape in ("version", "both"):
            record["version"] = version
    return record


@given(windows_fields())
def test_identify_windows_caption_with_any_known_build_never_crashes(evaluator: Any, fields: dict[str, Any]) -> None:
    from scanner.identify.answers import identify_stream

    lines = [json.dumps(_with_build(fields, build)).encode() for build in WINDOWS_BUILDS]
    out = io.BytesIO()
    assert identify_stream(io.BytesIO(b"\n".join(lines) + b"\n"), out, evaluator) == len(lines)
    for line, answer in zip(lines, out.getvalue().decode().splitlines(), strict=True):
        doc = json.loads(answer)
        assert "error" not in doc, (line, doc)
        assert doc["status"] in ("supported", "ending-soon", "extended", "eol", "unknown"), doc
        if doc["rule"].endswith("-mismatch"):  # evidence that contradicts itself: never a guessed date
            assert (doc["cycle"], doc["eol"], doc["status"]) == (None, None, "unknown"), (line, doc)


# -- discovery's exclusion list --------------------------------------------------------------------

EXCLUSION_SEEDS = [
    "# infusion pumps: the supplier forbids unsolicited traffic\n10.20.0.14\n10.20.30.0/24\n"
    "mri-console.example.nhs.uk\ntag:infusion-pump\nfe80::/64\n"
]


@given(inputs(EXCLUSION_SEEDS))
def test_exclusion_list_refuses_only_with_target_error_naming_the_file(text: str) -> None:
    from scanner.discover import exclusions
    from scanner.targets import Target

    try:
        parsed = exclusions.parse(text, "exclusions.txt")
    except targets.TargetError as exc:
        assert str(exc).startswith("exclusions.txt:"), exc
        return
    for host in ("10.20.30.7", "mri-console.example.nhs.uk", "::1", "ward-pc"):
        assert isinstance(parsed.reason(Target(host=host)), str)


# -- Retry-After, as the agent and `eol update` read it (item 13) -----------------------------------

retry_after_values = st.one_of(
    hostile_text,
    st.integers(-(2**70), 2**70).map(str),
    st.datetimes().map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S GMT")),
    st.sampled_from(["\u00b2", "\u0661\u0662", "1e3", "0x10", " 7 ", "Sun, 06 Nov 2994 08:49:37 GMT"]),
)


@given(retry_after_values)
def test_retry_after_is_parsed_strictly_and_bounded_by_both_readers(value: str) -> None:
    from agents.agent import parse_retry_after
    from eol_data.update import _retry_after

    wait = parse_retry_after(value, 1_764_590_400.0, 60.0)
    assert wait is None or 0.0 <= wait <= 60.0
    fallback = _retry_after(value, 3)
    assert fallback >= 0.0 and fallback == fallback  # a number, never NaN or an exception


# -- `eol update`: whatever the source serves ------------------------------------------------------


def _api_seed() -> dict[str, Any]:
    from eol_data.catalog import BUNDLED_DIR

    products = []
    for name in ("windows", "debian", "nodejs"):
        doc = json.loads((BUNDLED_DIR / "products" / f"{name}.json").read_text("utf-8"))
        result = doc["result"]
        result["releases"] = result["releases"][:4]
        products.append(result)
    return {"schema_version": "1.2.1", "generated_at": "2026-11-30T00:00:00+00:00", "total": 3, "result": products}


API_SEED = _api_seed()


@st.composite
def api_documents(draw: st.DrawFn) -> bytes:
    doc = copy.deepcopy(API_SEED)
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
        raw = json.dumps(doc).encode()
    except ValueError:
        raw = b"{}"
    return draw(st.one_of(st.just(raw), st.just(raw[: draw(st.integers(0, len(raw)))])))


@given(api_documents())
def test_eol_update_accepts_a_complete_snapshot_or_refuses_with_update_error(
    tmp_path_factory: pytest.TempPathFactory, body: bytes
) -> None:
    from eol_data.update import Fetched, UpdateError, parse_full, validate_snapshot, write_snapshot

    folder = tmp_path_factory.mktemp("eol") / "snapshot"
    try:
        full = parse_full(Fetched(url="https://eol.example/api/v1/products/full/", body=body))
        write_snapshot(
            folder,
            full,
            source_url="https://eol.example/api/v1",
            etag="",
            fetched_at="2026-12-01T00:00:00Z",
            previous=None,
        )
        catalog = validate_snapshot(folder)
    except UpdateError:
        return
    assert catalog.index()
