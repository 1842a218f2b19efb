"""Seed the three categories the site shows (with their known minors) and police.uk aliases."""

from django.db import migrations


def seed(apps, schema_editor):
    from crimestats.importers.categories import seed_categories

    seed_categories(
        apps.get_model("crimestats", "Category"), apps.get_model("crimestats", "CategoryAlias")
    )


class Migration(migrations.Migration):
    dependencies = [("crimestats", "0002_publication")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
