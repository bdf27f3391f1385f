"""Dashboard pages."""
from django.shortcuts import render

from repos.models import Repository


def home(request):
    repositories = Repository.objects.all()
    return render(request, "repos/home.html", {"repositories": repositories})
