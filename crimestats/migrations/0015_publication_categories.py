"""Each publication keeps the categories it shows; existing ones get those their figures hold.

The figures are the truth for what was public: a flag flipped live in the admin since a
publication was built did not change its figures.
"""

from django.db import migrations, models

BACKFILL = """
INSERT INTO crimestats_publication_categories (publication_id, category_id)
SELECT DISTINCT pb.publication_id, f.category_id
FROM crimestats_publication_blocks pb
JOIN (SELECT DISTINCT block_id, category_id FROM crimestats_publishedfigure) f
  ON f.block_id = pb.figureblock_id
"""


class Migration(migrations.Migration):
    dependencies = [
        ("crimestats", "0014_revision_and_revision_note"),
    ]

    operations = [
        migrations.AddField(
            model_name="publication",
            name="categories",
            field=models.ManyToManyField(blank=True, related_name="+", to="crimestats.category"),
        ),
        migrations.AlterField(
            model_name="category",
            name="shown",
            field=models.BooleanField(
                default=False, help_text="to be shown on the public site from the next publish"
            ),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
    ]
