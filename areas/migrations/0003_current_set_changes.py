import django.db.models.deletion
from django.db import migrations, models


def seed(apps, schema_editor):
    """Until now a set stayed current from its creation until the next set of its level."""
    BoundarySet = apps.get_model("areas", "BoundarySet")
    CurrentSetChange = apps.get_model("areas", "CurrentSetChange")
    CurrentSetChange.objects.bulk_create(
        CurrentSetChange(level=s.level, boundary_set=s, at=s.created_at)
        for s in BoundarySet.objects.order_by("created_at")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("areas", "0002_postcodes_snt"),
    ]

    operations = [
        migrations.CreateModel(
            name="CurrentSetChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "level",
                    models.CharField(
                        choices=[
                            ("region", "London"),
                            ("borough", "Borough"),
                            ("ward", "Ward"),
                            ("lsoa", "LSOA"),
                        ],
                        max_length=10,
                    ),
                ),
                ("at", models.DateTimeField(db_index=True)),
                (
                    "boundary_set",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="areas.boundaryset",
                    ),
                ),
            ],
            options={"ordering": ["-at", "-pk"]},
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
