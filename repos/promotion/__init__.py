"""Promotion: copying or moving tagged content from one repository to another, checked against the target's rules.

`domain` holds its values (request, plan, refusals) and errors; `planning` decides (read-only) what a promotion
would do and `rules` which rules refuse it; `execution` applies a plan in one transaction; `jobs` queues, runs and
reconciles promotion jobs; `pins` keeps what a preview showed so Confirm runs exactly that. `selectors` reads jobs for the pages and the API; `views`, `api` and `urls` are the browser and REST
faces; `tasks` are the Celery entry points.
"""
