from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ClientScopePermission
from core.errors import ApplicationError, require_number

from integrations import services
from integrations.models import Client, Notification


def _client(request) -> Client:
    client = Client.objects.select_related("service_account").filter(
        application_id=request.auth.application_id, revoked_at__isnull=True
    ).first()
    if client is None:
        raise ApplicationError("This client is not a registered integration.", code="not_permitted")
    return client


class RecipientStatus(serializers.Serializer):
    recipient = serializers.CharField()
    user = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=["delivered", "unknown"])
    delivered = serializers.BooleanField()
    read = serializers.BooleanField()


class NotificationOut(serializers.Serializer):
    class Meta:
        ref_name = "Notification"

    id = serializers.IntegerField()
    client_id = serializers.CharField()
    title = serializers.CharField()
    created_at = serializers.DateTimeField()
    recipients = RecipientStatus(many=True)


def _out(notification: Notification, statuses: list[dict]) -> dict:
    return {
        "id": notification.pk,
        "client_id": notification.client_request_id,
        "title": notification.title,
        "created_at": notification.created_at,
        "recipients": statuses,
    }


class NotificationListApi(APIView):
    """Send a notice to employees as the integration (client credentials, scope ``notify``)."""

    permission_classes = [ClientScopePermission]
    required_scope = "notify"

    class InputSerializer(serializers.Serializer):
        recipients = serializers.ListField(child=serializers.CharField(), help_text="Usernames or employee numbers.")
        title = serializers.CharField()
        text = serializers.CharField()
        link = serializers.URLField(required=False, allow_blank=True)
        client_id = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={202: NotificationOut})
    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        notification, statuses, created = services.notification_send(
            client=_client(request),
            recipients=data.get("recipients"),
            title=data.get("title"),
            text=data.get("text"),
            link=data.get("link", ""),
            client_id=data.get("client_id"),
        )
        # The same answer for a repeated client_id: nothing is sent twice.
        return Response(_out(notification, statuses), status=status.HTTP_202_ACCEPTED)


class NotificationDetailApi(APIView):
    permission_classes = [ClientScopePermission]
    required_scope = "notify"

    @extend_schema(responses={200: NotificationOut})
    def get(self, request, notification_id):
        notification = Notification.objects.filter(pk=notification_id, client=_client(request)).first()
        if notification is None:
            raise ApplicationError("No such notification.", code="not_found")
        return Response(_out(notification, services.notification_statuses(notification=notification)))
