"""``legacyscan import``: format detection, refusals that name the file and every format tried,
and one bad file never costing its neighbours (issue #19 item 3, issue #11 item 5)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from agents.inventory import Host, Inventory, OsInfo, Software
from scanner.cli import main
from scanner.imports import IMPORTERS
from scanner.store.open import open_store


def own_inventory(name: str) -> Inventory:
    return Inventory(
        host=Host(hostname=name, machine_id=f"mid-{name}", site="Ward A"),
        os=OsInfo(family="linux", name="Debian GNU/Linux 12 (bookworm)"),
        software=[Software(name="openssl", version="3.0.11-1~deb12u2", source="dpkg")],
        collected_at="2026-11-30T08:00:00Z",
    )


def run_import(db: Path, *args: str) -> int:
    return main(["import", *args, "--db", f"sqlite:///{db}"])


def stored(db: Path) -> dict[str, Inventory]:
    with open_store(f"sqlite:///{db}") as store:
        return {inv.host.hostname: inv for inv in store.latest_inventories()}


def test_foreign_json_is_refused_naming_the_file_and_every_format_tried(tmp_path: Path, capsys) -> None:
    """Before: a JSON document in no known format was stored as an empty host with exit 0."""
    foreign = tmp_path / "package.json"
    foreign.write_text(json.dumps({"name": "left-pad", "version": "1.3.0", "dependencies": {}}))
    db = tmp_path / "db.sqlite"
    assert run_import(db, str(foreign)) == 1
    err = capsys.readouterr().err
    assert f"{foreign}: refused: not a format legacyscan imports; tried:" in err
    for importer in IMPORTERS:
        assert f"  {importer.name}: " in err
    assert "imported 0, duplicates 0, refused 1 (of 1 files)" in err
    assert stored(db) == {}


def test_own_json_without_a_host_is_refused(tmp_path: Path, capsys) -> None:
    doc = tmp_path / "empty.json"
    doc.write_text(json.dumps({"schema_version": 1, "software": []}))
    db = tmp_path / "db.sqlite"
    assert run_import(db, str(doc)) == 1
    assert "empty.json: refused: host: neither hostname nor machine_id" in capsys.readouterr().err
    assert stored(db) == {}


def test_lone_surrogate_file_is_named_and_the_eight_good_files_are_stored(tmp_path: Path, capsys) -> None:
    """Before: the store's UTF-8 encoding raised inside the batch and 0 of 8 good files were kept."""
    drop = tmp_path / "drop"
    drop.mkdir()
    for i in range(8):
        (drop / f"pc{i}.json").write_text(own_inventory(f"pc{i}").to_json())
    bad = own_inventory("bad").to_dict()
    text = json.dumps(bad).replace('"openssl"', '"open\\ud800ssl"')
    (drop / "pc-bad.json").write_text(text)
    db = tmp_path / "db.sqlite"
    assert run_import(db, str(drop)) == 1
    err = capsys.readouterr().err
    assert "pc-bad.json: refused: software[0].name: a lone surrogate escape" in err
    assert "imported 8, duplicates 0, refused 1 (of 9 files)" in err
    assert sorted(stored(db)) == [f"pc{i}" for i in range(8)]
    # Every re-run behaves the same: the good files are duplicates, the bad one is named again.
    assert run_import(db, str(drop)) == 1
    assert "imported 0, duplicates 8, refused 1 (of 9 files)" in capsys.readouterr().err


def test_undecodable_and_hostile_files_never_abort_the_folder(tmp_path: Path, capsys) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "good.json").write_text(own_inventory("good").to_json())
    (drop / "latin1.json").write_bytes(b'{"schema_version": 1, "host": {"hostname": "caf\xe9"}}')
    (drop / "deep.json").write_text('{"inventory_id": "x", "host": ' + "[" * 100_000 + "]" * 100_000 + "}")
    (drop / "nul.json").write_bytes(b'{"inventory_id": "n", "host": {"hostname": "a\x00b"}}')
    (drop / "array.json").write_text("[1, 2, 3]")
    (drop / "empty.json").write_text("")
    db = tmp_path / "db.sqlite"
    assert run_import(db, str(drop)) == 1
    err = capsys.readouterr().err
    assert "imported 1, duplicates 0, refused 5 (of 6 files)" in err
    for name in ("latin1.json", "deep.json", "nul.json", "array.json", "empty.json"):
        assert f"{name}: refused" in err
    assert list(stored(db)) == ["good"]


@pytest.mark.timeout(60)
def test_fifo_and_devices_are_refused_without_hanging(tmp_path: Path, capsys) -> None:
    fifo = tmp_path / "inventory.json"
    os.mkfifo(fifo)
    db = tmp_path / "db.sqlite"
    result: list[int] = []
    worker = threading.Thread(target=lambda: result.append(run_import(db, str(fifo), "/dev/zero")), daemon=True)
    worker.start()
    worker.join(30)
    assert result == [1], "import hung on a FIFO or /dev/zero"
    err = capsys.readouterr().err
    assert "inventory.json: refused: a FIFO (named pipe), not a regular file" in err
    assert "/dev/zero: refused: a character device, not a regular file" in err


def test_a_folder_with_a_fifo_still_imports_the_rest(tmp_path: Path, capsys) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    os.mkfifo(drop / "stuck.json")
    (drop / "good.json").write_text(own_inventory("good").to_json())
    db = tmp_path / "db.sqlite"
    assert run_import(db, str(drop)) == 1
    err = capsys.readouterr().err
    assert "stuck.json: refused" in err and "imported 1," in err


def test_terminal_escapes_in_file_names_are_not_sent_to_the_terminal(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "x\x1b[31mred.json"
    bad.write_text("{}")
    assert run_import(tmp_path / "db.sqlite", str(bad)) == 1
    err = capsys.readouterr().err
    assert "\x1b" not in err and "x\\x1b[31mred.json" in err


def test_forced_format_tries_only_that_format(tmp_path: Path, capsys) -> None:
    doc = tmp_path / "inv.json"
    doc.write_text(own_inventory("forced").to_json())
    db = tmp_path / "db.sqlite"
    assert run_import(db, "--format", "legacyscan", str(doc)) == 0
    assert "forced" in stored(db)


def test_list_formats_names_every_importer(capsys) -> None:
    assert main(["import", "--list-formats"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines()] == [i.name for i in IMPORTERS]


def test_no_path_is_a_usage_error(capsys) -> None:
    assert main(["import"]) == 2


def test_a_gzip_bomb_is_refused_without_exhausting_memory(tmp_path: Path, capsys) -> None:
    import gzip

    bomb = tmp_path / "inventory.json.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as fh:
        fh.write(b'{"inventory_id": "b", "host": {"hostname": "')
        chunk = b"A" * (1 << 20)
        for _ in range(300):  # 300 MiB of content in about 300 KiB
            fh.write(chunk)
        fh.write(b'"}}')
    assert run_import(tmp_path / "db.sqlite", str(bomb)) == 1
    assert (
        "inventory.json.gz: refused: decompressed content exceeds the limit of 268435456 bytes"
        in capsys.readouterr().err
    )


def test_a_record_that_fails_while_stored_is_named_and_its_batch_neighbours_are_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever fails while one record is stored (the judge runs inside ``save_batch``; found
    auditing #19: a host's hostile support-list pattern raised RecursionError there, and the
    import stored nothing) costs only that record, named, never its batch (#19 items 2 and 3)."""
    import scanner.judge.timeline

    real = scanner.judge.timeline.Judge.judge

    def poisoned(self: scanner.judge.timeline.Judge, inv: Inventory, *args: object, **kwargs: object) -> object:
        if inv.host.hostname == "pc-poison":
            raise RecursionError("maximum recursion depth exceeded (injected)")
        return real(self, inv, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(scanner.judge.timeline.Judge, "judge", poisoned)
    drop = tmp_path / "drop"
    drop.mkdir()
    names = ["pc-1", "pc-2", "pc-poison", "pc-3", "pc-4"]
    for name in names:
        (drop / f"{name}.json").write_text(own_inventory(name).to_json())
    db = tmp_path / "ls.db"
    assert run_import(db, str(drop)) == 1
    err = capsys.readouterr().err
    assert "pc-poison.json: not stored: unexpected RecursionError" in err, err
    assert "imported 4" in err, err
    assert sorted(i.host.hostname for i in stored(db).values()) == ["pc-1", "pc-2", "pc-3", "pc-4"]
