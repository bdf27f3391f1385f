"""The site's shell: navigation, error pages in the layout (JSON for API clients), times with their UTC value."""

from datetime import timedelta

import pytest
from django.template import Context, Template
from django.test import Client, override_settings
from django.urls import path
from django.utils import timezone

from config import urls as project_urls

pytestmark = pytest.mark.django_db


def test_pages_carry_viewport_skip_link_and_collapsible_navigation(admin_client):
    page = admin_client.get("/coverage/").content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert '<a class="skip" href="#main">' in page
    assert 'class="navtoggle" aria-expanded="false" aria-controls="menu"' in page
    assert 'href="/coverage/" aria-current="page"' in page


def test_unknown_page_is_a_404_in_the_layout_with_a_way_on(admin_client):
    response = admin_client.get("/repositories/no-such-repository/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page and 'aria-label="Main"' in page
    assert 'href="/">Go to the repositories</a>' in page


def test_forbidden_page_is_a_403_in_the_layout(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("viewer"))
    response = client.get("/accounts/audit/")
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode() and 'aria-label="Main"' in response.content.decode()


def test_unknown_api_path_answers_json(admin_client):
    response = admin_client.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["errors"] == [{"status": 404, "code": "NOT_FOUND", "message": "Not found.", "detail": None}]


def _boom(request):
    raise RuntimeError("boom")


urlpatterns = [path("boom/", _boom), *project_urls.urlpatterns]
handler500 = project_urls.handler500


@override_settings(ROOT_URLCONF=__name__)
def test_server_error_is_a_500_in_the_layout(django_user_model):
    client = Client(raise_request_exception=False)
    client.force_login(django_user_model.objects.create_user("someone"))
    response = client.get("/boom/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page and 'aria-label="Main"' in page and "someone" in page


def render(template: str, **context) -> str:
    return Template("{% load dashboard %}" + template).render(Context(context))


def test_relative_times_carry_the_absolute_utc_time():
    past = timezone.now() - timedelta(hours=3, minutes=2)
    html = render("{% when value %}", value=past)
    assert "3\xa0hours ago" in html
    assert f'title="{past.strftime("%Y-%m-%d %H:%M:%S")} UTC"' in html
    future = timezone.now() + timedelta(days=29, hours=1)
    assert "in 4\xa0weeks" in render("{% when value %}", value=future)
    assert render("{% when value 'not yet' %}", value=None) == '<span class="muted">not yet</span>'
