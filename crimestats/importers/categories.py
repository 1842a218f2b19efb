"""Crime categories: the seeded shown ones, and finding or creating any category a file names.

Importers store every category a file holds; new ones are created hidden (shown=False) and
reported, so which categories the site shows stays an admin decision, not a code change.
"""

from django.utils.text import slugify

from crimestats.models import Category, CategoryAlias

POLICE_UK = "police-uk"

# The three categories the site shows: (major, label, denominator, known minors).
SHOWN = [
    (
        "BURGLARY",
        "Burglary",
        "households",
        [
            "RES BURGLARY OF A HOME",
            "RES BURGLARY OF UNCONNECTED BUILDING",
            "BURGLARY BUSINESS AND COMMUNITY",
            # Single crimes in a few recent months; DOMESTIC BURGLARY in the historical files.
            "BURGLARY - RESIDENTIAL",
            "DOMESTIC BURGLARY",
        ],
    ),
    (
        "ROBBERY",
        "Robbery",
        "residents",
        ["ROBBERY OF PERSONAL PROPERTY", "ROBBERY OF BUSINESS PROPERTY"],
    ),
    (
        "VEHICLE OFFENCES",
        "Vehicle crime",
        "residents",
        [
            "THEFT FROM A VEHICLE",
            "THEFT OR UNAUTH TAKING OF A MOTOR VEH",
            "INTERFERING WITH A MOTOR VEHICLE",
            "AGGRAVATED VEHICLE TAKING",
        ],
    ),
]
# police.uk crime type → our major category.
POLICE_UK_ALIASES = {
    "Burglary": "BURGLARY",
    "Robbery": "ROBBERY",
    "Vehicle crime": "VEHICLE OFFENCES",
}


def unique_slug(text: str, taken: set[str]) -> str:
    base = slugify(text)[:190] or "category"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def seed_categories(category_model=Category, alias_model=CategoryAlias) -> int:
    """Create the shown categories, their minors and police.uk aliases if missing; idempotent.

    Takes the model classes so the data migration can pass its historical models.
    """
    taken = set(category_model.objects.values_list("slug", flat=True))
    created = 0
    for name, label, denominator, minors in SHOWN:
        major = category_model.objects.filter(name=name, parent=None).first()
        if major is None:
            major = category_model.objects.create(
                name=name,
                slug=unique_slug(name, taken),
                shown=True,
                label=label,
                denominator=denominator,
            )
            created += 1
        for minor in minors:
            if not category_model.objects.filter(name=minor, parent=major).exists():
                category_model.objects.create(
                    name=minor,
                    parent=major,
                    slug=unique_slug(f"{name} {minor}", taken),
                    shown=True,
                    denominator=denominator,
                )
                created += 1
    for alias, target in POLICE_UK_ALIASES.items():
        major = category_model.objects.get(name=target, parent=None)
        alias_model.objects.get_or_create(
            source=POLICE_UK, name=alias, defaults={"category": major}
        )
    return created


class CategoryBook:
    """Finds categories by name (creating hidden ones when new) and remembers which were new."""

    def __init__(self) -> None:
        self.majors: dict[str, Category] = {}
        self.minors: dict[tuple[int, str], Category] = {}
        for category in Category.objects.all():
            if category.parent_id is None:
                self.majors[category.name] = category
            else:
                self.minors[(category.parent_id, category.name)] = category
        self.aliases = {
            (a.source, a.name): a.category for a in CategoryAlias.objects.select_related("category")
        }
        self.slugs = set(Category.objects.values_list("slug", flat=True))
        self.new: list[str] = []

    def major(self, name: str) -> Category:
        category = self.majors.get(name)
        if category is None:
            category = Category.objects.create(
                name=name, slug=unique_slug(name, self.slugs), shown=False
            )
            self.majors[name] = category
            self.new.append(name)
        return category

    def minor(self, major_name: str, name: str) -> Category:
        major = self.major(major_name)
        category = self.minors.get((major.id, name))
        if category is None:
            category = Category.objects.create(
                name=name,
                parent=major,
                slug=unique_slug(f"{major_name} {name}", self.slugs),
                shown=False,
                denominator=major.denominator,
            )
            self.minors[(major.id, name)] = category
            self.new.append(f"{major_name} / {name}")
        return category

    def for_source(self, source: str, name: str) -> Category:
        """A source's own category name via its alias, else a major category of that name."""
        return self.aliases.get((source, name)) or self.major(name)
