"""What a demo Windows PC can plausibly be: OS era vs processor, hardware and applications.

Why a module of its own: a clinical engineer stops trusting the demo when it shows Internet
Explorer 11 on Windows XP or XP on an 8th-generation Core i5.  These rules are the public facts
the demo generator (``scanner.demo``) must respect, kept as data so they can be read and checked:

* which processor generations each Windows release ran on (Microsoft's support statements:
  XP/Vista on Core 2 and earlier, Windows 7 up to 6th generation, Windows 11 on 8th generation and
  later or Ryzen 2000 and later — ``eol_data/win11_cpus.json``);
* which desktop models carry which processors (the vendors' spec sheets);
* which releases of an application install on which Windows (the vendors' system requirements:
  IE 11 needs Windows 7, Edge Legacy exists only on Windows 10, Firefox 116 and Chrome 110 need
  Windows 10, .NET Framework 4.8 needs Windows 7 ...);
* that Internet Explorer is part of Windows: its version carries the build of the Windows it came
  with (``11.1.20348.0`` is Server 2022's, never a Windows 7 PC's);
* that an entry seen in one capture (Edge 134 from a Windows 11 machine, a Windows XP hotfix) was
  seen on that Windows era only, so it goes only on a PC of that era.

Pure data and pure functions; no randomness here (the generator owns the seed).
"""

from __future__ import annotations

ERAS = ("xp", "vista", "7", "8.1", "10", "11")


def era_of(version: str) -> str:
    """The Windows client era of an NT version string (``5.1.2600`` -> ``xp``, ``10.0.22631`` -> ``11``)."""
    parts = [int(p) for p in version.split(".")[:3] if p.isdigit()]
    major, minor = (parts + [0, 0])[:2]
    build = parts[2] if len(parts) > 2 else 0
    if major == 5:
        return "xp"
    if major == 6:
        return {0: "vista", 1: "7"}.get(minor, "8.1")
    return "11" if build >= 22000 else "10"


def _at_least(era: str, floor: str) -> bool:
    return ERAS.index(era) >= ERAS.index(floor)


# processor string, generation, relative weight in a hospital desktop fleet
CPUS: list[tuple[str, str, int]] = [
    ("Intel(R) Pentium(R) 4 CPU 3.00GHz", "p4", 1),
    ("Intel(R) Core(TM)2 Duo CPU E8400 @ 3.00GHz", "core2", 2),
    ("Intel(R) Core(TM)2 Duo CPU E7500 @ 2.93GHz", "core2", 1),
    ("Intel(R) Core(TM) i5-4590 CPU @ 3.30GHz", "4", 8),
    ("Intel(R) Core(TM) i3-4160 CPU @ 3.60GHz", "4", 4),
    ("Intel(R) Celeron(R) CPU G1840 @ 2.80GHz", "4", 2),
    ("Intel(R) Core(TM) i5-6500 CPU @ 3.20GHz", "6", 10),
    ("Intel(R) Core(TM) i5-7500 CPU @ 3.40GHz", "7", 10),
    ("Intel(R) Core(TM) i5-8500 CPU @ 3.00GHz", "8", 14),
    ("Intel(R) Core(TM) i5-8265U CPU @ 1.60GHz", "8", 6),
    ("Intel(R) Core(TM) i5-9500 CPU @ 3.00GHz", "9", 10),
    ("Intel(R) Core(TM) i5-10500 CPU @ 3.10GHz", "10", 10),
    ("Intel(R) Core(TM) i7-1165G7 @ 2.80GHz", "11", 5),
    ("12th Gen Intel(R) Core(TM) i5-12500", "12", 8),
    ("13th Gen Intel(R) Core(TM) i5-1345U", "13", 4),
    ("AMD Ryzen 5 PRO 4650G with Radeon Graphics", "ryzen4000", 4),
]

# the processor generations each Windows client release ran on in practice
OS_CPU_GENERATIONS: dict[str, frozenset[str]] = {
    "xp": frozenset({"p4", "core2"}),
    "vista": frozenset({"p4", "core2"}),
    "7": frozenset({"core2", "4", "6"}),
    "8.1": frozenset({"4", "6"}),
    "10": frozenset({"4", "6", "7", "8", "9", "10", "11", "12", "13", "ryzen4000"}),
    "11": frozenset({"8", "9", "10", "11", "12", "13", "ryzen4000"}),
}

# desktop and laptop models by processor generation
MODELS: dict[str, list[str]] = {
    "p4": ["Dell Inc. OptiPlex GX620", "HP HP Compaq dc7600"],
    "core2": ["Dell Inc. OptiPlex 760", "HP HP Compaq dc7900", "Lenovo ThinkCentre M58"],
    "4": ["HP HP ProDesk 600 G1", "Dell Inc. OptiPlex 9020", "Lenovo ThinkCentre M93p"],
    "6": ["Dell Inc. OptiPlex 7040", "HP HP EliteDesk 800 G2"],
    "7": ["Dell Inc. OptiPlex 7050", "HP HP EliteDesk 800 G3"],
    "8": ["HP HP EliteDesk 800 G4", "Lenovo ThinkCentre M720q", "Dell Inc. Latitude 5400"],
    "9": ["Dell Inc. OptiPlex 7070", "HP HP EliteDesk 800 G5"],
    "10": ["Dell Inc. OptiPlex 7080", "Lenovo ThinkCentre M70q"],
    "11": ["Dell Inc. Latitude 5420", "Lenovo ThinkPad T14 Gen 2"],
    "12": ["Dell Inc. OptiPlex 7000", "HP HP EliteDesk 800 G9"],
    "13": ["Lenovo ThinkPad T14 Gen 4", "Dell Inc. Latitude 5440"],
    "ryzen4000": ["Lenovo ThinkCentre M75q Gen 2", "HP HP EliteDesk 805 G6"],
}


def vendor_model(text: str) -> tuple[str, str]:
    """``"Dell Inc. OptiPlex 760"`` -> ``("Dell Inc.", "OptiPlex 760")`` (SMBIOS manufacturer, model)."""
    for vendor in ("Dell Inc.", "HP", "Lenovo"):
        if text.startswith(vendor + " "):
            return vendor, text[len(vendor) + 1 :]
    head, _, rest = text.partition(" ")
    return head, rest


# RAM sizes (GB) and weights by era: 32-bit XP addresses at most 4 GB
RAM_GB: dict[str, tuple[list[int], list[int]]] = {
    "xp": ([1, 2, 4], [3, 5, 2]),
    "vista": ([2, 4], [5, 5]),
    "7": ([2, 4, 8], [2, 6, 4]),
    "8.1": ([4, 8], [6, 4]),
    "10": ([4, 8, 16], [18, 55, 25]),
    "11": ([8, 16, 32], [45, 45, 10]),
}


def cpus_for(era: str) -> tuple[list[str], list[int]]:
    """The processors (and weights) a PC of this Windows era can have."""
    gens = OS_CPU_GENERATIONS[era]
    chosen = [(cpu, w) for cpu, gen, w in CPUS if gen in gens]
    return [c for c, _ in chosen], [w for _, w in chosen]


def generation(cpu: str) -> str:
    return next(gen for c, gen, _ in CPUS if c == cpu)


def ran(os_version: str, cpu: str) -> bool:
    """Whether this Windows release ran on this processor (False for a processor not in CPUS)."""
    gen = next((g for c, g, _ in CPUS if c == cpu), None)
    return gen is not None and gen in OS_CPU_GENERATIONS[era_of(os_version)]


def _major(version: str) -> int | None:
    head = version.split(".", 1)[0].strip()
    return int(head) if head.isdigit() else None


# (product -> rule(cycle, major version) -> (oldest era, newest era) it installs on).  Products not
# listed are modern applications: Windows 7 and later.
def _ie(cycle: str, major: int | None) -> tuple[str, str]:
    return {
        "11": ("7", "11"),
        "10": ("7", "8.1"),
        "9": ("vista", "7"),
        "8": ("xp", "7"),
        "7": ("xp", "vista"),
        "6": ("xp", "xp"),
    }.get(cycle, ("7", "11"))


def _firefox(cycle: str, major: int | None) -> tuple[str, str]:
    if major is None:
        return ("7", "11")
    return ("10", "11") if major >= 116 else ("7", "11") if major >= 53 else ("xp", "10")


def _chrome(cycle: str, major: int | None) -> tuple[str, str]:
    if major is None:
        return ("7", "11")
    return ("10", "11") if major >= 110 else ("7", "11") if major >= 50 else ("xp", "10")


def _dotnetfx(cycle: str, major: int | None) -> tuple[str, str]:
    if cycle.startswith("4.8"):
        return ("7", "11")
    if cycle.startswith("4.") and cycle not in ("4.0", "4"):
        return ("vista", "11")
    return ("xp", "11")


def _office(cycle: str, major: int | None) -> tuple[str, str]:
    if cycle in ("2003", "2007", "2010"):
        return ("xp", "11")
    if cycle in ("2013", "2016"):
        return ("7", "11")
    return ("10", "11")


def _vcredist(cycle: str, major: int | None) -> tuple[str, str]:
    return ("xp", "11") if cycle in ("2005", "2008", "2010", "2012", "2013") else ("7", "11")


def _java(cycle: str, major: int | None) -> tuple[str, str]:
    if cycle in ("5", "6", "7"):
        return ("xp", "11")
    return ("vista", "11") if cycle == "8" else ("7", "11")


def _python(cycle: str, major: int | None) -> tuple[str, str]:
    if cycle.startswith("2."):
        return ("xp", "11")
    minor = cycle.split(".")[1] if "." in cycle else ""
    if not minor.isdigit():
        return ("7", "11")
    n = int(minor)  # 3.9 dropped Windows 7, 3.7 Vista, 3.5 XP
    return ("8.1", "11") if n >= 9 else ("7", "11") if n >= 7 else ("vista", "11") if n >= 5 else ("xp", "11")


def _virtualbox(cycle: str, major: int | None) -> tuple[str, str]:
    return ("10", "11") if (major or 0) >= 7 else ("7", "11")


def _legacy_plugin(cycle: str, major: int | None) -> tuple[str, str]:
    return ("xp", "10")  # Flash, Silverlight, QuickTime: gone before Windows 11


RULES = {
    "internet-explorer": _ie,
    "microsoft-edge-legacy": lambda c, m: ("10", "10"),
    "microsoft-edge": lambda c, m: ("7", "11"),
    "firefox": _firefox,
    "chrome": _chrome,
    "dotnetfx": _dotnetfx,
    "office": _office,
    "visual-cpp-redistributable": _vcredist,
    "oracle-jdk": _java,
    "python": _python,
    "adobe-flash-player": _legacy_plugin,
    "silverlight": _legacy_plugin,
    "apple-quicktime-windows": _legacy_plugin,
    "nodejs": lambda c, m: ("8.1", "11"),
    "virtualbox": _virtualbox,
}


def runs_on(product: str, cycle: str, version: str, era: str) -> bool:
    """Whether this release of an application installs on this Windows client era."""
    rule = RULES.get(product)
    low, high = rule(cycle, _major(version)) if rule else ("7", "11")
    return _at_least(era, low) and _at_least(high, era)


# Internet Explorer's build (third part of its version) -> the Windows eras that build shipped on.
# Builds of Windows 10 and later are that Windows release's own build (below).
IE_BUILD_ERAS: dict[str, frozenset[str]] = {
    "2900": frozenset({"xp"}),  # IE 6 on XP SP2/SP3
    "5730": frozenset({"xp"}),  # IE 7 on XP
    "6001": frozenset({"xp", "vista"}),  # IE 8 on XP and Vista, IE 7 on Vista SP1
    "6002": frozenset({"vista"}),
    "7600": frozenset({"7"}),
    "7601": frozenset({"7"}),  # IE 8 on Windows 7
    "8112": frozenset({"vista", "7"}),  # IE 9
    "9200": frozenset({"7"}),  # IE 10 on Windows 7 (Windows 8 is not a demo era)
    "9600": frozenset({"7", "8.1"}),  # IE 11 on Windows 7 and 8.1
}

# Windows 10/11 releases serviced from one base build report that base in their components.
_SERVICING_BASE = {
    "19042": "19041",
    "19043": "19041",
    "19044": "19041",
    "19045": "19041",
    "22631": "22621",
    "26200": "26100",
}


def _build(version: str) -> str:
    parts = version.split(".")
    return parts[2] if len(parts) > 2 else ""


def component_fits(product: str, version: str, os_version: str) -> bool:
    """Whether an OS component's entry (Internet Explorer) belongs to this Windows build.

    Other products are not OS components: True."""
    if product != "internet-explorer":
        return True
    build = _build(version)
    if build in IE_BUILD_ERAS:
        return era_of(os_version) in IE_BUILD_ERAS[build]
    os_build = _build(os_version)
    return bool(build) and build == _SERVICING_BASE.get(os_build, os_build)


# Windows eras an application installer of today supports (Salt winrepo, winget, issue threads)
MODERN = frozenset({"7", "8.1", "10", "11"})


def string_eras(source: str) -> frozenset[str]:
    """The Windows eras a bundled Add/Remove Programs string may appear on, from where it was
    captured (``windows_software_strings.jsonl``'s ``source``): an XP machine's uninstall list
    stays on XP, a Windows 10 Amcache's entries on Windows 10; current installers on Windows 7+."""
    if "xp-Uninstall.reg" in source:
        return frozenset({"xp"})
    if "amcache.hve" in source or "10_russian-Uninstall.reg" in source:
        return frozenset({"10"})
    return MODERN
