"""GET /api/v1/search/messages/: search the messages I may read."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from messaging.socket.ratelimit import CachedBucketThrottle, TokenBucket

from . import selectors


def search_bucket() -> TokenBucket:
    return TokenBucket(settings.SEARCH_RATE_BURST, settings.SEARCH_RATE_PER_SECOND)


class SearchThrottle(CachedBucketThrottle):
    """One person's searches, whichever worker answers them."""

    key_prefix = "search-bucket"
    new_bucket = staticmethod(search_bucket)


class ResultSerializer(serializers.Serializer):
    class Meta:
        ref_name = "MessageSearchResult"

    conversation = serializers.IntegerField()
    id = serializers.IntegerField()
    seq = serializers.IntegerField()
    sender = serializers.IntegerField()
    created = serializers.DateTimeField()
    app = serializers.CharField()
    highlight = serializers.CharField(
        help_text="Safe HTML: the message's text around the first match, escaped, each match in <mark>."
    )


class MessageSearchApi(APIView):
    throttle_classes = [SearchThrottle]

    class InputSerializer(serializers.Serializer):
        q = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, default="")
        sort = serializers.ChoiceField(choices=selectors.SORTS, default="newest")
        cursor = serializers.CharField(required=False, max_length=200)
        limit = serializers.IntegerField(
            required=False, min_value=1, max_value=selectors.MAX_LIMIT, default=selectors.DEFAULT_LIMIT
        )

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MessageSearchPage"

        results = ResultSerializer(many=True)
        next = serializers.CharField(allow_null=True, help_text="The cursor of the next page; null on the last.")

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "q", str,
                description="Words (Chinese or English; all must match) and filters: from:<username>, in:<conversation>,"
                " after:YYYY-MM-DD, before:YYYY-MM-DD, has:file, has:link, is:mention. At most 200 characters, 10 words.",
            ),
            OpenApiParameter("from", str, description="Only messages of this username."),
            OpenApiParameter("in", int, description="Only messages of this conversation."),
            OpenApiParameter("after", str, description="Sent on this day (YYYY-MM-DD, the company's time zone) or later."),
            OpenApiParameter("before", str, description="Sent before this day."),
            OpenApiParameter("has", str, description="file or link (or both: has=file&has=link)."),
            OpenApiParameter("is", str, description="mention: messages that mention me."),
            OpenApiParameter("sort", str, description="newest (default) or relevance."),
            OpenApiParameter("cursor", str, description="The next page: the `next` of the page before."),
            OpenApiParameter("limit", int, description="1 to 50, default 20."),
        ],  # fmt: skip
        responses={200: OutputSerializer},
    )
    def get(self, request):
        data = self.InputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        params = {key: request.query_params.getlist(key) for key in selectors.FILTERS if key in request.query_params}
        query = selectors.query_parse(data.validated_data["q"], params)
        results, next_cursor = selectors.message_search(
            user=request.user,
            query=query,
            sort=data.validated_data["sort"],
            cursor=data.validated_data.get("cursor"),
            limit=data.validated_data["limit"],
        )
        return Response({"results": ResultSerializer(results, many=True).data, "next": next_cursor})
