"""Check any endpoint (the platform, a gateway, a mock) against the contract the fake embodies.

``zhipu-images conformance --base-url URL`` runs ``catalogue()`` through
``run_probes`` and reports each probe's ``expected``, ``observed`` and ``ok``.
"""

from .._extras import require

# Answers are checked against the vendored schema: the runner comes with the [cli] extra.
require("the conformance runner", "cli", ("jsonschema",))

from ._catalogue import PRICES_CNY, Probe, catalogue  # noqa: E402
from ._report import as_json, as_table, differences, write_junit  # noqa: E402
from ._runner import Endpoints, Outcome, run_probes  # noqa: E402

__all__ = [
    "PRICES_CNY",
    "Endpoints",
    "Outcome",
    "Probe",
    "as_json",
    "as_table",
    "catalogue",
    "differences",
    "run_probes",
    "write_junit",
]
