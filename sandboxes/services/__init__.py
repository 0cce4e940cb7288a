"""Every write with rules: recipes, the sandbox lifecycle, quotas, files, culling."""

from sandboxes.services.culling import (
    sandbox_disk_full_record,
    sandboxes_cull,
    sandboxes_reconcile,
)
from sandboxes.services.files import (
    MAX_DOWNLOAD_BYTES,
    MAX_UPLOAD_BYTES,
    sandbox_file_read,
    sandbox_file_write,
    sandbox_files_list,
)
from sandboxes.services.lifecycle import (
    sandbox_exec,
    sandbox_fail,
    sandbox_invite,
    sandbox_keep_alive,
    sandbox_launch,
    sandbox_start_run,
    sandbox_stop,
    sandbox_touch,
    sandbox_uninvite,
)
from sandboxes.services.quotas import quota_check, quota_policy_for, quota_update, quota_usage
from sandboxes.services.recipes import (
    recipe_fork,
    recipe_publish,
    recipe_set_trusted,
    recipe_star,
    recipe_version_add,
    recipes_builtin_install,
)

__all__ = [
    "MAX_DOWNLOAD_BYTES",
    "MAX_UPLOAD_BYTES",
    "quota_check",
    "quota_policy_for",
    "quota_update",
    "quota_usage",
    "recipe_fork",
    "recipe_publish",
    "recipe_set_trusted",
    "recipe_star",
    "recipe_version_add",
    "recipes_builtin_install",
    "sandbox_disk_full_record",
    "sandbox_exec",
    "sandbox_fail",
    "sandbox_file_read",
    "sandbox_file_write",
    "sandbox_files_list",
    "sandbox_invite",
    "sandbox_keep_alive",
    "sandbox_launch",
    "sandbox_start_run",
    "sandbox_stop",
    "sandbox_touch",
    "sandbox_uninvite",
    "sandboxes_cull",
    "sandboxes_reconcile",
]
