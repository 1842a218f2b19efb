"""Template tags for the releases pages."""

from django import template
from django.urls import reverse

from areas.models import Area, Level

register = template.Library()


@register.simple_tag
def difference(before: int, after: int) -> str:
    """A change in crimes written with its sign and a percentage: "+120 (+0.3%)", "no change"."""
    change = after - before
    if change == 0:
        return "no change"
    share = f" ({change / before:+.1%})" if before else ""
    return f"{change:+,}{share}"


@register.simple_tag
def feed_url_of(area: Area) -> str:
    """The Atom feed of an area's changes (London's is /feed.atom)."""
    if area.level == Level.REGION:
        return reverse("london-feed")
    return area.get_absolute_url() + "feed.atom"
