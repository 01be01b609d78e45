"""Hardware facts for the local machine: psutil plus what /sys exposes without root.

Hardware matters to a replacement plan (is this PC Windows 11 capable? how old is it?), but it is
never worth failing a scan over: every fact is optional and a failure becomes a ``Problem``.
The serial number is an asset identifier, not personal data.
"""

from __future__ import annotations

import os
import platform
from datetime import datetime, timezone

from agents.inventory import Disk, Hardware, Problem
from agents.shell import Shell

DMI = "/sys/class/dmi/id"
# The files of DMI read (the probe table's ``dmi-*`` rows, agents/probes.py).
DMI_NAMES: tuple[str, ...] = (
    "sys_vendor",
    "product_name",
    "product_serial",
    "chassis_type",
    "bios_vendor",
    "bios_version",
    "bios_date",
)
# Virtual filesystems that are not disks.
_SKIP_FS = {
    "tmpfs",
    "devtmpfs",
    "overlay",
    "squashfs",
    "proc",
    "sysfs",
    "cgroup",
    "cgroup2",
    "nsfs",
    "autofs",
    "devpts",
    "mqueue",
    "debugfs",
    "tracefs",
    "fusectl",
    "configfs",
    "securityfs",
    "pstore",
    "bpf",
    "hugetlbfs",
    "binfmt_misc",
    "efivarfs",
    "ramfs",
    "fuse.lxcfs",
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
}


def parse_cpuinfo_model(text: str) -> str:
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Model", "Hardware", "cpu model"):
            return value.strip()
    return ""


def dmi_facts(shell: Shell) -> dict[str, str]:
    """Vendor/model/serial/BIOS from /sys/class/dmi/id (product_serial is root-only on most distros)."""
    facts: dict[str, str] = {}
    for name in DMI_NAMES:
        text = shell.read_text(f"{DMI}/{name}")
        if text is not None and text.strip():
            facts[name] = text.strip()
    return facts


def collect_local_hardware(shell: Shell, problems: list[Problem]) -> Hardware:
    """Local hardware via psutil (the agent and ``scan --local``)."""
    hw = Hardware()
    try:
        import psutil
    except ImportError as exc:  # the zipapp on a platform it carries no psutil for (agents/native.py)
        from agents import native

        why = native.MISSING or str(exc)
        problems.append(
            Problem("hardware.psutil", f"{why}; missing: CPU cores and threads, memory, boot time, disks", "missing")
        )
        return hw
    try:
        hw.cpu_cores = psutil.cpu_count(logical=False)
        hw.cpu_threads = psutil.cpu_count(logical=True)
        hw.memory_bytes = int(psutil.virtual_memory().total)
        hw.boot_time = datetime.fromtimestamp(psutil.boot_time(), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OSError, RuntimeError) as exc:
        problems.append(Problem("hardware.psutil", str(exc)))
    try:
        root = "C:\\" if os.name == "nt" else "/"
        for part in psutil.disk_partitions(all=False):
            if part.fstype in _SKIP_FS or part.mountpoint.startswith(("/snap", "/proc", "/sys", "/run")):
                continue
            try:
                total = int(psutil.disk_usage(part.mountpoint).total)
            except OSError:
                continue
            hw.disks.append(Disk(device=part.device, mountpoint=part.mountpoint, fstype=part.fstype, total_bytes=total))
            if part.mountpoint == root:
                hw.system_disk_bytes = total
        if hw.system_disk_bytes is None:
            hw.system_disk_bytes = int(psutil.disk_usage(root).total)
    except OSError as exc:
        problems.append(Problem("hardware.disks", str(exc)))
    cpuinfo = shell.read_text("/proc/cpuinfo")
    hw.cpu_model = parse_cpuinfo_model(cpuinfo) if cpuinfo else platform.processor()
    apply_dmi(hw, dmi_facts(shell))
    if shell.read_text("/sys/firmware/efi/fw_platform_size") is not None or os.path.isdir("/sys/firmware/efi"):
        hw.firmware_type = "uefi"
    elif os.path.isdir("/sys/firmware"):
        hw.firmware_type = "bios"
    tpm = shell.read_text("/sys/class/tpm/tpm0/tpm_version_major")
    if tpm is not None:
        hw.tpm_present = True
        hw.tpm_version = f"{tpm.strip()}.0" if tpm.strip().isdigit() else tpm.strip()
    elif os.path.isdir("/sys/class/tpm"):
        hw.tpm_present = bool(os.listdir("/sys/class/tpm"))
    return hw


def apply_dmi(hw: Hardware, facts: dict[str, str]) -> None:
    hw.vendor = facts.get("sys_vendor", hw.vendor)
    hw.model = facts.get("product_name", hw.model)
    serial = facts.get("product_serial", "")
    placeholders = {"to be filled by o.e.m.", "default string", "0", "none", "system serial number"}
    if serial and serial.lower() not in placeholders:
        hw.serial = serial
    hw.chassis = facts.get("chassis_type", hw.chassis)
    hw.bios_vendor = facts.get("bios_vendor", hw.bios_vendor)
    hw.bios_version = facts.get("bios_version", hw.bios_version)
    hw.bios_date = facts.get("bios_date", hw.bios_date)
    text = f"{hw.vendor} {hw.model}".lower()
    if any(
        v in text
        for v in (
            "vmware",
            "virtualbox",
            "qemu",
            "kvm",
            "xen",
            "hyper-v",
            "virtual machine",
            "bochs",
            "parallels",
            "amazon ec2",
            "google compute",
        )
    ):
        hw.virtual = True
