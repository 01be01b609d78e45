"""The read-only probe bundle: every command and file a Unix host is asked for, in ONE ``/bin/sh`` run.

Used by the SSH scan (``agents.ssh.SshShell.preload``: one exec per host) and, generated from the
same table and the same builder, by the POSIX sh agent (``agents/legacyscan-agent.sh``); both
outputs are parsed by ``parse_bundle`` (server-side for the agent: ``scanner/service/raw_documents.py``).

Why it is written for the oldest Bourne shells (Solaris 10 ``/bin/sh``, AIX ksh88) as well as
every POSIX one (dash, bash, busybox, mksh, posh, yash, ksh93, zsh as sh):

* no ``command -v`` (absent there; a missing command returns 1, not 127): a command is looked up
  by ``_h``, a shell function that walks ``$PATH`` with ``[ -f ]``/``[ -x ]`` builtins, so a tool
  that is not installed costs no process and answers 127 ("not installed": data, not a failure);
* no ``$(...)``, no ``local``, no ``${var#...}``, no ``!``; backquotes for the one substitution;
* ``echo`` only for our own markers (no backslashes in them); file contents go through ``cat``
  (or, where ``printf`` is a shell builtin, the ``read`` builtin - no process per file);
* it travels on the standard input of ``/bin/sh`` (``BUNDLE_SHELL``), not on the command line:
  dropbear refuses commands longer than ``MAX_CMD_LEN`` (9000 bytes in 2022.83, 1024 in old
  builds), and a csh login shell passes a plain ``/bin/sh`` unchanged; every probe's own stdin is
  ``/dev/null`` so none can eat the rest of the script;
* it lowers its own CPU and I/O priority first (``renice``/``ionice`` on ``$$``, where the host
  has them; a refusal is ignored) so every probe runs at low priority, as the agent does locally;
* commands specific to one platform run only there (``case`` on ``uname -s``), so AIX, Solaris,
  macOS and the BSDs are answered by the same single run as Linux.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from agents import probes

# Files read with ``cat`` even in a shell with a ``printf`` builtin (large, or /proc where
# byte-at-a-time shell reads are slow).
CAT_PREFIXES = ("/proc/", "/lib/apk/", "/var/lib/dpkg/", "/var/lib/rpm/", "/usr/share/debian-security-support/")
# What the SSH probe executes; the script follows on its standard input.
BUNDLE_SHELL = "/bin/sh"

# ``case "$_s" in PATTERN)`` on ``uname -s``: where a platform's commands run.  An empty uname
# (a minimal container) counts as Linux.
LINUX = probes.case_pattern(probes.LINUX)
DARWIN = probes.case_pattern(probes.DARWIN)
AIX = probes.case_pattern(probes.AIX)
SUNOS = probes.case_pattern(probes.SUNOS)
FREEBSD = probes.case_pattern(probes.FREEBSD)
OTHER_BSD = probes.case_pattern(probes.OTHER_BSD)
UNIX = probes.case_pattern(probes.UNIX)

# The bundle's part of the probe table (agents/probes.py, rows with ``batched``): (argv, platforms or
# None for every host) and the files, in table order.  The Collector asks for these; anything it asks
# that is not here costs another round trip.
COMMANDS: list[tuple[list[str], str | None]] = probes.batched_commands()
FILES: list[str] = probes.batched_files()
# _h NAME: is NAME an executable file in $PATH (or, with a slash, that file)?  Builtins only (a
# Bourne shell has no ``command -v``).  Shared with the sh agent.
HAS_COMMAND = (
    '_h() { case $1 in */*) [ -f "$1" ] && [ -x "$1" ]; return;; esac; _o=$IFS; IFS=:; '
    'for _d in $PATH; do if [ -f "$_d/$1" ] && [ -x "$_d/$1" ]; then IFS=$_o; return 0; fi; done; '
    "IFS=$_o; return 1; }"
)
PLATFORMS: dict[str, str] = probes.platform_patterns()


def bundle_script(
    commands: Sequence[list[str]],
    files: Sequence[str],
    boundary: str,
    *,
    filters: Mapping[str, str] | None = None,
    unless_readable: Mapping[str, str] | None = None,
    platforms: Mapping[str, str] | None = None,
    lower_priority: bool = True,
) -> str:
    """The Bourne shell script, one statement a line.  Pure.

    Each section is ``<boundary> c|f <index>``, the output, then ``\\n<boundary> rc <exit code>``.
    ``boundary`` is a random token the host cannot predict (or ``$B`` for the sh agent, which
    makes its own).  ``filters`` maps a file to an extended regex: only its matching lines are
    sent (``grep -E``; 1 = nothing matched = an empty answer).  ``unless_readable`` maps a command
    (``shlex.join`` form) to a file: when that file is readable the command is not run and
    answers 127.  ``platforms`` maps a command to a ``case`` pattern on ``uname -s``: elsewhere it
    has no section at all.
    """
    filters = filters or {}
    unless_readable = unless_readable or {}
    platforms = platforms or {}
    parts = [
        "LC_ALL=C",
        "export LC_ALL",
        HAS_COMMAND,
        # _p=printf where printf is a shell builtin: small files are then read by the read builtin (no
        # process); elsewhere (Bourne, ksh88, mksh, posh: an external printf) by one cat each.
        "_p=; case `type printf 2>/dev/null` in *builtin*|*built-in*) _p=printf;; esac",
    ]
    if lower_priority:
        parts.append("_h renice && renice -n 19 -p $$ >/dev/null 2>&1")
        parts.append("_h ionice && ionice -c 3 -p $$ >/dev/null 2>&1")
    if any(shlex.join(argv) in platforms for argv in commands):
        parts.append("_s=`uname -s 2>/dev/null`")

    def section(kind: str, index: int, body: str) -> str:
        return f'echo "{boundary} {kind} {index}"; {body}; echo; echo "{boundary} rc $_r"'

    for i, argv in enumerate(commands):
        key = shlex.join(argv)
        run = f"_h {shlex.quote(argv[0])} && {{ {key} </dev/null 2>/dev/null; _r=$?; }}"
        guard = unless_readable.get(key)
        text = section("c", i, f"_r=127; [ -r {shlex.quote(guard)} ] || {{ {run}; }}" if guard else f"_r=127; {run}")
        where = platforms.get(key)
        parts.append(f'case "$_s" in {where}) {text};; esac' if where else text)
    for i, path in enumerate(files):
        q = shlex.quote(path)
        pattern = filters.get(path)
        if pattern is not None:
            body = (
                f"_r=1; [ -r {q} ] && {{ grep -E -- {shlex.quote(pattern)} {q} 2>/dev/null; _r=$?; "
                "[ $_r -eq 1 ] && _r=0; }"
            )
        elif path.startswith(CAT_PREFIXES):
            body = f"_r=1; [ -r {q} ] && cat {q} 2>/dev/null && _r=0"
        else:
            body = (
                f'_r=1; [ -r {q} ] && {{ if [ "$_p" = printf ]; then while IFS= read -r _l || [ -n "$_l" ]; '
                f"do printf '%s\\n' \"$_l\"; done < {q}; else cat {q} 2>/dev/null; fi; }} && _r=0"
            )
        parts.append(section("f", i, body))
    return "\n".join(parts) + "\n"


def bundle_command(commands: Sequence[list[str]], files: Sequence[str], boundary: str, **kw: object) -> str:
    """``/bin/sh -c '<bundle_script>'``: the bundle as one command line (local runs, tests, the bench's
    interpreter); over SSH it goes on stdin instead (``BUNDLE_SHELL``)."""
    return "/bin/sh -c " + shlex.quote(bundle_script(commands, files, boundary, **kw))  # type: ignore[arg-type]


def probe_script(boundary: str, *, lower_priority: bool = True) -> str:
    """The whole probe table as one script: the SSH scan's bundle and the sh agent's body."""
    return bundle_script(
        [argv for argv, _ in COMMANDS],
        FILES,
        boundary,
        filters=probes.file_filters(),
        unless_readable=probes.command_guards(),
        platforms=PLATFORMS,
        lower_priority=lower_priority,
    )


def _ascii_int(text: str) -> bool:
    digits = text[1:] if text.startswith("-") else text
    return digits.isascii() and digits.isdigit()


def parse_bundle(text: str, boundary: str) -> dict[tuple[str, int], tuple[str, int]]:
    """Split bundle output into sections: (kind, index) -> (text, exit code).  Pure."""
    out: dict[tuple[str, int], tuple[str, int]] = {}
    start_tag = boundary + " "
    pos = 0
    while True:
        head = text.find(start_tag, pos)
        if head < 0 or (head > 0 and text[head - 1] != "\n"):
            if head < 0:
                return out
            pos = head + 1
            continue
        eol = text.find("\n", head)
        if eol < 0:
            return out
        bits = text[head:eol].split()
        # ASCII digits only: "²".isdigit() is True but int() refuses it, and a hostile host's shell
        # sees the boundary, so it can print any header (found by tests/fuzz, #19)
        if len(bits) != 3 or bits[1] not in ("c", "f") or not (bits[2].isascii() and bits[2].isdigit()):
            pos = eol
            continue
        trailer = text.find(f"\n{boundary} rc ", eol)
        if trailer < 0:
            return out  # truncated: the connection dropped inside this section
        body = text[eol + 1 : trailer] if trailer > eol else ""
        rc_end = text.find("\n", trailer + 1)
        rc_text = text[trailer + 1 : rc_end if rc_end >= 0 else len(text)].split()[-1]
        out[(bits[1], int(bits[2]))] = (body, int(rc_text) if _ascii_int(rc_text) else 1)
        if rc_end < 0:
            return out
        pos = rc_end


# -- the raw bundle as a document (the POSIX sh agent) ------------------------------------------

SCHEMA = "unix-bundle/1"  # the sh agent's raw document (scanner/service/raw_documents.py)


class BundleDocumentError(ValueError):
    """A unix-bundle/1 document that cannot be read; the message names the field."""


class BundleShell:
    """The Shell seam over an already-collected bundle: answers only what the bundle answered.

    A command or file the bundle did not carry is "not installed" (127) / unreadable (None): the
    Collector records that as data, and nothing is ever run here (the collector server runs no
    command of a host)."""

    def __init__(
        self, name: str, sections: dict[tuple[str, int], tuple[str, int]], commands: Sequence[str], files: Sequence[str]
    ) -> None:
        from agents.shell import CommandResult

        self.name = name
        self._cmds = {
            cmd: CommandResult(rc, text, "" if rc == 0 else f"exit code {rc}")
            for i, cmd in enumerate(commands)
            for text, rc in [sections.get(("c", i), ("", 127))]
            if ("c", i) in sections
        }
        self._files = {
            path: (text if rc == 0 else None)
            for i, path in enumerate(files)
            for text, rc in [sections.get(("f", i), ("", 1))]
        }
        uname = self._cmds.get(shlex.join(probes.command("uname")))
        derived = probes.sysname_from(uname) if uname is not None else None  # as probes.prepare does
        if derived is not None:
            self._cmds.setdefault(shlex.join(probes.command("sysname")), derived)

    def run(self, argv: list[str], timeout: float = 60.0) -> Any:
        from agents.shell import CommandResult

        return self._cmds.get(shlex.join(argv)) or CommandResult(127, "", "not collected by the agent")

    def read_text(self, path: str) -> str | None:
        return self._files.get(path)


def _str_list(data: dict[str, Any], name: str, limit: int) -> list[str]:
    value = data.get(name)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or len(value) > limit:
        raise BundleDocumentError(f"{SCHEMA}: field {name!r} must be a list of at most {limit} strings")
    return value


def document_output(data: dict[str, Any]) -> str:
    """The raw bundle output of a document: ``output_hex``, a list of hex lines (od's output)."""
    lines = _str_list(data, "output_hex", 4_000_000)
    try:
        raw = bytes.fromhex("".join(lines))
    except ValueError as exc:
        raise BundleDocumentError(f"{SCHEMA}: field 'output_hex' is not hexadecimal: {exc}") from exc
    from agents.shell import decode

    return decode(raw)


def collect_document(data: dict[str, Any]) -> Any:
    """A unix-bundle/1 document -> Inventory, parsed by the same code as an SSH scan of the host."""
    from agents.collect import Collector

    boundary = data.get("boundary")
    if not isinstance(boundary, str) or not (8 <= len(boundary) <= 80) or not boundary.isalnum():
        raise BundleDocumentError(f"{SCHEMA}: field 'boundary' must be 8-80 letters and digits")
    commands = _str_list(data, "commands", 1000)
    files = _str_list(data, "files", 1000)
    sections = parse_bundle(document_output(data), boundary)
    if not sections:
        raise BundleDocumentError(f"{SCHEMA}: field 'output_hex' holds no bundle section marked {boundary!r}")
    inventory = Collector(BundleShell("agent", sections, commands, files)).collect()
    collected_at = data.get("collected_at")
    if isinstance(collected_at, str) and collected_at.strip():
        inventory.collected_at = collected_at.strip()[:40]
    inventory.collector.transport = "agent"
    return inventory
