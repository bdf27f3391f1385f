"""Small helpers to lay out a form's fields in groups."""

from django import template

register = template.Library()


@register.filter
def split(value: str) -> list[str]:
    return value.split()


@register.filter
def field(form, name: str):
    """The bound field `name`, or None when the form does not have it (hidden for this user or kind)."""
    return form[name] if name in form.fields else None
