"""HTML pages: run history, the start form, the run page (live timeline) and its actions.

Views stay thin: they call selectors and services; a ``DomainError`` becomes a message.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from portal.accounts.roles import user_has_role
from portal.api.errors import DomainError
from sandboxes.agents import selectors, services
from sandboxes.agents.models import Run, RunState
from sandboxes.models import Sandbox, SandboxState
from sandboxes.selectors import recipe_get_for_user, recipes_visible

EXAMPLE_STEPS = [
    {"tool": "write_file", "args": {"path": "hello.py", "content": "print('hello')\n"}},
    {"tool": "shell", "args": {"command": "python3 hello.py"}, "say": "Running it."},
    {"finish": "Wrote hello.py and ran it."},
]


def _run_or_404(request: HttpRequest, pk: int) -> Run:
    run = selectors.run_get_for_user(request.user, pk)
    if run is None:
        raise Http404("no such run")
    return run


@login_required
def run_list(request: HttpRequest) -> HttpResponse:
    params = request.GET
    filters = {
        "profile": params.get("profile", "")[:40],
        "state": params.get("state", "")[:30],
        "owner": params.get("user", "")[:200],
    }
    runs = selectors.runs_visible(request.user, **filters)[:200]
    return render(
        request,
        "agents/run_list.html",
        {
            "runs": runs,
            "filters": filters,
            "profiles": selectors.profiles_active(),
            "states": RunState.choices,
            "can_start": user_has_role(request.user, "maintainer"),
        },
    )


@login_required
def run_new(request: HttpRequest) -> HttpResponse:
    form: dict[str, Any] = {
        "profile": "fixer",
        "task": "",
        "recipe": "python",
        "sandbox": "",
        "steps": json.dumps(EXAMPLE_STEPS, indent=2),
        "shared": False,
    }
    if request.method == "POST":
        data = request.POST
        form.update(
            profile=data.get("profile", ""),
            task=data.get("task", ""),
            recipe=data.get("recipe", ""),
            sandbox=data.get("sandbox", ""),
            steps=data.get("steps", ""),
            shared=data.get("shared") == "on",
        )
        try:
            recipe = sandbox = None
            if form["sandbox"]:
                sandbox = Sandbox.objects.filter(
                    pk=int(form["sandbox"]) if form["sandbox"].isdigit() else 0,
                    owner_id=request.user.pk,
                ).first()
                if sandbox is None:
                    raise DomainError("no such sandbox of yours", code="invalid")
            elif form["recipe"]:
                recipe = recipe_get_for_user(request.user, slug=form["recipe"])
                if recipe is None:
                    raise DomainError("no such recipe", code="invalid")
            run = services.run_start(
                user=request.user,
                profile=form["profile"],
                task=form["task"],
                recipe=recipe,
                sandbox=sandbox,
                steps=form["steps"].strip() or None,
                shared=form["shared"],
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            return redirect("agents:run_detail", pk=run.pk)
    return render(
        request,
        "agents/run_new.html",
        {
            "form": form,
            "profiles": selectors.profiles_active(),
            "recipes": recipes_visible(request.user)[:100],
            "sandboxes": Sandbox.objects.filter(
                owner_id=request.user.pk, state=SandboxState.RUNNING
            )
            if request.user.is_authenticated
            else [],
            "can_start": user_has_role(request.user, "maintainer"),
        },
    )


@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run_or_404(request, pk)
    return render(
        request,
        "agents/run_detail.html",
        {
            "run": run,
            "artifacts": run.artifacts.all(),
            "can_control": selectors.run_can_control(request.user, run),
            "profile": run.profile_version,
        },
    )


@login_required
@require_POST
def run_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    run = _run_or_404(request, pk)
    try:
        if action == "cancel":
            services.run_cancel(actor=request.user, run=run)
            messages.success(request, "Cancelling the run.")
        elif action in ("approve", "deny"):
            services.run_confirm(actor=request.user, run=run, approved=action == "approve")
        elif action == "resume":
            services.run_resume(actor=request.user, run=run)
        else:
            raise Http404("no such action")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("agents:run_detail", pk=run.pk)
