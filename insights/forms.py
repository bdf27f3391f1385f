import json
import shlex

from django import forms

from insights.services.webhooks import EVENTS
from repos.models import Repository


class WebhookForm(forms.Form):
    url = forms.CharField(
        label="URL", max_length=2048, help_text="http(s) URL that receives a signed JSON POST per event."
    )
    events = forms.MultipleChoiceField(choices=[(e, e) for e in EVENTS], widget=forms.CheckboxSelectMultiple)
    secret = forms.CharField(
        min_length=8,
        max_length=256,
        widget=forms.PasswordInput(render_value=False),
        help_text="Signs each body: X-Hub-Signature-256: sha256=HMAC-SHA256(secret, body).",
    )
    repository = forms.ModelChoiceField(
        queryset=Repository.objects.all(),
        required=False,
        to_field_name="key",
        empty_label="Every repository (site admins)",
    )
    active = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, repositories=None, **kwargs):
        super().__init__(*args, **kwargs)
        if repositories is not None:
            self.fields["repository"].queryset = repositories


class SmokeTestForm(forms.Form):
    """The smoke test fields of the repository settings page; `repos`' rules stay in the service."""

    command = forms.CharField(
        max_length=8000,
        help_text='Run in every platform image, the program first: a JSON list such as ["/app", "--version"], '
        "or words separated by spaces.",
    )
    expected_exit_code = forms.IntegerField(min_value=0, max_value=255, initial=0)
    output_pattern = forms.CharField(
        required=False, max_length=500, help_text="A regular expression the output must contain (optional)."
    )
    time_limit_seconds = forms.IntegerField(min_value=1, label="Time limit (seconds)")
    required_for_promotion = forms.BooleanField(
        required=False, label="Required for promotion into this repository (every platform must pass)"
    )

    def clean_command(self) -> list[str]:
        raw = self.cleaned_data["command"].strip()
        if raw.startswith("["):
            try:
                value = json.loads(raw)
            except ValueError:
                raise forms.ValidationError('Not a JSON list; write it as ["/app", "--version"].') from None
            return value
        try:
            return shlex.split(raw)
        except ValueError as exc:
            raise forms.ValidationError(f"Cannot split the command: {exc}.") from None


def smoke_test_initial(test) -> dict:
    from django.conf import settings

    if test is None:
        return {"expected_exit_code": 0, "time_limit_seconds": settings.SMOKE_TEST_DEFAULT_SECONDS}
    return {
        "command": json.dumps(test.command),
        "expected_exit_code": test.expected_exit_code,
        "output_pattern": test.output_pattern,
        "time_limit_seconds": test.time_limit_seconds,
        "required_for_promotion": test.required_for_promotion,
    }
