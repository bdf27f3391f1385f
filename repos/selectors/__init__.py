"""Reads: every query the registry, the dashboard and the REST API make lives in this package.

`registry` and `virtual` serve the /v2/ protocol. The rest serve the dashboard and the REST API: each function takes
the queryset of repositories the caller may read and never looks outside it, and runs a fixed number of queries
whatever the amount of data (the pages have a budget of 15).
"""
