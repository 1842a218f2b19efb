"""Area pages (being built)."""

from django.http import HttpResponse


def london(request):
    return HttpResponse("crimemap")


def area(request, level, code, slug=""):
    return HttpResponse(code)
