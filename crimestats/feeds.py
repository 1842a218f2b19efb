"""Atom feeds: one per area (an entry when a publish or rollback changes its figures) and one
for the releases page. Feed readers and Safer Neighbourhoods teams' sites follow them; no
e-mail is needed."""

import uuid

from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html, format_html_join

from areas.models import Area, Level
from crimestats import disclosure, history, selectors

FEED_LEVELS = {Level.REGION, Level.BOROUGH, Level.WARD, Level.LSOA}
NAMESPACE = uuid.UUID("6f1c2a52-5a0e-4d55-9b0e-7d3b1f2c9a41")  # crimemap's feed entry ids
RELEASES_SHOWN = 50


def entry_id(*parts: str) -> str:
    """A permanent Atom id for an entry (the same entry keeps it, whatever the host)."""
    return uuid.uuid5(NAMESPACE, ":".join(parts)).urn


class AreaFeed(Feed):
    """Changes to one area's published figures, newest first, in words."""

    feed_type = Atom1Feed
    author_name = "crimemap"

    def get_object(self, request: HttpRequest, level: str, code: str, slug: str = "") -> Area:
        if level not in FEED_LEVELS:
            raise Http404("No such kind of area")
        area = selectors.page_area(level=level, code=code)
        if area is None:
            raise Http404(f"No {level} with code {code}")
        return area

    def title(self, area: Area) -> str:
        return f"{area.name}: changes to its crime figures – crimemap"

    def link(self, area: Area) -> str:
        return "/" if area.level == Level.REGION else area.get_absolute_url()

    def feed_url(self, area: Area) -> str:
        if area.level == Level.REGION:
            return reverse("london-feed")
        return area.get_absolute_url() + "feed.atom"

    def subtitle(self, area: Area) -> str:
        return (
            f"An entry each time a publication changes the burglary, robbery or vehicle crime "
            f"figures published for {area.name}: which figures, old and new."
        )

    def feed_guid(self, area: Area) -> str:
        return entry_id("area", area.level, area.code)

    def items(self, area: Area) -> list[tuple[history.Entry, history.AreaChange, str]]:
        return [(entry, change, area.code) for entry, change in history.area_history(area)]

    def item_title(self, item) -> str:
        return item[0].title

    def item_description(self, item) -> str:
        entry, change, _ = item
        lines = change.lines(disclosure.Policy.from_settings())
        note = format_html("<p>Revision note: {}</p>", entry.note) if entry.note else ""
        return format_html(
            "<p>{}</p>{}<ul>{}</ul>",
            entry.summary,
            note,
            format_html_join("", "<li>{}</li>", ((line,) for line in lines)),
        )

    def item_link(self, item) -> str:
        return reverse("release", args=[item[0].publication.pk])

    def item_guid(self, item) -> str:
        entry, _, code = item
        return entry_id("area-entry", code, entry.key)

    def item_pubdate(self, item):
        return item[0].at

    def item_updateddate(self, item):
        return item[0].at


class ReleasesFeed(Feed):
    """Every publish and rollback, as on the releases page."""

    feed_type = Atom1Feed
    author_name = "crimemap"
    title = "crimemap: releases and revisions"
    subtitle = (
        "Each publication of London's recorded burglary, robbery and vehicle crime figures, "
        "and each rollback: months added, months the police restated and why."
    )

    def link(self) -> str:
        return reverse("releases")

    def feed_url(self) -> str:
        return reverse("releases-feed")

    def feed_guid(self) -> str:
        return entry_id("releases")

    def items(self) -> list[history.Entry]:
        return list(reversed(history.timeline()))[:RELEASES_SHOWN]

    def item_title(self, entry: history.Entry) -> str:
        return entry.title

    def item_description(self, entry: history.Entry) -> str:
        parts = [format_html("<p>{}</p>", entry.summary)]
        if entry.note:
            parts.append(format_html("<p>Revision note: {}</p>", entry.note))
        for restated in entry.restated:
            rows = (
                (row["category"], f"{row['before']:,}", f"{row['after']:,}")
                for row in restated["london"]
            )
            parts.append(
                format_html(
                    "<p>Restated {} {} figures, London, in the restated months:</p><ul>{}</ul>",
                    restated["force"],
                    restated["level"],
                    format_html_join("", "<li>{}: was {}, now {}</li>", rows),
                )
            )
        return "".join(str(p) for p in parts)

    def item_link(self, entry: history.Entry) -> str:
        return reverse("release", args=[entry.publication.pk])

    def item_guid(self, entry: history.Entry) -> str:
        return entry_id("release-entry", entry.key)

    def item_pubdate(self, entry: history.Entry):
        return entry.at

    def item_updateddate(self, entry: history.Entry):
        return entry.at
