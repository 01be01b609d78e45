"""The reference an upload is checked against in the tests: ``Inventory.from_dict`` builds every
object of the document, exactly as the model defines it.

The collector service has one validator, ``scanner.service.upload.accept_upload``; it does not build the
package objects (two thirds of its CPU per upload were spent building and re-encoding them).  The
tests hold it to this reference: the same documents accepted, the same refused with the same
status and reason, and the same inventory stored."""

from __future__ import annotations

from agents.inventory import Inventory, InventoryError
from scanner.privacy import KEEP, Privacy
from scanner.service.upload import Refused, _decode, _from_token, _raw, schema_of
from scanner.store.enrolment import TokenInfo


def parse_upload(body: bytes, token: TokenInfo, privacy: Privacy = KEEP) -> Inventory:
    """Validate an upload into an Inventory filed under the token's site, or raise Refused (4xx);
    ``privacy`` (the [privacy] setting) hashes or drops its serial and user SIDs."""
    data = _decode(body)
    if schema_of(data) is not None:
        inv = _raw(data, body)
        _from_token(inv, token)
        return privacy.apply(inv)
    try:
        inv = Inventory.from_dict(data)
    except InventoryError as exc:
        raise Refused(422, str(exc)[:500]) from exc
    except RecursionError as exc:
        raise Refused(422, "document nested too deeply") from exc
    _from_token(inv, token)
    return privacy.apply(inv)
