"""`python manage.py build`: start a multi-arch build and print its log as it runs.

    python manage.py build --repository docker-local --image app --tag 1.0 \\
        --platform linux/amd64,linux/arm64 --context ./app        # a directory or a .tar/.tar.gz/.zip
    python manage.py build ... --git-url https://git.example.com/app.git --git-ref main

By default a worker runs it (queued like any build); `--here` runs it in this process. Ctrl-C
cancels the build. The exit status is 0 only when the build succeeded.
"""

from __future__ import annotations

import tarfile
import tempfile
import threading
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from builds.errors import BuildConflict, BuildError, BuildInvalid
from builds.models import BuildJob
from builds.policy import build_arg_items_parse
from builds.selectors import build_log_read
from builds.services.jobs import BuildRequest, build_cancel, build_create
from builds.services.run import build_run


def _many(values: list[str] | None) -> list[str]:
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


class Command(BaseCommand):
    help = "Build a multi-arch image on a worker (or here) and push it into a repository, printing the log."

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--context", help="A context directory, or a .tar, .tar.gz or .zip archive.")
        source.add_argument("--git-url", help="A Git repository URL (http, https, git).")
        parser.add_argument("--git-ref", default="", help="Branch, tag or commit (default: the remote HEAD).")
        parser.add_argument("--context-dir", default="", help="Sub-directory of the source used as the context.")
        parser.add_argument("--dockerfile", "-f", default="Dockerfile", help="Relative to the context.")
        parser.add_argument(
            "--platform", action="append", help="Repeat or comma-separate, e.g. linux/amd64,linux/arm64."
        )
        parser.add_argument(
            "--build-arg",
            action="append",
            default=[],
            help="KEY=VALUE, or PLATFORM:KEY=VALUE for one platform (repeat).",
        )
        parser.add_argument("--target", default="", help="Target stage.")
        parser.add_argument("--repository", required=True, help="Target repository key, e.g. docker-local.")
        parser.add_argument("--image", required=True, help="Image name inside the repository.")
        parser.add_argument("--tag", "-t", action="append", help="Repeat or comma-separate (default: latest).")
        parser.add_argument("--builder", default="", choices=["", "buildx", "docker", "buildah"])
        parser.add_argument("--time-limit", type=int, default=None, help="Seconds.")
        parser.add_argument("--user", default="admin", help="Who asks (needs write on the repository).")
        parser.add_argument("--here", action="store_true", help="Run the build in this process, not on a worker.")
        parser.add_argument("--no-follow", action="store_true", help="Print the build id and return.")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {options['user']!r}")
        try:
            build_args = build_arg_items_parse(options["build_arg"])
        except BuildInvalid as exc:
            raise CommandError(f"--build-arg: {exc.message}") from None
        request = BuildRequest(
            repository=options["repository"],
            image=options["image"],
            tags=_many(options["tag"]),
            platforms=_many(options["platform"]),
            git_url=options["git_url"] or "",
            git_ref=options["git_ref"],
            context_dir=options["context_dir"],
            dockerfile=options["dockerfile"],
            build_args=build_args,
            target=options["target"],
            builder=options["builder"],
            time_limit=options["time_limit"],
        )
        try:
            job = self._create(user, request, options["context"], enqueue=not options["here"])
        except BuildError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"build #{job.pk}: {job.target} for {', '.join(job.platforms)}")
        if options["no_follow"] and not options["here"]:
            return
        runner = None
        if options["here"]:
            runner = threading.Thread(target=build_run, kwargs={"job_id": job.pk, "worker": "manage.py"}, daemon=True)
            runner.start()
        job = self._follow(job, user)
        if runner is not None:
            runner.join()
            job.refresh_from_db()
        if job.status != BuildJob.Status.SUCCEEDED:
            raise CommandError(f"build #{job.pk} {job.status}: {job.error}")
        self.stdout.write(self.style.SUCCESS(f"build #{job.pk} succeeded: {job.index_digest}"))

    def _create(self, user, request: BuildRequest, context: str | None, *, enqueue: bool) -> BuildJob:
        if not context:
            return build_create(user=user, request=request, enqueue=enqueue)
        path = Path(context)
        if path.is_dir():
            with tempfile.NamedTemporaryFile(suffix=".tar") as packed:
                with tarfile.open(fileobj=packed, mode="w") as archive:
                    archive.add(path, arcname=".")
                packed.seek(0)
                packed.name = f"{path.name or 'context'}.tar"
                return build_create(user=user, request=request, archive=packed, enqueue=enqueue)
        if not path.is_file():
            raise CommandError(f"{context}: no such file or directory")
        with open(path, "rb") as handle:
            return build_create(user=user, request=request, archive=handle, enqueue=enqueue)

    def _follow(self, job: BuildJob, user) -> BuildJob:
        start, cancelled = 0, False
        while True:
            try:
                job.refresh_from_db()
                page = build_log_read(job=job, start=start)
                for line in page.lines:
                    self.stdout.write(line)
                start = page.next
                if job.is_terminal and page.complete:
                    return job
                if not page.lines:
                    time.sleep(0.5)
            except KeyboardInterrupt:
                if cancelled:
                    raise
                cancelled = True
                self.stderr.write("cancelling the build (Ctrl-C again to stop following)")
                try:
                    build_cancel(job=job, user=user)
                except BuildConflict:
                    pass
