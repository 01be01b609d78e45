"""Support status of a release on a date: the one place the phase rules live.

Order of severity (ARCHITECTURE.md): ``eol`` > ``extended`` > ``ending-soon`` > ``supported`` >
``unknown``.  A release past its security-support end counts as ``extended`` only while an
extended phase is open *and* the site is entitled to it (paid ESU/ELS declared in config) or the
phase is free (Debian LTS); once that phase has ended too, the release is ``eol`` from the end of
the last phase the site was entitled to (the date "days past end" counts from).  Boolean phase
ends keep their meaning: ``False`` = no end announced.
"""

from __future__ import annotations

from datetime import date, timedelta

from eol_data.catalog import Product, Release, phase_over
from scanner.model import Policy, Status, Verdict


def judge(release: Release, product: Product | None, as_of: date, policy: Policy) -> Verdict:
    labels = product.labels if product else {}
    eol_label = str(labels.get("eol") or "Security Support")
    over = phase_over(release.eol, as_of)
    eol_date = release.eol_date
    if over is None:
        return Verdict(Status.UNKNOWN, reason=f"{release.label}: the dataset gives no end of support")
    if over:
        ext_over = phase_over(release.eoes, as_of)
        ext_label = str(labels.get("eoes") or "extended support")
        if ext_over is False and policy.entitled(release.product, release.name):
            free = release.product in policy.free_extended
            return Verdict(
                Status.EXTENDED,
                eol=eol_date,
                extended_until=release.eoes_date,
                phase_label=ext_label,
                reason=f"{eol_label} ended {_d(eol_date)}; covered by {ext_label}"
                f"{' (free)' if free else ' (entitlement declared)'} until {_d(release.eoes_date)}",
            )
        if ext_over is False:
            return Verdict(
                Status.EOL,
                eol=eol_date,
                phase_label=eol_label,
                reason=f"{eol_label} ended {_d(eol_date)}; {ext_label} available until "
                f"{_d(release.eoes_date)} but no entitlement is declared",
            )
        if ext_over is True and release.eoes_date is not None and policy.entitled(release.product, release.name):
            # The site was covered until the extended phase ended (free Debian LTS, a declared
            # ESU/ELS): it has been unsupported since then, not since the first phase ended.
            return Verdict(
                Status.EOL,
                eol=release.eoes_date,
                phase_label=ext_label,
                reason=f"{eol_label} ended {_d(eol_date)}; {ext_label} ended {_d(release.eoes_date)}",
            )
        return Verdict(Status.EOL, eol=eol_date, phase_label=eol_label, reason=f"{eol_label} ended {_d(eol_date)}")
    if eol_date is not None and eol_date - as_of <= timedelta(days=policy.lookahead_days):
        return Verdict(
            Status.ENDING_SOON,
            eol=eol_date,
            phase_label=eol_label,
            reason=f"{eol_label} ends {eol_date.isoformat()} "
            f"({(eol_date - as_of).days} days after {as_of.isoformat()})",
        )
    if eol_date is None:
        return Verdict(Status.SUPPORTED, phase_label=eol_label, reason=f"{eol_label}: no end announced")
    return Verdict(
        Status.SUPPORTED, eol=eol_date, phase_label=eol_label, reason=f"{eol_label} until {eol_date.isoformat()}"
    )


def _d(value: date | None) -> str:
    return value.isoformat() if value else "(date not published)"


def supplier_verdict(end: date, as_of: date, policy: Policy, upstream: Verdict, reference: str = "") -> Verdict:
    """A device whose supplier states its own end of support (the device register's date; a medical
    device's supplier, not the OS vendor, decides what it supports): that date decides, and the
    dataset's verdict for the recorded OS stays in the reason."""
    where = f" ({reference})" if reference else ""
    also = f"; the recorded OS alone: {upstream.status.value}" + (f" ({upstream.reason})" if upstream.reason else "")
    if end < as_of or end == as_of:
        return Verdict(
            Status.EOL,
            eol=end,
            phase_label="supplier support",
            reason=f"supplier support ended {end.isoformat()} per the device register{where}{also}",
        )
    if end - as_of <= timedelta(days=policy.lookahead_days):
        return Verdict(
            Status.ENDING_SOON,
            eol=end,
            phase_label="supplier support",
            reason=f"supplier support ends {end.isoformat()} per the device register{where}{also}",
        )
    return Verdict(
        Status.SUPPORTED,
        eol=end,
        phase_label="supplier support",
        reason=f"supplier support until {end.isoformat()} per the device register{where}{also}",
    )
