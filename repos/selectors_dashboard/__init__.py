"""Reads behind the dashboard and the REST API.

Every function takes the queryset of repositories the caller may read and never looks outside it.
Each runs a fixed number of queries whatever the amount of data (the pages have a budget of 15).
"""
