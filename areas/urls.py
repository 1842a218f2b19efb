from django.urls import path

from areas import views

urlpatterns = [
    path("search/", views.search, name="search"),
    path("locate/", views.locate, name="locate"),
]
