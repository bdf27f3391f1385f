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
