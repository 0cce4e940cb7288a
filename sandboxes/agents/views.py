"""HTML pages: run history, the start form, the run page (live timeline) and its actions;
the stewards' agent profile pages (every save is a new version).

Views stay thin: they call selectors and services; a ``DomainError`` becomes a message.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from portal.accounts.roles import user_has_role
from portal.api.errors import DomainError
from sandboxes.agents import selectors, services
from sandboxes.agents.forms import ProfileVersionForm
from sandboxes.agents.models import Profile, Run, RunState
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
            "can_edit_profiles": user_has_role(request.user, "steward"),
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


# --- agent profiles (stewards) ------------------------------------------------------------


def _steward_only(request: HttpRequest) -> None:
    if not user_has_role(request.user, "steward"):
        raise PermissionDenied("only stewards can edit agent profiles")


@login_required
def profile_list(request: HttpRequest) -> HttpResponse:
    _steward_only(request)
    return render(
        request, "agents/profile_list.html", {"profiles": selectors.profiles_with_history()}
    )


def _profile_save(
    request: HttpRequest, form: ProfileVersionForm, *, name: str, base_version: int | None
) -> HttpResponse | None:
    """Create the version, or put the service's refusal on the form (None: re-render)."""
    if not form.is_valid():
        return None
    try:
        version = services.profile_version_create(
            actor=request.user,
            name=name,
            new_profile=form.creating,
            base_version=base_version,
            **form.version_fields(),
        )
    except DomainError as exc:
        field = next(iter(exc.fields or {}), None)
        form.add_error(field if field in form.fields else None, exc.message)
        return None
    messages.success(request, f"Saved {version.profile.name} v{version.number}.")
    return redirect("agents:profile_edit", name=version.profile.name)


@login_required
def profile_new(request: HttpRequest) -> HttpResponse:
    _steward_only(request)
    form = ProfileVersionForm(
        request.POST or None,
        creating=True,
        initial={"tools": ["read_file", "list_files", "search", "finish"], "max_steps": 30,
                 "max_wall_seconds": 900, "max_tokens": 200_000, "risky_policy": "confirm"},
    )  # fmt: skip
    if request.method == "POST":
        name = request.POST.get("name", "")
        done = _profile_save(request, form, name=name, base_version=None)
        if done is not None:
            return done
    return render(
        request,
        "agents/profile_form.html",
        {"form": form, "profile": None, "latest": None, "versions": []},
        status=400 if form.errors else 200,
    )


@login_required
def profile_edit(request: HttpRequest, name: str) -> HttpResponse:
    _steward_only(request)
    profile = Profile.objects.filter(name=name).first()
    if profile is None:
        raise Http404("no such profile")
    versions = selectors.profile_versions(profile)
    latest = versions[0] if versions else None
    initial = ProfileVersionForm.initial_from(latest) if latest else {}
    form = ProfileVersionForm(request.POST or None, initial=initial)
    base = latest.number if latest else None
    if request.method == "POST":
        posted = request.POST.get("base_version", "")
        base = int(posted) if posted.isdigit() else base
        done = _profile_save(request, form, name=profile.name, base_version=base)
        if done is not None:
            return done
    return render(
        request,
        "agents/profile_form.html",
        {
            "form": form,
            "profile": profile,
            "latest": latest,
            "base_version": base,
            "versions": versions,
        },
        status=400 if form.errors else 200,
    )
