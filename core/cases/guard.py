"""Failure budgets of the verified status lookup (what a guesser may try, per whom).

A lookup is reserved in every budget that applies before the secret is checked, and released
when it matches (core/db/throttle.py makes the check-and-record atomic across replicas):

| budget | counts | default | applies to |
|---|---|---|---|
| sender | failures of one conversation | 5 / 15 min | every lookup |
| client | failures from one client address (widget: IP, /64 for IPv6; messaging apps: the user) | 20 / hour | every lookup |
| reference | failures on one reference, **escalating**: each lockout doubles (15 min, 30 min, … 24 h) | 5 / 15 min | last-4 digits only |
| global | all last-4 failures together | 60 / hour | last-4 digits only |

Rotating session ids therefore gains nothing beyond the client budget, rotating addresses
nothing beyond the global one. A reference or the whole service can be sprayed into lockout, but
only for the 4 digits: the receipt's query code (6–10 letters and digits, not guessable within
these budgets) still works for its owner.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.db.throttle import Budget
from core.settings import Settings


@dataclass(frozen=True)
class LookupLimits:
    """The budgets' sizes (settings LOCKOUT_* and LOOKUP_*)."""

    max_failures: int = 5
    window_s: int = 900
    max_lock_s: int = 86400
    client_max_failures: int = 20
    client_window_s: int = 3600
    global_max_failures: int = 60
    global_window_s: int = 3600

    @classmethod
    def from_settings(cls, settings: Settings) -> LookupLimits:
        """The limits configured for this process."""
        return cls(
            settings.lockout_max_failures,
            settings.lockout_window_s,
            settings.lockout_max_s,
            settings.lookup_client_max_failures,
            settings.lookup_client_window_s,
            settings.lookup_global_max_failures,
            settings.lookup_global_window_s,
        )


def lookup_budgets(
    limits: LookupLimits, *, reference: str, method: str, sender_hash: str, client_hash: str
) -> list[Budget]:
    """The budgets one lookup is counted in (see the module table)."""
    budgets = [
        Budget(f"lookup:sender:{sender_hash}", limits.max_failures, limits.window_s),
        Budget(f"lookup:client:{client_hash}", limits.client_max_failures, limits.client_window_s),
    ]
    if method == "phone":
        budgets += [
            Budget(
                f"lookup:ref:{reference}",
                limits.max_failures,
                limits.window_s,
                escalating=True,
                max_lock_s=limits.max_lock_s,
            ),
            Budget("lookup:global", limits.global_max_failures, limits.global_window_s),
        ]
    return budgets


def scope_of(budget: Budget) -> str:
    """sender | client | reference | global."""
    parts = budget.key.split(":")
    return {"ref": "reference"}.get(parts[1], parts[1])
