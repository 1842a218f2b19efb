from django.urls import path
from django.views.generic import TemplateView

from caching import downloads
from crimestats import feedback, feeds, history_views, opendata, views

urlpatterns = [
    path("", views.london, name="london"),
    path("map.geojson", views.london_map_geojson, name="london-map-geojson"),
    path("about/", TemplateView.as_view(template_name="crimestats/about.html"), name="about"),
    path(
        "methodology/",
        TemplateView.as_view(template_name="crimestats/methodology.html"),
        name="methodology",
    ),
    path("feedback/", feedback.feedback, name="feedback"),
    path("feedback/thanks/", feedback.thanks, name="feedback-thanks"),
    path("embed/ward/<str:code>/", views.embed_ward, name="embed-ward"),
    path("data/", opendata.index, name="open-data"),
    path("releases/", history_views.releases, name="releases"),
    path("releases/feed.atom", feeds.ReleasesFeed(), name="releases-feed"),
    path("releases/<int:pk>/", history_views.release, name="release"),
    path("data/<int:pk>/", history_views.publication_data, name="publication-data"),
    path("data/<int:pk>/changes.csv", downloads.changes, name="data-changes"),
    path("data/latest/<str:name>", downloads.latest_file, name="data-latest"),
    path(
        "feed.atom", feeds.AreaFeed(), {"level": "region", "code": "E12000007"}, name="london-feed"
    ),
    # Downloads are files written once per publication (caching/opendata_files.py).
    path("data/<int:pk>/figures.csv", downloads.csv, name="data-csv"),
    path("data/<int:pk>/figures.json", downloads.json, name="data-json"),
    path("data/<int:pk>/<str:level>.geojson", downloads.geojson, name="data-geojson"),
    path("<str:level>/<str:code>/", views.area, name="area-by-code"),
    path("<str:level>/<str:code>/<str:slug>/", views.area, name="area"),
    path("<str:level>/<str:code>/<str:slug>/map.geojson", views.map_geojson, name="map-geojson"),
    path("<str:level>/<str:code>/<str:slug>/feed.atom", feeds.AreaFeed(), name="area-feed"),
]
