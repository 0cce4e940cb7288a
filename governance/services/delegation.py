"""Delegations: set/remove with cycle detection; resolution for poll snapshots."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from governance.models import Category, Delegation
from portal.api.errors import DomainError
from portal.audit import audit_record

MAX_CHAIN = 1000


def delegation_resolve_first_hop(*, user_id: int, category: str) -> int | None:
    """Whom ``user_id`` delegates to for ``category``: the category delegation if any,
    else the global one."""
    rows = dict(
        Delegation.objects.filter(delegator_id=user_id, category__in=[category, ""]).values_list(
            "category", "delegate_id"
        )
    )
    if category and category in rows:
        return rows[category]
    return rows.get("")


def delegation_chain(*, user_id: int, category: str) -> list[int]:
    """The delegates ``user_id``'s vote flows through, in order (stops at a cycle)."""
    chain: list[int] = []
    current: int | None = user_id
    seen = {user_id}
    while len(chain) < MAX_CHAIN:
        current = delegation_resolve_first_hop(user_id=current, category=category)  # type: ignore[arg-type]
        if current is None or current in seen:
            break
        chain.append(current)
        seen.add(current)
    return chain


@transaction.atomic
def delegation_set(*, delegator: Any, delegate: Any, category: str = "") -> Delegation:
    """Delegate globally (``category=""``) or for one category. Refuses cycles: the new
    delegate's own chain (for every category it could apply to) must not lead back."""
    from governance.services.proposals import category_settings_get

    if category and category not in Category.values:
        raise DomainError(f"unknown category {category!r}", code="unknown_category")
    if delegate.pk == delegator.pk:
        raise DomainError("you cannot delegate to yourself", code="self_delegation")
    if not delegate.is_active:
        raise DomainError("that member is not active", code="inactive_delegate")
    if category and not category_settings_get(category).delegation_enabled:
        raise DomainError(
            f"delegation is disabled for {category}", code="delegation_disabled", status_code=409
        )
    # Serialise delegation changes so two concurrent edits cannot close a cycle.
    list(Delegation.objects.select_for_update().filter(delegator=delegator))
    categories = [category] if category else ["", *Category.values]
    for scope in categories:
        if delegator.pk == delegate.pk or delegator.pk in delegation_chain(
            user_id=delegate.pk, category=scope
        ):
            raise DomainError(
                f"{delegate.name} already delegates (directly or not) to you"
                + (f" for {scope}" if scope else ""),
                code="delegation_cycle",
                status_code=409,
            )
    delegation, _ = Delegation.objects.update_or_create(
        delegator=delegator, category=category, defaults={"delegate": delegate}
    )
    audit_record(
        actor=delegator,
        action="governance.delegation.set",
        obj=delegation,
        detail={"delegate": delegate.pk, "category": category},
    )
    return delegation


@transaction.atomic
def delegation_remove(*, delegator: Any, category: str = "") -> bool:
    deleted, _ = Delegation.objects.filter(delegator=delegator, category=category).delete()
    if deleted:
        audit_record(
            actor=delegator,
            action="governance.delegation.remove",
            object_type="governance.delegation",
            detail={"category": category},
        )
    return bool(deleted)
