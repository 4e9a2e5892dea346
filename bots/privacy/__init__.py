"""Consent, feedback signals and the privacy duties (erasure, export, retention, redaction).

- :class:`ConsentBook`: explicit, versioned, revocable consent per customer and purpose.
- :class:`Signals`: feedback signals for opted-in customers only (pseudonymous), counts otherwise.
- :func:`redact`: personal data out of free text kept for analytics.
- :mod:`.erasure` (``erase``, ``erased_at``), :mod:`.export` (``export``) and :mod:`.retention`
  (``run_retention``): "delete my data", subject-access requests, purging what is past its
  period. They sit at the edge (Redis, the pipeline's keys, the dialogue's lock), so they are
  loaded on first use (PEP 562): the dialogue and the pipeline can import this package's
  core without an import cycle, and ``from bots.privacy import erase`` still works.

Importing this package registers its tables on :data:`bots.stores.models.metadata`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .consent import HOWS, ConsentBook, ConsentRecord, ConsentState, Wording
from .customer import CHANNELS, Customer, customer, normalise_e164
from .errors import PrivacyError
from .pseudonyms import Pseudonyms
from .redaction import redact
from .signals import FEEDBACK, Signals

if TYPE_CHECKING:
    from .erasure import ErasureReport, erase, erased_at
    from .export import export, to_json
    from .retention import RetentionReport, run_retention

#: the edge functions, loaded on first use: name -> module.
_EDGE = {
    "ErasureReport": "erasure",
    "erase": "erasure",
    "erased_at": "erasure",
    "export": "export",
    "to_json": "export",
    "RetentionReport": "retention",
    "run_retention": "retention",
}


def __getattr__(name: str) -> Any:
    module = _EDGE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)


__all__ = [
    "CHANNELS",
    "FEEDBACK",
    "HOWS",
    "ConsentBook",
    "ConsentRecord",
    "ConsentState",
    "Customer",
    "ErasureReport",
    "PrivacyError",
    "Pseudonyms",
    "RetentionReport",
    "Signals",
    "Wording",
    "customer",
    "erase",
    "erased_at",
    "export",
    "normalise_e164",
    "redact",
    "run_retention",
    "to_json",
]
