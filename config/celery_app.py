import os

from celery import Celery

from config.liveness import LivenessFile, write_pong

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The worker's main process writes a heartbeat file the stack runner reads (config/stack.py).
app.steps["worker"].add(LivenessFile)


@app.task(name="stack.ping", ignore_result=True)
def stack_ping(*, nonce: str) -> None:
    """Sent by the stack runner through the broker: answering proves the worker still takes jobs."""
    write_pong(nonce)
