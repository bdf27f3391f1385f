import os

from celery import Celery
from celery.signals import beat_init, celeryd_init

from config.liveness import LivenessFile, write_pong

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@celeryd_init.connect
@beat_init.connect
def make_data_folders(**_) -> None:
    """A worker or beat started on its own (not by the stack runner) finds the broker's folders."""
    from config import paths

    paths.prepare_data_dir()


# The worker's main process writes a heartbeat file the stack runner reads (config/stack.py).
app.steps["worker"].add(LivenessFile)


@app.task(name="stack.ping", ignore_result=True)
def stack_ping(*, nonce: str) -> None:
    """Sent by the stack runner through the broker: answering proves the worker still takes jobs."""
    write_pong(nonce)
