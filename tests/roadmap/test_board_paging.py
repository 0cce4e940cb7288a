"""The board renders a page of cards per column; "show more" fetches the next ones."""

from __future__ import annotations

import re

import pytest

from community.roadmap.models import Task, TaskStatus
from community.roadmap.selectors import COLUMN_CARDS
from community.roadmap.services import milestone_create, task_create

pytestmark = pytest.mark.django_db

MORE_URL = re.compile(r'hx-get="(/roadmap/column/\?[^"]+)"')


def _codes(html: str) -> list[str]:
    return re.findall(r'<li class="card task-card[^"]*" data-code="([A-Z0-9-]+)"', html)


def test_show_more_pages_through_a_long_column_without_repeats(client, maintainer):
    milestone = milestone_create(actor=maintainer, name="M1")
    other = milestone_create(actor=maintainer, name="M2")
    total = COLUMN_CARDS * 2 + 3
    for i in range(total):
        task_create(actor=maintainer, key="OPS", title=f"t{i}", milestone=milestone, status="todo")
    task_create(actor=maintainer, key="OPS", title="elsewhere", milestone=other, status="todo")
    client.force_login(maintainer)

    board = client.get(f"/roadmap/?milestone={milestone.pk}").content.decode()
    seen = _codes(board)
    assert len(seen) == COLUMN_CARDS
    assert f"({total - COLUMN_CARDS} hidden)" in board

    url = MORE_URL.search(board).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
    for _ in range(5):
        page = client.get(url).content.decode()
        seen += _codes(page)
        assert 'id="more-todo" hx-swap-oob="true"' in page
        found = MORE_URL.search(page)
        if not found:
            break
        url = found.group(1).replace("&amp;", "&")
    expected = list(
        Task.objects.filter(milestone=milestone, status=TaskStatus.TODO)
        .order_by("position", "key", "number")
        .values_list("code", flat=True)
    )
    assert seen == expected  # every card once, in board order, none from M2


def test_cards_escape_their_text_and_keep_the_keyboard_move(client, maintainer):
    task_create(actor=maintainer, key="OPS", title="<script>alert(1)</script>", labels=["x-1"])
    client.force_login(maintainer)

    body = client.get("/roadmap/").content.decode()

    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert 'formaction="/roadmap/tasks/OPS-001/move/" name="step" value="right"' in body
    # The column form carries the CSRF token the card buttons post with.
    assert body.count('name="csrfmiddlewaretoken"') >= 5


def test_keyboard_move_button_posts_through_the_column_form(client, maintainer):
    task_create(actor=maintainer, key="OPS", title="a", status="todo")
    client.force_login(maintainer)

    response = client.post("/roadmap/tasks/OPS-001/move/", {"step": "right", "next": "/roadmap/"})

    assert response.status_code == 302
    assert Task.objects.get(code="OPS-001").status == TaskStatus.IN_PROGRESS


def test_unknown_column_is_refused(client, member):
    client.force_login(member)
    assert client.get("/roadmap/column/?status=cancelled").status_code == 400
    assert client.get("/roadmap/column/?status=todo&after=junk").status_code == 200
