"""Rules files are checked when they load: a bad rule names its file and line (#18 item 4).

Each test copies the bundled rules, breaks one real rule the way a contributor might (a regular
expression that does not compile, a required key left out, a list written as a string) and loads
the copy: the error must name the copied file and the line of the broken key.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from eol_data.catalog import Catalog
from eol_data.rules import RULES_DIR, Rules, RulesError
from eol_data.rules.schema import SCHEMAS, WORD_LISTS
from scanner.identify.registry import IdentifyContext, normalize_record
from scanner.judge import distribution_builds as distro
from scanner.model import Confidence

BUNDLED = sorted(p.stem for p in RULES_DIR.glob("*.toml"))


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(RULES_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def _nth_header(lines: list[str], header: str, n: int) -> int:
    """0-based index of the ``n``-th (0-based) ``[[header]]`` line."""
    hits = [i for i, line in enumerate(lines) if line.strip() == f"[[{header}]]"]
    return hits[n]


def _key_line(lines: list[str], start: int, key: str) -> int:
    """0-based index of the first ``key =`` line after ``start``."""
    return next(i for i in range(start + 1, len(lines)) if re.match(rf"\s*{key}\s*=", lines[i]))


def _load_error(directory: Path, name: str) -> str:
    with pytest.raises(RulesError) as caught:
        Rules(directory).table(name)
    return str(caught.value)


@pytest.mark.parametrize("name", BUNDLED)
def test_every_bundled_rules_file_loads_and_passes_its_schema(name: str) -> None:
    table = Rules().table(name)
    assert table, f"{name}.toml loaded empty"
    for array in SCHEMAS.get(name, {}):
        assert table.get(array), f"{name}.toml has no [[{array}]] entries for its schema to check"
    for words in WORD_LISTS.get(name, ()):
        assert table.get(words), f"{name}.toml has no [{words}] for its schema to check"


def test_a_regex_that_does_not_compile_names_the_file_and_line(tmp_path: Path) -> None:
    rules = _copy(tmp_path)
    path = rules / "windows_apps.toml"
    lines = path.read_text("utf-8").splitlines()
    at = _key_line(lines, _nth_header(lines, "rule", 2), "name")
    lines[at] = "name = '(unclosed group'"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    message = _load_error(rules, "windows_apps")
    assert message.startswith(f"{path}:{at + 1}: rule[2].name: not a valid regular expression"), message
    rule_id = Rules().table("windows_apps")["rule"][2]["id"]
    assert message.endswith(f"(rule {rule_id!r})"), message


def test_a_missing_required_key_names_the_rules_header_line(tmp_path: Path) -> None:
    rules = _copy(tmp_path)
    path = rules / "packages.toml"
    lines = path.read_text("utf-8").splitlines()
    header = _nth_header(lines, "package", 4)
    del lines[_key_line(lines, header, "product")]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    message = _load_error(rules, "packages")
    assert message == f"{path}:{header + 1}: package[4]: missing required key 'product'", message


def test_a_word_list_written_as_a_string_is_refused_with_its_line(tmp_path: Path) -> None:
    rules = _copy(tmp_path)
    path = rules / "windows_os.toml"
    lines = path.read_text("utf-8").splitlines()
    header = _nth_header(lines, "edition_words", 0)
    at = _key_line(lines, header, "words")
    end = at
    while not lines[end].rstrip().endswith("]"):  # the list may run over several lines
        end += 1
    lines[at : end + 1] = ['words = "iot enterprise ltsc"']
    path.write_text("\n".join(lines) + "\n", "utf-8")
    message = _load_error(rules, "windows_os")
    assert message.startswith(f"{path}:{at + 1}: edition_words[0].words: expected a list of strings"), message


def test_a_number_written_as_text_is_refused(tmp_path: Path) -> None:
    rules = _copy(tmp_path)
    path = rules / "windows_os.toml"
    lines = path.read_text("utf-8").splitlines()
    header = _nth_header(lines, "caption_releases", 0)
    at = _key_line(lines, header, "build")
    lines[at] = 'build = "26100"'
    path.write_text("\n".join(lines) + "\n", "utf-8")
    message = _load_error(rules, "windows_os")
    assert message.startswith(f"{path}:{at + 1}: caption_releases[0].build: expected a whole number"), message


def test_a_role_map_entry_that_is_not_a_word_list_is_refused(tmp_path: Path) -> None:
    rules = _copy(tmp_path)
    path = rules / "windows_os.toml"
    lines = path.read_text("utf-8").splitlines()
    start = lines.index("[role_values]")
    at = _key_line(lines, start, "workstation")
    lines[at] = 'workstation = "client"'
    path.write_text("\n".join(lines) + "\n", "utf-8")
    message = _load_error(rules, "windows_os")
    assert message.startswith(f"{path}:{at + 1}: role_values.workstation: expected a list of strings"), message


def test_the_role_map_is_data_a_trust_can_extend(tmp_path: Path) -> None:
    """The role values moved out of Python: adding a localized one to the file changes the answer."""
    record = {"kind": "os", "family": "windows", "version": "10.0.17763", "installation_type": "Serveur membre"}
    bundled = IdentifyContext(Catalog()).identify(record)
    assert (bundled.rule, bundled.confidence) == ("windows.shared-build", Confidence.LOW)
    rules = _copy(tmp_path)
    path = rules / "windows_os.toml"
    text = path.read_text("utf-8")
    assert text.count('server = ["server", "standalone server",') == 1
    role_values = 'server = ["server", "standalone server",'
    path.write_text(text.replace(role_values, 'server = ["serveur membre", "server", "standalone server",'), "utf-8")
    extended = IdentifyContext(Catalog(), Rules(rules)).identify(record)
    assert (extended.product, extended.cycle, extended.rule) == ("windows-server", "2019", "windows-server.build")
    assert extended.confidence is Confidence.HIGH


def test_the_localized_build_words_are_data_a_trust_can_extend(tmp_path: Path) -> None:
    """The words around a build number moved out of Python: a Czech systeminfo's "Sestavení" is
    not read by the bundled rules, and is once the word is added to [words] build."""
    record = {
        "kind": "os",
        "family": "windows",
        "Název operačního systému": "Microsoft Windows 10 Pro",
        "Verze operačního systému": "10.0 Sestavení 19045",
    }
    bundled = IdentifyContext(Catalog()).identify(record)
    assert (bundled.cycle, bundled.rule) == (None, "windows.no-build")
    rules = _copy(tmp_path)
    path = rules / "windows_os.toml"
    text = path.read_text("utf-8")
    words = 'build = ["build", "compilación", "compilation",'
    assert text.count(words) == 1
    path.write_text(text.replace(words, 'build = ["build", "sestavení", "compilación", "compilation",'), "utf-8")
    extended = IdentifyContext(Catalog(), Rules(rules)).identify(record)
    assert (extended.product, extended.cycle, extended.rule) == ("windows", "10-22h2", "windows.build+edition")
    assert ("Verze operačního systému", "10.0 Sestavení 19045") in extended.evidence


def test_a_spelling_list_written_as_a_string_is_refused_with_its_line(tmp_path: Path) -> None:
    rules = _copy(tmp_path)
    path = rules / "windows_os.toml"
    lines = path.read_text("utf-8").splitlines()
    start = lines.index("[words]")
    at = _key_line(lines, start, "windows")
    lines[at] = 'windows = "win"'
    path.write_text("\n".join(lines) + "\n", "utf-8")
    message = _load_error(rules, "windows_os")
    assert message.startswith(f"{path}:{at + 1}: words.windows: expected a list of strings"), message


def test_the_macos_labels_are_data(tmp_path: Path) -> None:
    """The names tools give a macOS build moved out of Python: a key the bundled rules do not know
    holds nothing; once [labels] names it, its build identifies the release."""
    record = {"kind": "os", "family": "macos", "osx_build_number": "22G313"}
    bundled = IdentifyContext(Catalog()).identify(record)
    assert (bundled.product, bundled.rule) == (None, "macos.no-evidence")
    rules = _copy(tmp_path)
    path = rules / "macos.toml"
    text = path.read_text("utf-8")
    assert text.count('build_key_words = ["osbuild"]') == 1
    path.write_text(
        text.replace('build_key_words = ["osbuild"]', 'build_key_words = ["osbuild", "buildnumber"]'), "utf-8"
    )
    extended = IdentifyContext(Catalog(), Rules(rules)).identify(record)
    assert (extended.product, extended.cycle, extended.rule) == ("macos", "13", "macos.build")
    lines = path.read_text("utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("kernel_keys ="))
    lines[at] = 'kernel_keys = "unamer"'
    path.write_text("\n".join(lines) + "\n", "utf-8")
    message = _load_error(rules, "macos")
    assert message.startswith(f"{path}:{at + 1}: labels.kernel_keys: expected a list of strings"), message


def test_the_unix_system_names_are_data(tmp_path: Path) -> None:
    """The system names uname prints are data: a uname line of a system the file does not name
    ("Xenix") is an unknown system; once [untracked] names and [words] sysnames both list it, it is
    identified as a system endoflife.date does not track."""
    record = {"kind": "os", "family": "unix", "uname": "Xenix host1 2.3 386"}
    bundled = IdentifyContext(Catalog()).identify(record)
    assert (bundled.product, bundled.rule) == (None, "unix.unknown-system")
    rules = _copy(tmp_path)
    path = rules / "unix_os.toml"
    text = path.read_text("utf-8")
    for names in ('"os400", "qnx"]\n# os-release', '"os400", "qnx"]\n\n# Words'):
        assert text.count(names) == 1, names
        text = text.replace(names, names.replace('"qnx"]', '"qnx", "xenix"]'))
    path.write_text(text, "utf-8")
    extended = IdentifyContext(Catalog(), Rules(rules)).identify(record)
    assert (extended.product, extended.rule, extended.confidence) == (None, "unix.untracked", Confidence.HIGH)
    lines = path.read_text("utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("development_tags ="))
    lines[at] = "development_tags = [1]"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    message = _load_error(rules, "unix_os")
    assert message.startswith(f"{path}:{at + 1}: words.development_tags: expected a list of strings"), message


def test_the_family_words_are_data(tmp_path: Path) -> None:
    """The words that name an OS family moved out of Python (families.toml): a record without a
    family saying "Windows Embedded" is inferred Windows; once the file's Windows words no longer
    include "windows", it is not; a pattern that does not compile names file, line and family."""
    record = {"kind": "os", "name": "Windows 10 Pro 22H2"}
    assert IdentifyContext(Catalog()).identify(record).product == "windows"
    rules = _copy(tmp_path)
    path = rules / "families.toml"
    text = path.read_text("utf-8")
    words = "pattern = '\\bwin(?:dows|nt|32|64)?\\b|microsoft'"
    assert text.count(words) == 1
    path.write_text(text.replace(words, "pattern = '\\bwin(?:nt|32|64)?\\b|microsoft'"), "utf-8")
    narrowed = IdentifyContext(Catalog(), Rules(rules)).identify(record)
    assert (narrowed.product, narrowed.rule) == (None, "os.family-unknown")
    lines = path.read_text("utf-8").splitlines()
    header = _nth_header(lines, "family", 1)
    at = _key_line(lines, header, "pattern")
    lines[at] = "pattern = 'mac ?os|(os x'"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    message = _load_error(rules, "families")
    assert message.startswith(f"{path}:{at + 1}: family[1].pattern: not a valid regular expression"), message
    assert message.endswith("(rule 'macos')"), message


def test_the_rpm_architectures_are_data(tmp_path: Path) -> None:
    """The rpm arch suffixes moved out of Python: ".ppc64" (big-endian POWER) is not listed, so
    "openssl.ppc64" is no tracked package until [words] architectures names it."""
    record = {"kind": "software", "source": "rpm", "name": "openssl.ppc64", "version": "1:3.0.7-27.el9"}
    bundled = IdentifyContext(Catalog()).identify(record)
    assert (bundled.product, bundled.rule) == (None, "package.untracked")
    rules = _copy(tmp_path)
    path = rules / "packages.toml"
    text = path.read_text("utf-8")
    words = 'architectures = ["x86_64",'
    assert text.count(words) == 1
    path.write_text(text.replace(words, 'architectures = ["ppc64", "x86_64",'), "utf-8")
    extended = IdentifyContext(Catalog(), Rules(rules)).identify(record)
    assert (extended.product, extended.cycle) == ("openssl", "3.0")
    lines = path.read_text("utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("architectures ="))
    lines[at : at + 2] = ['architectures = "x86_64"']
    path.write_text("\n".join(lines) + "\n", "utf-8")
    message = _load_error(rules, "packages")
    assert message.startswith(f"{path}:{at + 1}: words.architectures: expected a list of strings"), message


def test_a_distribution_build_rule_is_checked_like_the_others(tmp_path: Path) -> None:
    rules = _copy(tmp_path)
    path = rules / "distro.toml"
    lines = path.read_text("utf-8").splitlines()
    header = _nth_header(lines, "distribution", 1)
    at = _key_line(lines, header, "version_marks")
    lines[at] = "version_marks = '\\dubuntu(\\d'"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    message = _load_error(rules, "distro")
    assert message.startswith(f"{path}:{at + 1}: distribution[1].version_marks: not a valid regular expression"), (
        message
    )


def test_the_distribution_build_rules_are_the_ones_the_verdicts_use() -> None:
    """scanner.judge.distribution_builds builds its tables from distro.toml: what the file says is what is used."""
    table = Rules().table("distro")
    assert [d.label for d in distro.DISTRIBUTIONS] == [e["label"] for e in table["distribution"]]
    assert distro.FOLLOWS_UPSTREAM == frozenset(table["follows_upstream"]["products"])
    assert distro.CODENAMES.search("1.2-3~jammy1") and not distro.CODENAMES.search("1.2-3ubuntu1")
    assert distro.THIRD_PARTY.search("18.20.4-1nodesource1") and not distro.THIRD_PARTY.search("1.2-3+deb12u1")


def test_the_software_field_spellings_are_data(tmp_path: Path) -> None:
    """normalize_record reads another tool's field names from software_fields.toml."""
    assert normalize_record({"kind": "software", "DisplayName": "7-Zip 19.00", "DisplayVersion": "19.00"}) == {
        "kind": "software",
        "DisplayName": "7-Zip 19.00",
        "DisplayVersion": "19.00",
        "name": "7-Zip 19.00",
        "version": "19.00",
    }
    table = Rules().table("software_fields")["aliases"]
    assert [a for aliases in table.values() for a in aliases if a == "DisplayName"] == ["DisplayName"]
    rules = _copy(tmp_path)
    path = rules / "software_fields.toml"
    lines = path.read_text("utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("publisher ="))
    lines[at] = 'publisher = "Publisher"'
    path.write_text("\n".join(lines) + "\n", "utf-8")
    message = _load_error(rules, "software_fields")
    assert message.startswith(f"{path}:{at + 1}: aliases.publisher: expected a list of strings"), message


def test_several_problems_report_the_first_and_count_the_rest(tmp_path: Path) -> None:
    rules = _copy(tmp_path)
    path = rules / "linux_os.toml"
    text = path.read_text("utf-8")
    lines = text.splitlines()
    first = _key_line(lines, _nth_header(lines, "release_files", 0), "pattern")
    second = _key_line(lines, _nth_header(lines, "release_files", 1), "pattern")
    lines[first] = "pattern = '[unclosed'"
    lines[second] = "pattern = '(also'"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    message = _load_error(rules, "linux_os")
    assert message.startswith(f"{path}:{first + 1}: release_files[0].pattern: "), message
    assert message.endswith("(and 1 more)"), message


def test_text_that_is_not_toml_names_the_file(tmp_path: Path) -> None:
    rules = _copy(tmp_path)
    path = rules / "macos.toml"
    path.write_text(path.read_text("utf-8") + "\n[limits\n", "utf-8")
    message = _load_error(rules, "macos")
    assert message.startswith(f"{path}: "), message
    assert "line" in message, message


def test_an_unbroken_copy_loads_the_same_tables(tmp_path: Path) -> None:
    rules = _copy(tmp_path)
    for name in BUNDLED:
        assert Rules(rules).table(name) == Rules().table(name)


def test_compiled_package_rules_belong_to_the_rules_they_were_made_from(tmp_path: Path) -> None:
    """#18 item 1's latent bug: package rules compiled once and cached by ``id(rules)`` were handed
    to a later Rules object that CPython placed at the freed one's address (ids are reused), so a
    trust's own rules directory could be answered with another directory's rules.  Compiled rules
    now live on the Rules object itself (``Rules.derived``)."""
    from scanner.identify.packages import compiled_rules

    other = _copy(tmp_path)
    text = (other / "packages.toml").read_text(encoding="utf-8")
    (other / "packages.toml").write_text(
        text + '\n[[package]]\nnames = "zz-trust-only-package"\nproduct = "none"\nwhy = "this copy only"\n',
        encoding="utf-8",
    )
    bundled_count = len(Rules(RULES_DIR).table("packages")["package"])
    for i in range(200):  # alternate: each object freed before the next is made (its id free for reuse)
        directory, want = (other, bundled_count + 1) if i % 2 else (RULES_DIR, bundled_count)
        rules = Rules(directory)
        assert len(compiled_rules(rules)) == want, f"round {i}: rules compiled for another Rules object"
        del rules


def test_site_rules_added_later_drop_what_was_compiled_before() -> None:
    rules = Rules(RULES_DIR)
    first = rules.derived("probe", lambda r: len(r.extra("packages")))
    assert first == 0 and rules.derived("probe", lambda r: -1) == 0  # made once
    rules.extend("packages", [{"names": "x", "product": "none"}])
    assert rules.derived("probe", lambda r: len(r.extra("packages"))) == 1


def test_the_os_components_are_data(tmp_path: Path) -> None:
    """Which releases are serviced with their host OS is os_components.toml: .NET Framework 4.7.2 on
    Windows 7 takes the OS's verdict while [[component]] dotnetfx lists it, and its own without it;
    a cycle list written as a string is refused with its line."""
    from datetime import date

    from scanner.identify.registry import evaluate
    from scanner.model import Policy

    record = {
        "kind": "software",
        "name": "Microsoft .NET Framework 4.7.2",
        "version": "4.7.03062",
        "publisher": "Microsoft",
        "host_os": "Microsoft Windows 7 Professional Service Pack 1",
    }
    as_of = date(2026, 12, 1)
    assert evaluate(record, IdentifyContext(Catalog()), as_of, Policy())["status"] == "eol"
    rules = _copy(tmp_path)
    path = rules / "os_components.toml"
    text = path.read_text("utf-8")
    listed = '"4.7.1", "4.7.2", '
    assert text.count(listed) == 1
    path.write_text(text.replace(listed, '"4.7.1", '), "utf-8")
    unlisted = evaluate(record, IdentifyContext(Catalog(), Rules(rules)), as_of, Policy())
    assert (unlisted["cycle"], unlisted["status"], unlisted["eol"]) == ("4.7.2", "supported", None)
    lines = path.read_text("utf-8").splitlines()
    at = _key_line(lines, _nth_header(lines, "component", 1), "cycles")
    lines[at] = 'cycles = "4.8"'
    path.write_text("\n".join(lines) + "\n", "utf-8")
    message = _load_error(rules, "os_components")
    assert message.startswith(f"{path}:{at + 1}: component[1].cycles: expected a list of strings"), message


def test_every_os_component_names_releases_the_catalogue_has() -> None:
    """A component's cycles and its host releases are the dataset's (a misspelt "product:cycle" would
    silently never match), and each host release is of a host product the entry names."""
    catalog = Catalog()
    for entry in Rules().table("os_components")["component"]:
        for cycle in entry["cycles"]:
            assert catalog.release(entry["product"], cycle) is not None, (entry["product"], cycle)
        for host in entry.get("host_releases", []):
            product, _, cycle = host.partition(":")
            assert product in entry["hosts"] and catalog.release(product, cycle) is not None, host
