"""#19 items 11, 17 and 18: operator-written files that are huge, deep or wrongly typed are refused
quickly, naming the file and line (or field) -- never exhausting memory or time.

Real files on disk, loaded through the same entry points the CLI uses.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.inventory import Inventory, InventoryError
from eol_data.site import SiteCatalogError, load_site_catalog
from scanner.plan.config import ConfigError, load_config
from scanner.plan.risk_register import ExceptionFileError
from scanner.plan.risk_register import load as load_exceptions
from scanner.targets import MAX_RANGE, TargetError, load_targets

# Generous: on the old code each case ran for minutes or exhausted memory; fixed, each is instant.
pytestmark = pytest.mark.timeout(60)


# -- item 11: Ansible ranges ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern",
    [
        "h[0:65535][0:65535]",  # 4 billion names from 21 characters
        "h[0:9999999999999999999]",  # one range, too large to even build
        "h[0:255][0:255][0:1]",  # 131072: just over the limit, by multiplication
    ],
)
def test_ansible_range_expansions_are_bounded_naming_the_line(tmp_path: Path, pattern: str) -> None:
    inv = tmp_path / "hosts.ini"
    inv.write_text(f"[ward]\nok-host\n{pattern} ansible_user=scan\n")
    with pytest.raises(TargetError, match=rf"^{inv}:3: host range .* (more than {MAX_RANGE} hosts|too large)"):
        load_targets(inv)


def test_ansible_ranges_still_expand(tmp_path: Path) -> None:
    inv = tmp_path / "hosts.ini"
    inv.write_text("[ward]\nweb[01:03].x\nh[a:b][1:2]\nn[000:255]-[000:255]\n")
    hosts = [t.host for t in load_targets(inv)]
    assert hosts[:7] == ["web01.x", "web02.x", "web03.x", "ha1", "ha2", "hb1", "hb2"]
    assert len(hosts) == 7 + 65536


def test_ansible_zero_step_and_whole_file_total_are_refused(tmp_path: Path) -> None:
    inv = tmp_path / "hosts.ini"
    inv.write_text("[ward]\nh[1:5:0]\n")
    with pytest.raises(TargetError, match=rf"^{inv}:2: .*step"):
        load_targets(inv)
    inv.write_text("[ward]\n" + "".join(f"g{i}-[0:65535]\n" for i in range(5)))
    with pytest.raises(TargetError, match=rf"^{inv}:6: more than 262144 hosts"):
        load_targets(inv)


# -- item 17: one very long line ------------------------------------------------------------------


N = 128 * 1024


@pytest.mark.parametrize("shape", ["dotted-key", "dotted-header", "dotted-array"])
def test_site_catalogue_with_a_128k_dotted_line_is_refused_at_once(tmp_path: Path, shape: str) -> None:
    body = {
        "dotted-key": "a." * (N // 2) + "a = 1",
        "dotted-header": "[" + "a." * (N // 2) + "a]",
        "dotted-array": "[[" + "a." * (N // 2) + "a]]",
    }[shape]
    cat = tmp_path / "legacyscan-site.toml"
    cat.write_text(f"version = 1\n{body}\n")
    with pytest.raises(SiteCatalogError, match=rf"^{cat}: not valid TOML: line 2: a key with more than 64"):
        load_site_catalog(cat)


@pytest.mark.parametrize("shape", ["label", "regex", "spaces-before-equals", "quoted-key"])
def test_site_catalogue_with_a_128k_line_parses_or_names_the_line(tmp_path: Path, shape: str) -> None:
    text = {
        "label": f'version = 1\n[[products]]\nname = "x"\nlabel = "{"a" * N}"\n'
        '[[products.releases]]\nname = "1"\neol = false\n',
        "regex": f'version = 1\n[[rules]]\nid = "r"\nproduct = "none"\nname = \'{"a" * N}\'\n',
        "spaces-before-equals": "version = 1\n[site]\nname" + " " * N + '= "x"\n',
        "quoted-key": f'version = 1\n[site]\n"{"k" * N}" = 1\n',
    }[shape]
    cat = tmp_path / "legacyscan-site.toml"
    cat.write_text(text)
    try:
        parsed = load_site_catalog(cat)
    except SiteCatalogError as exc:
        assert str(exc).startswith(f"{cat}:3: site") or str(exc).startswith(f"{cat}:"), exc
    else:
        assert parsed.path == cat


def test_site_catalogue_with_a_128k_dotted_key_in_an_inline_table_is_refused_at_once(tmp_path: Path) -> None:
    """The dotted-key bound holds inside an inline table too (the first pre-scan looked only left of
    a line's first ``=``; tomllib then spent about 30 s on this one line)."""
    cat = tmp_path / "legacyscan-site.toml"
    cat.write_text("version = 1\nx = {" + "a." * (N // 2) + "a = 1}\n")
    with pytest.raises(SiteCatalogError, match=rf"^{cat}: not valid TOML: line 2: a key with more than 64"):
        load_site_catalog(cat)


def test_site_catalogue_with_a_128k_quoted_key_full_of_dots_names_the_line(tmp_path: Path) -> None:
    """A quoted key is one part whatever dots it holds: tomllib reads it at once, and the line
    index splits it in one pass (the former look-ahead regex re-scanned the rest of the line at
    every dot: minutes for this line, well past this module's timeout)."""
    cat = tmp_path / "legacyscan-site.toml"
    cat.write_text('version = 1\n[site]\n"' + "a." * (N // 2) + 'a" = 1\n')
    with pytest.raises(SiteCatalogError) as err:
        load_site_catalog(cat)
    assert str(err.value).startswith(f"{cat}:3: site."), str(err.value)[:200]


@pytest.mark.parametrize("loader", ["site", "targets"])
def test_dots_in_strings_and_comments_are_not_key_dots(tmp_path: Path, loader: str) -> None:
    """Only a dotted *key* is bounded: a line of an address list, a multi-line note or a comment
    with many dots is ordinary TOML (the first pre-scan refused these valid files)."""
    addresses = ", ".join(f'"10.0.0.{i}"' for i in range(1, 31))  # 90 dots on one line
    if loader == "targets":
        path = tmp_path / "targets.toml"
        path.write_text(f'# {"." * 100}\n[[site]]\nname = "North"\nhosts = [\n  {addresses},\n]\n')
        assert [t.host for t in load_targets(path)] == [f"10.0.0.{i}" for i in range(1, 31)]
    else:
        path = tmp_path / "legacyscan-site.toml"
        path.write_text(
            f'version = 1\n[site]\nname = "x"\ndescription = """\nSee {"." * 100}\n"""\nnote = 1  # {"." * 100}\n'
        )
        with pytest.raises(SiteCatalogError, match=rf"^{path}:7: site.note: unknown key"):
            load_site_catalog(path)  # parsed to the end: the real error is on line 7


@pytest.mark.parametrize("loader", ["site", "exceptions", "targets", "config"])
def test_deeply_nested_toml_is_an_error_naming_the_file_not_a_crash(tmp_path: Path, loader: str) -> None:
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 50_000 + "\n")
    errors = {
        "site": (SiteCatalogError, load_site_catalog),
        "exceptions": (ExceptionFileError, load_exceptions),
        "targets": (TargetError, load_targets),
        "config": (ConfigError, load_config),
    }
    error, load = errors[loader]
    with pytest.raises(error, match=rf"^{path}: .*nested too deeply"):
        load(path)  # type: ignore[operator]


# -- item 18: wrong types -------------------------------------------------------------------------


@pytest.mark.parametrize("value", [True, False])
def test_inventory_schema_version_boolean_is_refused_naming_the_field(value: bool) -> None:
    with pytest.raises(InventoryError, match="schema_version"):
        Inventory.from_dict({"schema_version": value, "host": {"hostname": "a"}})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[[target]]\nhost = 5\n", r"\[\[target\]\] #1: host must be a string, not int 5"),
        ('[defaults]\nsite = 5\n[[target]]\nhost = "a"\n', r"\[defaults\]: site must be a string"),
        ('[[target]]\nhost = "a"\nuser = ["x"]\n', r"\[\[target\]\] #1: user must be a string"),
        ('[[site]]\nname = "North"\nhosts = ["a", 5]\n', r"\[\[site\]\] #1: hosts must be a list of strings"),
        ('[[target]]\nhost = "a"\ntags = ["x", 1]\n', r"\[\[target\]\] #1: tags must be a list of strings"),
    ],
)
def test_targets_toml_wrong_types_are_refused_naming_file_and_entry(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "targets.toml"
    path.write_text(body)
    with pytest.raises(TargetError, match=rf"^{path} {message}|^{path} .*{message}"):
        load_targets(path)


@pytest.mark.parametrize("value", ["true", "1.0"])
def test_site_catalogue_version_of_the_wrong_type_is_refused(tmp_path: Path, value: str) -> None:
    cat = tmp_path / "legacyscan-site.toml"
    cat.write_text(f"version = {value}\n")
    with pytest.raises(SiteCatalogError, match=rf"^{cat}:1: version: unsupported"):
        load_site_catalog(cat)
