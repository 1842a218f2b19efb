"""Publications become sets of figure blocks; each existing publication's figures become one block."""

import django.db.models.deletion
from django.db import migrations, models

TO_BLOCKS = """
    INSERT INTO crimestats_figureblock (level, source, force, figure_count, created_at)
    SELECT '', '', '', figure_count, created_at FROM crimestats_publication ORDER BY id;
    CREATE TEMP TABLE block_of AS
        SELECT p.id AS publication_id, b.id AS block_id
        FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM crimestats_publication) p
        JOIN (SELECT id, row_number() OVER (ORDER BY id) AS n FROM crimestats_figureblock) b
          ON b.n = p.n;
    INSERT INTO crimestats_publication_blocks (publication_id, figureblock_id)
        SELECT publication_id, block_id FROM block_of;
    UPDATE crimestats_publishedfigure f SET block_id = o.block_id
        FROM block_of o WHERE o.publication_id = f.publication_id;
    DROP TABLE block_of;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("crimestats", "0011_publication_previous"),
    ]

    operations = [
        migrations.CreateModel(
            name="FigureBlock",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("level", models.CharField(blank=True, max_length=10)),
                ("source", models.CharField(blank=True, max_length=20)),
                ("force", models.CharField(blank=True, max_length=100)),
                ("figure_count", models.PositiveIntegerField(default=0)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
        ),
        migrations.AddField(
            model_name="publication",
            name="blocks",
            field=models.ManyToManyField(related_name="publications", to="crimestats.figureblock"),
        ),
        migrations.AddField(
            model_name="publishedfigure",
            name="block",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="figures",
                to="crimestats.figureblock",
            ),
        ),
        migrations.RunSQL(TO_BLOCKS, migrations.RunSQL.noop),
        migrations.RemoveConstraint(model_name="publishedfigure", name="one_figure_per_cell"),
        migrations.RemoveField(model_name="publishedfigure", name="publication"),
        migrations.AlterField(
            model_name="publishedfigure",
            name="block",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="figures",
                to="crimestats.figureblock",
            ),
        ),
        migrations.AddConstraint(
            model_name="publishedfigure",
            constraint=models.UniqueConstraint(
                fields=("block", "area", "category", "period", "end_month"),
                name="one_figure_per_cell_of_a_block",
            ),
        ),
    ]
