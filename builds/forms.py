"""The browser's build form: shape only; the service decides what is allowed."""

from __future__ import annotations

from django import forms
from django.conf import settings

from builds.builders import AUTO_ORDER
from builds.errors import BuildInvalid
from builds.policy import build_arg_items_parse
from builds.services.jobs import BuildRequest


def _split(value: str) -> list[str]:
    return [part for part in value.replace(",", " ").split() if part]


class BuildForm(forms.Form):
    source = forms.ChoiceField(
        choices=[("git", "Git repository"), ("archive", "Upload a context archive")],
        widget=forms.RadioSelect,
        initial="git",
    )
    git_url = forms.CharField(
        label="Git URL",
        required=False,
        max_length=2048,
        widget=forms.URLInput(attrs={"placeholder": "https://git.example.com/team/app.git"}),
    )
    git_ref = forms.CharField(
        label="Branch, tag or commit",
        required=False,
        max_length=255,
        widget=forms.TextInput(attrs={"placeholder": "main"}),
    )
    context = forms.FileField(label="Context archive (.tar, .tar.gz, .zip)", required=False)
    context_dir = forms.CharField(label="Sub-directory", required=False, max_length=1024)
    dockerfile = forms.CharField(label="Dockerfile", initial="Dockerfile", max_length=1024)
    platforms = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)
    build_args = forms.CharField(
        label="Build arguments",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="KEY=VALUE, one per line; PLATFORM:KEY=VALUE for one platform only (linux/arm64:ARCH=arm64v8/).",
    )
    target = forms.CharField(label="Target stage", required=False, max_length=128)
    repository = forms.ChoiceField()
    image = forms.CharField(max_length=255, widget=forms.TextInput(attrs={"placeholder": "multiarch-image"}))
    tags = forms.CharField(initial="latest", max_length=2000, help_text="Separated by spaces or commas.")
    builder = forms.ChoiceField(
        required=False, choices=[("", "worker's default (buildah where installed)"), *[(b, b) for b in AUTO_ORDER]]
    )

    def __init__(self, *args, repositories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["repository"].choices = [(r.key, r.key) for r in repositories]
        self.fields["platforms"].choices = [(p, p) for p in settings.BUILD_PLATFORMS]
        self.fields["platforms"].initial = [p for p in ("linux/amd64", "linux/arm64") if p in settings.BUILD_PLATFORMS]

    def clean_build_args(self) -> dict:
        try:
            return build_arg_items_parse(line for line in self.cleaned_data["build_args"].splitlines() if line.strip())
        except BuildInvalid as exc:
            raise forms.ValidationError(exc.message) from None

    def clean(self):
        data = super().clean()
        if data.get("source") == "git":
            data["context"] = None
            if not data.get("git_url"):
                self.add_error("git_url", "a Git URL is required")
        elif not data.get("context"):
            self.add_error("context", "choose an archive to upload")
        return data

    def to_request(self) -> BuildRequest:
        data = self.cleaned_data
        git = data["source"] == "git"
        return BuildRequest(
            repository=data["repository"],
            image=data["image"],
            tags=_split(data["tags"]),
            platforms=data["platforms"],
            git_url=data["git_url"] if git else "",
            git_ref=data["git_ref"] if git else "",
            context_dir=data["context_dir"],
            dockerfile=data["dockerfile"],
            build_args=data["build_args"],
            target=data["target"],
            builder=data["builder"],
        )
