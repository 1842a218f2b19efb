from django.urls import path

from crimestats import views

urlpatterns = [
    path("", views.london, name="london"),
    path("<str:level>/<str:code>/", views.area, name="area-by-code"),
    path("<str:level>/<str:code>/<str:slug>/", views.area, name="area"),
]
