"""Default reporting links and crime prevention advice; staff edit them in the admin."""

from django.db import migrations

REPORTING = [
    (
        "In an emergency, call 999",
        "If a crime is happening now or someone is in danger. If you cannot speak, "
        "call 999 and press 55 when asked.",
        "",
    ),
    (
        "Otherwise, call 101 or report online",
        "For anything that is not an emergency, call 101 or use the Met's online form.",
        "https://www.met.police.uk/ro/report/",
    ),
    (
        "Tell Crimestoppers anonymously",
        "Call 0800 555 111 or use their online form. They never ask your name.",
        "https://crimestoppers-uk.org/give-information",
    ),
]

ADVICE = {
    "burglary": (
        "Protect your home from burglary",
        "Lock doors and windows, even when you are in; keep keys away from the letterbox; "
        "light the outside of your home.",
        "https://www.met.police.uk/cp/crime-prevention/residential-burglary/",
    ),
    "robbery": (
        "Stay safe from robbery",
        "Keep phones and valuables out of sight, stay aware of your surroundings and "
        "plan your route home.",
        "https://www.met.police.uk/cp/crime-prevention/personal-safety/",
    ),
    "vehicle-offences": (
        "Protect your vehicle",
        "Lock it, close the windows, take valuables with you and park in busy, well-lit places.",
        "https://www.met.police.uk/cp/crime-prevention/keeping-vehicles-safe/",
    ),
}


def seed(apps, schema_editor):
    PageContent = apps.get_model("crimestats", "PageContent")
    Category = apps.get_model("crimestats", "Category")
    for order, (title, body, url) in enumerate(REPORTING):
        PageContent.objects.get_or_create(
            kind="reporting", title=title, defaults={"body": body, "url": url, "order": order}
        )
    for slug, (title, body, url) in ADVICE.items():
        category = Category.objects.filter(slug=slug).first()
        if category is not None:
            PageContent.objects.get_or_create(
                kind="advice",
                category=category,
                title=title,
                defaults={"body": body, "url": url},
            )


class Migration(migrations.Migration):
    dependencies = [("crimestats", "0005_page_content_feedback")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
