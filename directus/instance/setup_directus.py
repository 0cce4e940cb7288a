#!/usr/bin/env python3
"""Configure a Directus instance for Agora through its REST API. Safe to run repeatedly.

The schema (collections, fields, relations) comes from ``snapshot.yaml``; what a snapshot
cannot hold is created here:

* the ``portal`` role + "Agora portal (read)" policy, and the portal's user with the static
  token the portal reads with (drafts included: it needs them for status changes and preview);
* read permissions for the public policy on published items only;
* the ``editor`` role + "Agora content editor" policy (and optionally a demo editor user);
* the Flow that POSTs every item create/update/delete of the content collections to the
  portal's webhook with the shared secret header;
* preview URLs per collection pointing at the portal's preview view;
* the content languages, and (``--seed``) the demo content from ``seed.json`` when empty.

    DIRECTUS_SETUP_ADMIN_TOKEN=… DIRECTUS_SETUP_PORTAL_TOKEN=… DIRECTUS_SETUP_WEBHOOK_SECRET=… \\
    setup_directus.py --url URL --flow-url http://127.0.0.1:8000/directus/webhook/ --preview-base http://127.0.0.1:8000

``--only-flow-url`` just repoints the Flow (tests do this for their live server).
Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

CONTENT = ["pages", "docs", "announcements", "navigation"]
TRANSLATIONS = {"pages": "pages_translations", "docs": "docs_translations"}
WITH_STATUS = ["pages", "docs", "announcements"]
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("es", "Español")]
FLOW_NAME = "Agora: notify the portal"
OPERATION_KEY = "notify_portal"
SECRET_HEADER = "X-Agora-Webhook-Secret"  # noqa: S105 - a header name
PORTAL_USER = "portal@example.com"
PREVIEW_LABEL = b"agora-directus-preview-v1"
SEED_FILE = Path(__file__).resolve().parent / "seed.json"


class SetupError(RuntimeError):
    pass


class Api:
    def __init__(self, base: str, token: str):
        self.base = base.rstrip("/")
        self.token = token

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        query = urllib.parse.urlencode(
            {k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in params.items()}
        )
        url = f"{self.base}{path}" + (f"?{query}" if query else "")
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310
        request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        for attempt in range(6):
            try:
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                    raw = response.read()
                return json.loads(raw)["data"] if raw else None
            except urllib.error.HTTPError as exc:
                detail = exc.read().decode(errors="replace")[:500]
                if exc.code == 503 and attempt < 5:  # busy; Directus applies nothing then
                    time.sleep(0.5 * 2**attempt)
                    continue
                raise SetupError(f"{method} {path}: HTTP {exc.code}: {detail}") from exc
        raise SetupError(f"{method} {path}: Directus stayed unavailable")

    def find(self, path: str, **filters: Any) -> list[dict[str, Any]]:
        flt = {name: {"_eq": value} for name, value in filters.items()}
        return self.call("GET", path, filter=flt, limit=-1) or []

    def ensure(self, path: str, match: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        """Find the row matching ``match`` and patch it to ``values``, or create it."""
        found = self.find(path, **match)
        if found:
            row = found[0]
            changed = {k: v for k, v in values.items() if row.get(k) != v}
            if changed:
                row = self.call("PATCH", f"{path}/{row['id']}", changed)
            return row
        return self.call("POST", path, {**match, **values})


def preview_token(secret: str) -> str:
    return hmac.new(secret.encode(), PREVIEW_LABEL, hashlib.sha256).hexdigest()


def languages_ensure(api: Api) -> None:
    existing = {row["code"] for row in api.call("GET", "/items/languages", limit=-1) or []}
    for code, name in LANGUAGES:
        if code not in existing:
            api.call("POST", "/items/languages", {"code": code, "name": name})


def permission_ensure(
    api: Api, policy: str, collection: str, action: str, rule: dict[str, Any] | None = None
) -> None:
    values = {"fields": ["*"], "permissions": rule or {}, "validation": {}, "presets": {}}
    api.ensure(
        "/permissions", {"policy": policy, "collection": collection, "action": action}, values
    )


def access_ensure(api: Api, role: str | None, policy: str) -> None:
    match: dict[str, Any] = {"policy": policy}
    if role is not None:
        match["role"] = role
    if not api.find("/access", **match):
        api.call("POST", "/access", {"role": role, "policy": policy})


def portal_access_ensure(api: Api, token: str) -> None:
    policy = api.ensure(
        "/policies",
        {"name": "Agora portal (read)"},
        {
            "icon": "sync",
            "admin_access": False,
            "app_access": False,
            "description": "Read access for the portal's static token (drafts included).",
        },
    )
    for collection in [*CONTENT, *TRANSLATIONS.values(), "languages"]:
        permission_ensure(api, policy["id"], collection, "read")
    role = api.ensure(
        "/roles",
        {"name": "portal"},
        {"icon": "sync", "description": "The Agora portal (reads content to mirror it)."},
    )
    access_ensure(api, role["id"], policy["id"])
    api.ensure(
        "/users",
        {"email": PORTAL_USER},
        {
            "first_name": "Agora",
            "last_name": "portal",
            "role": role["id"],
            "token": token,
            "status": "active",
        },
    )


def public_access_ensure(api: Api) -> None:
    """Anonymous API readers see published items only (the portal's mirror does the same)."""
    public = api.find("/policies", name="$t:public_label")
    if not public:
        raise SetupError("the built-in public policy is missing")
    policy = public[0]["id"]
    published = {"status": {"_eq": "published"}}
    for collection in WITH_STATUS:
        permission_ensure(api, policy, collection, "read", published)
    for parent, translations in TRANSLATIONS.items():
        rule = {f"{parent}_id": published}
        permission_ensure(api, policy, translations, "read", rule)
    permission_ensure(api, policy, "navigation", "read")
    permission_ensure(api, policy, "languages", "read")


def editor_access_ensure(api: Api, email: str | None, password: str | None) -> None:
    policy = api.ensure(
        "/policies",
        {"name": "Agora content editor"},
        {
            "icon": "edit_note",
            "admin_access": False,
            "app_access": True,
            "description": "Write docs, pages, announcements and navigation.",
        },
    )
    for collection in [*CONTENT, *TRANSLATIONS.values()]:
        for action in ("create", "read", "update", "delete"):
            permission_ensure(api, policy["id"], collection, action)
    permission_ensure(api, policy["id"], "languages", "read")
    for collection in ("directus_files", "directus_folders"):
        for action in ("create", "read", "update"):
            permission_ensure(api, policy["id"], collection, action)
    role = api.ensure(
        "/roles",
        {"name": "editor"},
        {"icon": "edit_note", "description": "Admins who edit content."},
    )
    access_ensure(api, role["id"], policy["id"])
    if email:
        existing = api.find("/users", email=email)
        if not existing:
            api.call(
                "POST",
                "/users",
                {
                    "email": email,
                    "password": password,
                    "role": role["id"],
                    "first_name": "Demo",
                    "last_name": "Editor",
                    "status": "active",
                },
            )
        elif existing[0].get("role") != role["id"]:
            api.call("PATCH", f"/users/{existing[0]['id']}", {"role": role["id"]})


def operation_options(url: str, secret: str) -> dict[str, Any]:
    return {
        "method": "POST",
        "url": url,
        "headers": [
            {"header": SECRET_HEADER, "value": secret},
            {"header": "Content-Type", "value": "application/json"},
        ],
        "body": "{{$trigger}}",
    }


def flow_ensure(api: Api, url: str, secret: str) -> str:
    """The event Flow → request operation that tells the portal an item changed."""
    collections = [*CONTENT, *TRANSLATIONS.values()]
    flow = api.ensure(
        "/flows",
        {"name": FLOW_NAME},
        {
            "icon": "webhook",
            "color": "#6644FF",
            "status": "active",
            "trigger": "event",
            "accountability": "all",
            "description": "POSTs item changes to the Agora portal's /directus/webhook/.",
            "options": {
                "type": "action",
                "scope": ["items.create", "items.update", "items.delete"],
                "collections": collections,
            },
        },
    )
    operations = api.find("/operations", flow=flow["id"], key=OPERATION_KEY)
    options = operation_options(url, secret)
    if operations:
        operation = operations[0]
        if operation.get("options") != options:
            api.call("PATCH", f"/operations/{operation['id']}", {"options": options})
    else:
        operation = api.call(
            "POST",
            "/operations",
            {
                "flow": flow["id"],
                "key": OPERATION_KEY,
                "name": "Notify the portal",
                "type": "request",
                "position_x": 19,
                "position_y": 1,
                "options": options,
            },
        )
    if flow.get("operation") != operation["id"]:
        api.call("PATCH", f"/flows/{flow['id']}", {"operation": operation["id"]})
    return str(operation["id"])


def flow_url_set(api: Api, url: str) -> None:
    """Repoint the Flow at another portal (keeps the secret header as it is)."""
    flows = api.find("/flows", name=FLOW_NAME)
    if not flows:
        raise SetupError("the portal Flow does not exist yet; run the full setup first")
    for operation in api.find("/operations", flow=flows[0]["id"], key=OPERATION_KEY):
        options = {**operation["options"], "url": url}
        api.call("PATCH", f"/operations/{operation['id']}", {"options": options})


def preview_urls_ensure(api: Api, base: str, secret: str) -> None:
    token = preview_token(secret)
    for collection in WITH_STATUS:
        url = f"{base.rstrip('/')}/directus/preview/{collection}/{{{{id}}}}/?token={token}"
        current = api.call("GET", f"/collections/{collection}")
        if (current.get("meta") or {}).get("preview_url") != url:
            api.call("PATCH", f"/collections/{collection}", {"meta": {"preview_url": url}})


def seed_load(api: Api) -> None:
    """Demo content (the same as the portal's offline seed), only into an empty instance."""
    if api.call("GET", "/items/docs", limit=1):
        return
    seed = json.loads(SEED_FILE.read_text())
    page_ids: dict[str, Any] = {}
    for collection in CONTENT:
        for raw in seed.get(collection, []):
            item = {"status": "published", **raw} if collection in WITH_STATUS else dict(raw)
            if "page_slug" in item:
                item["page"] = page_ids.get(item.pop("page_slug"))
            created = api.call("POST", f"/items/{collection}", item)
            if collection == "pages":
                page_ids[raw["slug"]] = created["id"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True, help="Directus base URL")
    # Secrets default to environment variables so they stay out of process listings.
    parser.add_argument(
        "--admin-token",
        default=os.environ.get("DIRECTUS_SETUP_ADMIN_TOKEN"),
        help="an administrator's static token [DIRECTUS_SETUP_ADMIN_TOKEN]",
    )
    parser.add_argument(
        "--portal-token",
        default=os.environ.get("DIRECTUS_SETUP_PORTAL_TOKEN"),
        help="static token of the portal's read-only user [DIRECTUS_SETUP_PORTAL_TOKEN]",
    )
    parser.add_argument(
        "--webhook-secret",
        default=os.environ.get("DIRECTUS_SETUP_WEBHOOK_SECRET"),
        help="shared secret the Flow sends [DIRECTUS_SETUP_WEBHOOK_SECRET]",
    )
    parser.add_argument("--flow-url", help="the portal's webhook URL")
    parser.add_argument("--preview-base", help="the portal's base URL (for preview links)")
    parser.add_argument("--editor-email")
    parser.add_argument("--editor-password")
    parser.add_argument("--seed", action="store_true", help="load seed.json into an empty instance")
    parser.add_argument("--only-flow-url", action="store_true", help="only repoint the Flow")
    args = parser.parse_args(argv)
    if not args.admin_token:
        parser.error("--admin-token (or DIRECTUS_SETUP_ADMIN_TOKEN) is required")
    api = Api(args.url, args.admin_token)
    try:
        if args.only_flow_url:
            if not args.flow_url:
                parser.error("--only-flow-url needs --flow-url")
            flow_url_set(api, args.flow_url)
            return 0
        missing = [
            name
            for name in ("portal_token", "webhook_secret", "flow_url", "preview_base")
            if not getattr(args, name)
        ]
        if missing:
            parser.error("missing: " + ", ".join("--" + m.replace("_", "-") for m in missing))
        languages_ensure(api)
        portal_access_ensure(api, args.portal_token)
        public_access_ensure(api)
        editor_access_ensure(api, args.editor_email, args.editor_password)
        flow_ensure(api, args.flow_url, args.webhook_secret)
        preview_urls_ensure(api, args.preview_base, args.webhook_secret)
        if args.seed:
            seed_load(api)
    except SetupError as exc:
        print(f"setup_directus: {exc}", file=sys.stderr)
        return 1
    print("setup_directus: done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
