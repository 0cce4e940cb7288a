"""Editing comments (with visible history) and reactions on the proposal page."""

from __future__ import annotations

import pytest

from governance.models import Comment, CommentEdit, Reaction
from governance.services import comment_create, proposal_create, proposal_submit

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def comment(member, other_member) -> Comment:
    proposal = proposal_create(author=member, title="Move chat to Matrix")
    proposal_submit(actor=member, proposal=proposal)
    return comment_create(actor=other_member, proposal=proposal, body="First *take*")


def test_author_edits_a_comment_in_place_and_sees_its_history(
    client, other_member, comment
) -> None:
    client.force_login(other_member)
    form = client.get(f"/governance/comments/{comment.pk}/edit/", **HTMX)
    assert form.status_code == 200 and b"First *take*" in form.content
    response = client.post(
        f"/governance/comments/{comment.pk}/edit/", {"body": "Second take"}, **HTMX
    )
    assert response.status_code == 200
    comment.refresh_from_db()
    assert comment.body == "Second take" and comment.edited_at is not None
    assert list(CommentEdit.objects.values_list("body", flat=True)) == ["First *take*"]
    assert b"Second take" in response.content
    assert b"Edit history (1)" in response.content
    assert b"<em>take</em>" in response.content  # the previous version, rendered
    page = client.get(f"/governance/proposals/{comment.proposal_id}/")
    assert b"Edit history (1)" in page.content and b'hx-get="/governance/comments/' in page.content


def test_only_the_author_may_edit(client, member, comment) -> None:
    client.force_login(member)  # the proposal's author, not the comment's
    page = client.get(f"/governance/proposals/{comment.proposal_id}/")
    assert f"/governance/comments/{comment.pk}/edit/".encode() not in page.content
    response = client.post(f"/governance/comments/{comment.pk}/edit/", {"body": "Hijack"}, **HTMX)
    assert response.status_code == 403
    assert b"only the author may edit a comment" in response.content
    comment.refresh_from_db()
    assert comment.body == "First *take*" and not CommentEdit.objects.exists()


def test_an_empty_edit_shows_the_field_error_and_keeps_the_body(
    client, other_member, comment
) -> None:
    client.force_login(other_member)
    response = client.post(f"/governance/comments/{comment.pk}/edit/", {"body": "   "}, **HTMX)
    assert response.status_code == 400
    assert b'id="error-body"' in response.content
    comment.refresh_from_db()
    assert comment.body == "First *take*" and not CommentEdit.objects.exists()


def test_edit_without_htmx_redirects_to_the_comment(client, other_member, comment) -> None:
    client.force_login(other_member)
    response = client.post(f"/governance/comments/{comment.pk}/edit/", {"body": "Plain form"})
    assert response.status_code == 302
    assert response["Location"].endswith(f"#comment-{comment.pk}")
    comment.refresh_from_db()
    assert comment.body == "Plain form"


def test_reactions_toggle_on_and_off(client, member, other_member, comment) -> None:
    client.force_login(member)
    url = f"/governance/comments/{comment.pk}/react/"
    response = client.post(url, {"emoji": "👍"}, **HTMX)
    assert response.status_code == 200
    assert Reaction.objects.filter(comment=comment, user=member, emoji="👍").exists()
    assert b'aria-pressed="true"' in response.content
    assert '👍 <span class="count">1</span>'.encode() in response.content
    client.force_login(other_member)
    response = client.post(url, {"emoji": "👍"}, **HTMX)
    assert '👍 <span class="count">2</span>'.encode() in response.content
    response = client.post(url, {"emoji": "👍"}, **HTMX)  # second click removes it
    assert not Reaction.objects.filter(user=other_member).exists()
    assert Reaction.objects.filter(user=member).count() == 1
    assert '👍 <span class="count">1</span>'.encode() in response.content


def test_a_bad_reaction_is_refused(client, member, comment) -> None:
    client.force_login(member)
    response = client.post(f"/governance/comments/{comment.pk}/react/", {"emoji": "x" * 40}, **HTMX)
    assert response.status_code == 400 and b"a reaction is one short emoji" in response.content
    assert not Reaction.objects.exists()


def test_anonymous_visitors_see_reactions_but_cannot_react(client, member, comment) -> None:
    Reaction.objects.create(comment=comment, user=member, emoji="🎉")
    page = client.get(f"/governance/proposals/{comment.proposal_id}/")
    assert '🎉 <span class="count">1</span>'.encode() in page.content
    assert b"/react/" not in page.content
    assert (
        client.post(f"/governance/comments/{comment.pk}/react/", {"emoji": "👍"}).status_code == 302
    )
    assert Reaction.objects.count() == 1


def test_comments_on_hidden_drafts_are_not_reachable(client, member, other_member) -> None:
    draft = proposal_create(author=member, title="Secret draft")
    comment = comment_create(actor=member, proposal=draft, body="note to self")
    client.force_login(other_member)
    assert client.get(f"/governance/comments/{comment.pk}/").status_code == 404
    response = client.post(f"/governance/comments/{comment.pk}/react/", {"emoji": "👍"})
    assert response.status_code == 404 and not Reaction.objects.exists()


def test_reaction_bar_fragment_refreshes_for_readers(client, member, comment) -> None:
    Reaction.objects.create(comment=comment, user=member, emoji="👀")
    response = client.get(f"/governance/comments/{comment.pk}/reactions/")
    assert response.status_code == 200
    assert f'id="reactions-{comment.pk}"'.encode() in response.content
    assert '👀 <span class="count">1</span>'.encode() in response.content


def test_edit_link_without_javascript_opens_a_full_page(client, other_member, comment) -> None:
    client.force_login(other_member)
    response = client.get(f"/governance/comments/{comment.pk}/edit/")
    assert response.status_code == 200
    assert b"<title>Edit comment" in response.content and b"First *take*" in response.content
