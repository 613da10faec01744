"""What an `edit` decision may change in a proposed action.

An edit is how an engineer corrects an agent's proposal, so it is also the easiest way to
make the agent act on something it never looked at. Three rules hold:

- every object id in the edited args is one the run's tools returned (or one already in the
  proposal, which the run's `verify` step checked the same way), or one the engineer names
  in `named_ids` *and* the engagement's own Stripe account holds (looked up through its
  gateway: another account's object, or a made-up id, is refused);
- an amount may only go down (and a partial amount may not become "the whole");
- the currency may not change (an amount in another currency is not "lower").

The edited args are merged over the proposed ones, and the merge is what runs: the graph
never sees a half-specified edit that means something else than what was checked."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from core.errors import ConfigError, PermissionDenied
from core.ids import OBJECT_ID

__all__ = ["EditScope", "check_edit"]

OnAccount = Callable[[list[str]], None]
"""Looks ids up on the engagement's account; raises PermissionDenied naming any it lacks."""


def _no_lookup(ids: list[str]) -> None:
    raise PermissionDenied(f"{ids[0]} cannot be looked up here: only objects the run "
                           "returned may be edited in")


@dataclass(frozen=True)
class EditScope:
    """Without a runtime (a bare `escalations.decide`), an edit keeps to the proposal."""

    returned: frozenset[str] = frozenset()  # ids the run's tools returned
    on_account: OnAccount = _no_lookup


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _is_amount(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _check_amount(proposed: dict[str, Any], edited: dict[str, Any]) -> None:
    if "amount" not in edited:
        return
    new, old = edited["amount"], proposed.get("amount")
    if new is None:
        if old is not None:
            raise PermissionDenied(f"amounts may only go down: the proposal moves {old} "
                                   "(minor units); an edit cannot widen it to the whole",
                                   hint="keep an amount no larger than the proposed one")
        return
    if not _is_amount(new):
        raise ConfigError(f"args.amount must be a positive integer in minor units, not "
                          f"{new!r}", hint='e.g. {"amount": 1500} for 15.00')
    if _is_amount(old) and new > old:
        raise PermissionDenied(f"amounts may only go down: the proposal moves {old}, the "
                               f"edit asks for {new} (minor units)",
                               hint="to move more, reject this and open a new triage")


def _check_currency(proposed: dict[str, Any], edited: dict[str, Any]) -> None:
    if "currency" not in edited:
        return
    old, new = proposed.get("currency"), edited["currency"]
    if not isinstance(new, str) or not isinstance(old, str) or new.lower() != old.lower():
        raise PermissionDenied(f"an edit cannot change the currency ({old!r} → {new!r})",
                               hint="amounts are compared in the proposal's own currency")


def _check_ids(proposed: dict[str, Any], edited: dict[str, Any], named: list[str],
               scope: EditScope) -> None:
    known = scope.returned | {s for s in _strings(proposed) if OBJECT_ID.fullmatch(s)}
    targets = sorted({s for s in _strings(edited) if OBJECT_ID.fullmatch(s)} - known)
    unnamed = [t for t in targets if t not in named]
    if unnamed:
        raise PermissionDenied(
            f"{unnamed[0]} was not returned by any of this run's tools: an edit may only "
            "target objects the run looked at",
            hint="to act on another object of this engagement's account, list it in "
                 'named_ids (e.g. "named_ids": ["' + unnamed[0] + '"]): it is looked up '
                 "on the account first")
    if targets:
        scope.on_account(targets)


def check_edit(proposed: dict[str, Any], edited: dict[str, Any], named: list[str],
               scope: EditScope) -> dict[str, Any]:
    """The args that will run: ``edited`` over ``proposed``, once every rule holds."""
    for name in named:
        if not OBJECT_ID.fullmatch(name):
            raise ConfigError(f"named_ids holds {name[:80]!r}, which is not an object id",
                              hint='e.g. "named_ids": ["pi_3Nx..."]')
    _check_amount(proposed, edited)
    _check_currency(proposed, edited)
    _check_ids(proposed, edited, named, scope)
    return {**proposed, **edited}
