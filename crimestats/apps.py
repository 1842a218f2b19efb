from django.apps import AppConfig


class CrimestatsConfig(AppConfig):
    name = "crimestats"
    verbose_name = "Crime statistics"

    def ready(self) -> None:
        # Admin for page text and feedback, kept apart from the data team's admin.py.
        from crimestats import admin_content  # noqa: F401
