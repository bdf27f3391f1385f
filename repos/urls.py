from django.urls import path

from repos import views

urlpatterns = [
    path("", views.home, name="home"),
]
