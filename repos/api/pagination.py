"""The REST API's one pagination (settings: DEFAULT_PAGINATION_CLASS, PAGE_SIZE)."""

from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    """The REST API's pages: `?page=` and `?page_size=` (at most 500; default PAGE_SIZE); `next` and `previous`
    keep every other query parameter. A view may offer `kept_count()`, the size of its unfiltered list read from
    a kept aggregate (or None when none knows it): a request without filters then pages without a COUNT over the
    whole table."""

    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        kept_count = getattr(view, "kept_count", None)
        count = kept_count() if kept_count is not None and not _filtered(request, view) else None
        if count is not None:
            queryset = KnownCount(queryset, count)
        return super().paginate_queryset(queryset, request, view)


def _filtered(request, view) -> bool:
    filterset = getattr(view, "filterset_class", None)
    return filterset is not None and any(name in request.query_params for name in filterset.base_filters)


class KnownCount:
    """A queryset whose length is already known: the paginator slices it but never counts it."""

    def __init__(self, queryset, count: int):
        self.queryset = queryset
        self._count = count
        self.ordered = queryset.ordered

    def count(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index):
        return self.queryset[index]
