"""Promotion routes, pages and REST API; included from config/urls.py."""

from django.urls import path

from repos.promotion import views
from repos.promotion.api import ArtifactoryPromoteView, PromotionJobViewSet

KEY = "<str:repo_key>"
promote = ArtifactoryPromoteView.as_view()
jobs = PromotionJobViewSet.as_view({"get": "list", "post": "create"})
job = PromotionJobViewSet.as_view({"get": "retrieve"})

urlpatterns = [
    path("promotions/", views.promotion_list, name="promotion-list"),
    path("promotions/new/", views.promotion_new, name="promotion-new"),
    path("promotions/<int:pk>/", views.promotion_detail, name="promotion-detail"),
    path(f"api/docker/{KEY}/v2/promote", promote, name="api-docker-promote"),
    # Artifactory serves its REST API under /artifactory; scripts written for it keep working.
    path(f"artifactory/api/docker/{KEY}/v2/promote", promote, name="api-docker-promote-artifactory"),
    path("api/promotions/", jobs, name="api-promotion-list"),
    path("api/promotions/<int:pk>/", job, name="api-promotion-detail"),
]
