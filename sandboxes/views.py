"""HTML pages: recipe registry, launch, my sandboxes, the sandbox page, the steward view.

Views stay thin: they call selectors and services; a ``DomainError`` becomes a message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from portal.accounts.roles import user_has_role
from portal.api.errors import DomainError
from sandboxes import selectors, services
from sandboxes.backends import backends_enabled
from sandboxes.models import GlobalQuota, QuotaPolicy, Recipe, Sandbox
from sandboxes.models.recipes import Language
from sandboxes.services.quotas import DEFAULT_QUOTAS


def _recipe_or_404(request: HttpRequest, slug: str) -> Recipe:
    recipe = selectors.recipe_get_for_user(request.user, slug=slug)
    if recipe is None:
        raise Http404("no such recipe")
    return recipe


def _sandbox_or_404(request: HttpRequest, pk: int) -> Sandbox:
    sandbox = selectors.sandbox_get_for_user(request.user, pk)
    if sandbox is None and user_has_role(request.user, "steward"):
        sandbox = selectors.sandboxes_all_for_steward(request.user).filter(pk=pk).first()
    if sandbox is None:
        raise Http404("no such sandbox")
    return sandbox


def _attempt(request: HttpRequest, fn: Callable[[], Any], ok: str = "") -> Any:
    try:
        result = fn()
    except DomainError as exc:
        messages.error(request, exc.message)
        return None
    if ok:
        messages.success(request, ok)
    return result


@login_required
def my_sandboxes(request: HttpRequest) -> HttpResponse:
    sandboxes = selectors.sandboxes_for_user(request.user)[:100]
    return render(
        request,
        "sandboxes/my_sandboxes.html",
        {
            "sandboxes": sandboxes,
            "usage": services.quota_usage(request.user),
            "can_launch": user_has_role(request.user, "maintainer"),
            "recipes": selectors.recipes_visible(request.user)[:50],
            "backends": backends_enabled(),
        },
    )


def recipe_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:100]
    language = request.GET.get("language", "")
    tag = request.GET.get("tag", "")[:40]
    recipes = selectors.recipes_visible(
        request.user, q=q, language=language, tag=tag, mine=request.GET.get("mine") == "1"
    )
    return render(
        request,
        "sandboxes/recipe_list.html",
        {
            "recipes": recipes[:100],
            "q": q,
            "language": language,
            "tag": tag,
            "languages": Language.choices,
            "can_publish": user_has_role(request.user, "maintainer"),
        },
    )


def recipe_detail(request: HttpRequest, slug: str = "", token: str = "") -> HttpResponse:
    recipe = (
        selectors.recipe_get_for_user(request.user, share_token=token)
        if token
        else _recipe_or_404(request, slug)
    )
    if recipe is None:
        raise Http404("no such recipe")
    starred = request.user.is_authenticated and recipe.stars.filter(user=request.user).exists()
    return render(
        request,
        "sandboxes/recipe_detail.html",
        {
            "recipe": recipe,
            "versions": recipe.versions.all()[:20],
            "latest": recipe.latest,
            "starred": starred,
            "can_launch": user_has_role(request.user, "maintainer"),
            "is_steward": user_has_role(request.user, "steward"),
            "backends": backends_enabled(),
            "share_url": request.build_absolute_uri(
                f"/sandboxes/recipes/share/{recipe.share_token}/"
            ),
        },
    )


@login_required
def recipe_new(request: HttpRequest) -> HttpResponse:
    if not user_has_role(request.user, "maintainer"):
        raise PermissionDenied("only maintainers can publish recipes")
    if request.method == "POST":
        post = request.POST
        fields: dict[str, Any] = {
            "name": post.get("name", "").strip(),
            "description": post.get("description", ""),
            "language": post.get("language", "shell"),
            "tags": [t.strip() for t in post.get("tags", "").split(",") if t.strip()],
            "visibility": post.get("visibility", "public"),
            "docker_image": post.get("docker_image", "").strip(),
            "default_command": post.get("default_command", "").strip(),
            "setup_commands": [c for c in post.get("setup_commands", "").splitlines() if c.strip()],
        }
        for name in ("memory_mb", "pids", "cpu_seconds", "idle_timeout_minutes", "max_age_minutes"):
            if post.get(name, "").strip().isdigit():
                fields[name] = int(post[name])
        if not fields["name"]:
            messages.error(request, "A recipe needs a name.")
        else:
            recipe = _attempt(
                request,
                lambda: services.recipe_publish(user=request.user, **fields),
                ok="Recipe published.",
            )
            if recipe is not None:
                return redirect("sandboxes:recipe_detail", slug=recipe.slug)
    return render(request, "sandboxes/recipe_new.html", {"languages": Language.choices})


@login_required
@require_POST
def recipe_action(request: HttpRequest, slug: str, action: str) -> HttpResponse:
    recipe = _recipe_or_404(request, slug)
    if action == "star":
        _attempt(
            request, lambda: services.recipe_star(user=request.user, recipe=recipe, starred=True)
        )
    elif action == "unstar":
        _attempt(
            request, lambda: services.recipe_star(user=request.user, recipe=recipe, starred=False)
        )
    elif action == "fork":
        fork = _attempt(
            request,
            lambda: services.recipe_fork(user=request.user, recipe=recipe),
            ok="Forked. This copy is yours to change.",
        )
        if fork is not None:
            return redirect("sandboxes:recipe_detail", slug=fork.slug)
    elif action in ("trust", "untrust"):
        _attempt(
            request,
            lambda: services.recipe_set_trusted(
                actor=request.user, recipe=recipe, trusted=action == "trust"
            ),
            ok="Saved.",
        )
    else:
        raise Http404("unknown action")
    return redirect("sandboxes:recipe_detail", slug=recipe.slug)


@login_required
@require_POST
def sandbox_launch_view(request: HttpRequest) -> HttpResponse:
    recipe = _recipe_or_404(request, request.POST.get("recipe", ""))
    sandbox = _attempt(
        request,
        lambda: services.sandbox_launch(
            user=request.user, recipe=recipe, backend=request.POST.get("backend", "")
        ),
    )
    if sandbox is None:
        return redirect(request.POST.get("next") or "sandboxes:my_sandboxes")
    return redirect("sandboxes:sandbox_detail", pk=sandbox.pk)


@login_required
def sandbox_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sandbox = _sandbox_or_404(request, pk)
    files: list[Any] = []
    path = request.GET.get("path", "")
    if (
        sandbox.handle_ref
        and sandbox.workspace_removed_at is None
        and sandbox.state in ("running", "stopped", "failed", "expired")
    ):
        files = (
            _attempt(
                request,
                lambda: services.sandbox_files_list(user=request.user, sandbox=sandbox, path=path),
            )
            or []
        )
    return render(
        request,
        "sandboxes/sandbox_detail.html",
        {
            "sandbox": sandbox,
            "version": sandbox.recipe_version,
            "is_owner": sandbox.owner_id == request.user.pk,
            "files": files,
            "path": path,
            "transitions": sandbox.transitions.all(),
            "viewers": sandbox.viewers.all(),
        },
    )


@login_required
@require_POST
def sandbox_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    sandbox = _sandbox_or_404(request, pk)
    user = request.user
    if action == "stop":
        _attempt(
            request,
            lambda: services.sandbox_stop(actor=user, sandbox=sandbox),
            ok="Sandbox stopped.",
        )
    elif action == "keepalive":
        _attempt(
            request,
            lambda: services.sandbox_keep_alive(user=user, sandbox=sandbox),
            ok="Kept alive.",
        )
    elif action == "upload":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, "Choose a file to upload.")
        elif upload.size and upload.size > services.MAX_UPLOAD_BYTES:
            messages.error(request, "That file is larger than 10 MB.")
        else:
            target = "/".join(p for p in (request.POST.get("path", ""), upload.name) if p)
            _attempt(
                request,
                lambda: services.sandbox_file_write(
                    user=user, sandbox=sandbox, path=target, data=upload.read()
                ),
                ok=f"Uploaded {upload.name}.",
            )
    elif action == "invite":
        viewer = get_user_model().objects.filter(username=request.POST.get("username", "")).first()
        if viewer is None:
            messages.error(request, "No user with that username.")
        else:
            _attempt(
                request,
                lambda: services.sandbox_invite(user=user, sandbox=sandbox, viewer=viewer),
                ok=f"{viewer.username} can now watch read-only.",
            )
    else:
        raise Http404("unknown action")
    return redirect("sandboxes:sandbox_detail", pk=sandbox.pk)


@login_required
def sandbox_file_download(request: HttpRequest, pk: int) -> HttpResponse:
    sandbox = _sandbox_or_404(request, pk)
    path = request.GET.get("path", "")
    try:
        data = services.sandbox_file_read(user=request.user, sandbox=sandbox, path=path)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("sandboxes:sandbox_detail", pk=sandbox.pk)
    response = HttpResponse(data, content_type="application/octet-stream")
    name = path.rstrip("/").rsplit("/", 1)[-1] or "file"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def steward_overview(request: HttpRequest) -> HttpResponse:
    if not user_has_role(request.user, "steward"):
        raise PermissionDenied("stewards only")
    if request.method == "POST":
        role = request.POST.get("role", "")
        names = (
            "max_concurrent",
            "launches_per_day",
            "cpu_minutes_per_day",
            "max_running",
            "workspace_retention_hours",
        )
        limits = {
            name: int(value)
            for name in names
            if (value := str(request.POST.get(name, ""))).isdigit()
        }
        _attempt(
            request,
            lambda: services.quota_update(actor=request.user, role=role, **limits),
            ok="Quota saved.",
        )
        return redirect("sandboxes:steward_overview")
    for role, defaults in DEFAULT_QUOTAS.items():
        QuotaPolicy.objects.get_or_create(role=role, defaults=defaults)
    state = request.GET.get("state", "")
    sandboxes = selectors.sandboxes_all_for_steward(request.user)
    if state:
        sandboxes = sandboxes.filter(state=state)
    return render(
        request,
        "sandboxes/steward.html",
        {
            "sandboxes": sandboxes[:200],
            "policies": QuotaPolicy.objects.all(),
            "global_quota": GlobalQuota.current(),
            "state": state,
        },
    )
