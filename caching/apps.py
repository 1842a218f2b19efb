from django.apps import AppConfig


class CachingConfig(AppConfig):
    name = "caching"
    verbose_name = "Caching and pre-warm"

    def ready(self) -> None:
        # Staff edits to page text or teams change pages without a new publication.
        from caching import generation

        generation.connect_signals()
