"""Promotion pages; included from config/urls.py."""

from django.urls import path

from repos.views import promotions

urlpatterns = [
    path("promotions/", promotions.promotion_list, name="promotion-list"),
    path("promotions/new/", promotions.promotion_new, name="promotion-new"),
    path("promotions/<int:pk>/", promotions.promotion_detail, name="promotion-detail"),
]
