from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps_announcements import selectors, services


class AnnouncementSerializer(serializers.Serializer):
    class Meta:
        ref_name = "Announcement"

    class AuthorSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AnnouncementAuthor"

        id = serializers.IntegerField()
        username = serializers.CharField()
        display_name = serializers.CharField(source="name")

    id = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField()
    body_html = serializers.CharField()
    audience = serializers.DictField()
    pinned = serializers.BooleanField()
    requires_confirmation = serializers.BooleanField()
    expires_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    author = AuthorSerializer()
    audience_size = serializers.IntegerField()
    read_at = serializers.DateTimeField(allow_null=True, required=False)
    confirmed_at = serializers.DateTimeField(allow_null=True, required=False)


def detail(announcement, user) -> dict:
    """The announcement with my own receipt (when I am in its audience)."""
    receipt = selectors.receipt_for(user=user, announcement=announcement)
    announcement.read_at = receipt.read_at if receipt else None
    announcement.confirmed_at = receipt.confirmed_at if receipt else None
    return AnnouncementSerializer(announcement).data


class AnnouncementListCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AnnouncementPublish"

        title = serializers.CharField(max_length=200)
        body = serializers.CharField(max_length=20_000)
        audience = serializers.JSONField()
        pinned = serializers.BooleanField(default=False)
        requires_confirmation = serializers.BooleanField(default=False)
        expires_at = serializers.DateTimeField(required=False, allow_null=True)
        client_id = serializers.CharField(max_length=64, trim_whitespace=False)

    @extend_schema(responses={200: AnnouncementSerializer(many=True)})
    def get(self, request):
        announcements = selectors.announcement_list_for_user(user=request.user)[:200]
        return Response([detail(a, request.user) for a in announcements])

    @extend_schema(request=InputSerializer, responses={201: AnnouncementSerializer, 200: AnnouncementSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        announcement, created = services.announcement_publish(author=request.user, **data.validated_data)
        return Response(detail(announcement, request.user), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class AnnouncementReadApi(APIView):
    @extend_schema(request=None, responses={200: AnnouncementSerializer})
    def post(self, request, announcement_id: int):
        receipt = services.announcement_mark_read(user=request.user, announcement_id=announcement_id)
        return Response(detail(receipt.announcement, request.user))


class AnnouncementConfirmApi(APIView):
    @extend_schema(request=None, responses={200: AnnouncementSerializer})
    def post(self, request, announcement_id: int):
        receipt = services.announcement_confirm(user=request.user, announcement_id=announcement_id)
        return Response(detail(receipt.announcement, request.user))


class AnnouncementStatsApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AnnouncementStats"

        id = serializers.IntegerField()
        audience = serializers.IntegerField()
        delivered = serializers.IntegerField()
        read = serializers.IntegerField()
        confirmed = serializers.IntegerField()
        unread_users = serializers.ListField(child=serializers.DictField())
        unconfirmed_users = serializers.ListField(child=serializers.DictField())

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request, announcement_id: int):
        return Response(selectors.announcement_stats(user=request.user, announcement_id=announcement_id))
