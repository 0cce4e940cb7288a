"""Account pages: public profiles, profile editing, personal tokens, role management."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.accounts.forms import ProfileForm, RoleForm, TokenCreateForm
from portal.accounts.profiles import profile_update
from portal.accounts.roles import RoleError, user_role, user_set_role
from portal.accounts.selectors import token_list, user_get_by_username, user_list
from portal.accounts.tokens import token_create, token_revoke
from portal.api.errors import DomainError
from portal.models import Role, User

USERS_PER_PAGE = 50


def _form_add_domain_error(form: object, exc: DomainError) -> None:
    """Put a service's refusal next to the field it concerns (or on top of the form)."""
    fields = exc.fields or {}
    added = False
    for name, msgs in fields.items():
        if name in form.fields:  # type: ignore[attr-defined]
            for msg in msgs:
                form.add_error(name, msg)  # type: ignore[attr-defined]
            added = True
    if not added:
        form.add_error(None, exc.message)  # type: ignore[attr-defined]


@require_GET
def profile_detail(request: HttpRequest, username: str) -> HttpResponse:
    person = user_get_by_username(username=username)
    if person is None:
        raise Http404("no such person")
    viewer = request.user
    is_steward = bool(viewer.is_authenticated and viewer.is_steward)
    context = {
        "person": person,
        "person_role": user_role(person),
        "is_owner": viewer.is_authenticated and viewer.pk == person.pk,
        "role_form": RoleForm(initial={"role": user_role(person)}) if is_steward else None,
    }
    return render(request, "portal/profile.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            try:
                profile_update(user=user, **form.cleaned_data)
            except DomainError as exc:
                _form_add_domain_error(form, exc)
            else:
                messages.success(request, "Profile saved.")
                return redirect("profile-edit")
    else:
        form = ProfileForm(
            initial={
                "display_name": user.display_name,
                "github_handle": user.github_handle,
                "bio": user.bio,
            }
        )
    return render(request, "portal/profile_edit.html", {"form": form, "settings_tab": "profile"})


@login_required
@require_http_methods(["GET", "POST"])
def token_page(request: HttpRequest) -> HttpResponse:
    """List and create tokens. A new token's secret is rendered in this response only."""
    secret = None
    new_token = None
    if request.method == "POST":
        form = TokenCreateForm(request.POST)
        if form.is_valid():
            try:
                new_token, secret = token_create(
                    user=request.user, name=form.cleaned_data["name"], expires_at=form.expires_at()
                )
            except DomainError as exc:
                _form_add_domain_error(form, exc)
            else:
                form = TokenCreateForm()
    else:
        form = TokenCreateForm()
    context = {
        "form": form,
        "tokens": token_list(user=request.user),
        "new_token": new_token,
        "secret": secret,
        "settings_tab": "tokens",
    }
    response = render(request, "portal/tokens.html", context)
    if secret:
        # The secret must not linger in caches or the back/forward history.
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    # Scoped to the owner: another person's token id is a plain 404.
    token = get_object_or_404(token_list(user=request.user), pk=token_id)
    token_revoke(actor=request.user, token=token)
    messages.success(request, f"Token “{token.name}” revoked; it no longer works.")
    return redirect("tokens")


def _require_steward(request: HttpRequest) -> None:
    if not request.user.is_steward:  # type: ignore[union-attr]
        raise PermissionDenied("only stewards manage roles")


@login_required
@require_GET
def user_directory(request: HttpRequest) -> HttpResponse:
    """Stewards' role management: every user with a role picker."""
    _require_steward(request)
    role = request.GET.get("role") or None
    if role not in Role.values:
        role = None
    query = request.GET.get("q", "").strip()
    people = user_list(viewer=request.user, role=role)
    if query:
        people = people.filter(
            Q(username__icontains=query)
            | Q(display_name__icontains=query)
            | Q(email__icontains=query)
            | Q(github_handle__icontains=query)
        )
    page = Paginator(people, USERS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [(person, user_role(person)) for person in page.object_list]
    context = {
        "page": page,
        "rows": rows,
        "roles": Role.choices,
        "role_filter": role or "",
        "query": query,
    }
    return render(request, "portal/users.html", context)


@login_required
@require_POST
def user_role_change(request: HttpRequest, user_id: int) -> HttpResponse:
    _require_steward(request)
    person = get_object_or_404(user_list(viewer=request.user), pk=user_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of: member, maintainer, steward.")
    else:
        try:
            user_set_role(actor=request.user, user=person, role=form.cleaned_data["role"])  # type: ignore[arg-type]
        except RoleError as exc:
            messages.error(request, f"{person.name}: {exc.message}")
        else:
            role_label = Role(form.cleaned_data["role"]).label.lower()
            messages.success(request, f"{person.name} is now a {role_label}.")
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(next_url)
    return redirect("users")
