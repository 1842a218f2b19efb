from django.db import migrations, models


def mark_public(apps, schema_editor):
    # Publications from before this field: every one may have been current at some time, so
    # all count as public (the safe assumption for disclosure control).
    Publication = apps.get_model("crimestats", "Publication")
    Publication.objects.filter(first_public_at=None).update(first_public_at=models.F("created_at"))


class Migration(migrations.Migration):
    dependencies = [("crimestats", "0012_figure_blocks")]

    operations = [
        migrations.AddField(
            model_name="publication",
            name="first_public_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="publication",
            name="relations",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(mark_public, migrations.RunPython.noop),
    ]
