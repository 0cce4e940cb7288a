"""Ship the built-in recipes (Shell, Python, Node.js; Rust where the host has cargo) and
the default per-role quotas."""

from django.db import migrations


def install(apps, schema_editor):
    from sandboxes.builtin import builtin_recipes
    from sandboxes.services.quotas import DEFAULT_QUOTAS

    Recipe = apps.get_model("sandboxes", "Recipe")
    RecipeVersion = apps.get_model("sandboxes", "RecipeVersion")
    QuotaPolicy = apps.get_model("sandboxes", "QuotaPolicy")
    for data in builtin_recipes():
        if Recipe.objects.filter(slug=data["slug"]).exists():
            continue
        recipe = Recipe.objects.create(
            slug=data["slug"], name=data["name"], description=data["description"],
            language=data["language"], tags=data["tags"], builtin=True, trusted=True,
            share_token=f"builtin-{data['slug']}",
        )
        RecipeVersion.objects.create(
            recipe=recipe, number=1, docker_image=data["docker_image"],
            default_command=data["default_command"], setup_commands=data["setup_commands"],
        )
    for role, limits in DEFAULT_QUOTAS.items():
        QuotaPolicy.objects.get_or_create(role=role, defaults=limits)


def uninstall(apps, schema_editor):
    apps.get_model("sandboxes", "Recipe").objects.filter(builtin=True).delete()


class Migration(migrations.Migration):
    dependencies = [("sandboxes", "0001_recipes_sandboxes_quotas")]
    operations = [migrations.RunPython(install, uninstall)]
