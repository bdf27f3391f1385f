"""Dashboard pages, one module per page family; URLs in repos/urls.py."""
