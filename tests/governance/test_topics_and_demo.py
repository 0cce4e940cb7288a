"""Realtime topic access for governance topics, and the idempotent demo seed."""

from __future__ import annotations

import pytest
from django.apps import apps

from governance.models import Poll, Proposal
from governance.services import proposal_create
from portal.realtime import topic_resolve
from portal.realtime.registry import topic_is_public

pytestmark = pytest.mark.django_db


def test_poll_topic_public_only_for_public_polls(open_poll, member) -> None:
    public, hidden = open_poll("yes_no"), open_poll("yes_no", is_public=False)
    spec, key = topic_resolve(f"poll.{public.pk}")
    assert topic_is_public(spec, key)
    spec, key = topic_resolve(f"poll.{hidden.pk}")
    assert not topic_is_public(spec, key)
    assert spec.authorize is not None and spec.authorize(member, key)
    assert not spec.authorize(member, "999999") and not spec.authorize(member, "x")


def test_draft_proposal_topic_only_for_its_author(member, other_member) -> None:
    draft = proposal_create(author=member, title="Draft")
    spec, key = topic_resolve(f"proposal.{draft.pk}")
    assert not topic_is_public(spec, key)
    assert spec.authorize is not None
    assert spec.authorize(member, key)
    assert not spec.authorize(other_member, key)


def test_demo_seed_is_idempotent(member, maintainer) -> None:
    config = apps.get_app_config("governance")
    config.demo_seed()
    config.demo_seed()
    assert Proposal.objects.filter(status="discussion").count() == 1
    assert Poll.objects.filter(status="open").count() == 1
