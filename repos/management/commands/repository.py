"""`manage.py repository list|create|update|delete`: the repository services from the host's shell."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from repos.models import Repository
from repos.services import repositories as repository_services

OPTIONS = {
    # option: (field, help)
    "--kind": ("kind", "local (default), remote or virtual"),
    "--description": ("description", "what the repository is for"),
    "--stage": ("stage", "pipeline label, e.g. dev, test, prod"),
    "--stage-order": ("stage_order", "position in the pipeline (lower = earlier)"),
    "--public": ("is_public", "true or false: anyone may pull and browse"),
    "--immutable-tags": ("tag_immutability", "true or false: a pushed tag never moves"),
    "--required-platforms": ("required_platforms", "comma-separated, e.g. linux/amd64,linux/arm64"),
    "--upstream-url": ("upstream_url", "remote: the upstream registry, e.g. https://registry-1.docker.io"),
    "--username": ("username", "remote: upstream user name"),
    "--library-prefix": ("library_prefix", "remote: true to ask for library/<name> for one-segment names"),
    "--tag-cache-seconds": ("tag_cache_seconds", "remote: how long a tag is served before asking again"),
    "--members": ("members", "virtual: comma-separated member keys, in resolution order"),
    "--default-deployment": ("default_deployment", "virtual: the local that pushes land in"),
}


class Command(BaseCommand):
    help = "List, create, change or delete repositories (local, remote, virtual)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("list", help="the repositories and their kinds")
        for name in ("create", "update"):
            sub = actions.add_parser(name, help=f"{name} a repository")
            sub.add_argument("key")
            for option, (field, text) in OPTIONS.items():
                if name == "update" and field == "kind":
                    continue
                sub.add_argument(option, dest=field, help=text)
            sub.add_argument(
                "--password-stdin",
                action="store_true",
                help="remote: read the upstream password or token from standard input",
            )
        delete = actions.add_parser("delete", help="delete a repository")
        delete.add_argument("key")
        delete.add_argument("--force", action="store_true", help="delete it even if it holds images")

    def handle(self, *args, **options):
        action = options["action"]
        if action == "list":
            for repository in Repository.objects.order_by("stage_order", "key"):
                self.stdout.write(f"{repository.key}\t{repository.kind}\t{repository.description}")
            return
        if action == "delete":
            try:
                repository_services.repository_delete(
                    repository=self._get(options["key"]), user=None, force=options["force"], system=True
                )
            except repository_services.RepositoryNotEmpty as exc:
                raise CommandError(f"{exc} (--force)") from None
            self.stdout.write(f"repository {options['key']}: deleted")
            return
        data = {field: options[field] for field, _ in OPTIONS.values() if options.get(field) is not None}
        if options["password_stdin"]:
            data["password"] = sys.stdin.readline().rstrip("\n")
        try:
            if action == "create":
                repository = repository_services.repository_create(
                    user=None, data={"key": options["key"], **data}, system=True
                )
            else:
                repository = repository_services.repository_update(
                    repository=self._get(options["key"]), user=None, data=data, system=True
                )
        except repository_services.RepositoryInvalid as exc:
            raise CommandError("; ".join(f"{f}: {' '.join(m)}" for f, m in exc.errors.items())) from None
        self.stdout.write(
            f"repository {repository.key} ({repository.kind}): {'created' if action == 'create' else 'updated'}"
        )

    @staticmethod
    def _get(key: str) -> Repository:
        repository = Repository.objects.filter(key=key).first()
        if repository is None:
            raise CommandError(f"no repository {key}")
        return repository
