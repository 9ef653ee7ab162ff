from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import ApplicationError
from push import keys, selectors, services


class SubscriptionSerializer(serializers.Serializer):
    class Meta:
        ref_name = "PushSubscription"

    id = serializers.IntegerField()
    endpoint = serializers.CharField()
    label = serializers.CharField(help_text="The device's name, as given or guessed from its browser.")
    created_at = serializers.DateTimeField()
    last_success_at = serializers.DateTimeField(allow_null=True, help_text="When a push last reached it.")


class PushKeyApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PushKey"

        public_key = serializers.CharField(help_text="The VAPID public key, base64url: the applicationServerKey.")

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request):
        return Response({"public_key": keys.public_key()})


class SubscriptionListCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PushSubscribe"

        class KeysSerializer(serializers.Serializer):
            class Meta:
                ref_name = "PushSubscriptionKeys"

            p256dh = serializers.CharField(help_text="The browser's P-256 public key, base64url.")
            auth = serializers.CharField(help_text="Its 16-byte auth secret, base64url.")

        endpoint = serializers.URLField(max_length=1000)
        keys = KeysSerializer()
        expirationTime = serializers.IntegerField(required=False, allow_null=True)  # noqa: N815 (the browser's name)
        label = serializers.CharField(required=False, max_length=150, help_text="A name for this device.")

    @extend_schema(responses={200: SubscriptionSerializer(many=True)})
    def get(self, request):
        return Response(SubscriptionSerializer(selectors.subscription_list_for_user(user=request.user), many=True).data)

    @extend_schema(request=InputSerializer, responses={201: SubscriptionSerializer, 200: SubscriptionSerializer})
    def post(self, request):
        # The browser's PushSubscription JSON as it is: the service checks every part.
        data = request.data
        if not isinstance(data, dict):
            raise ApplicationError("A subscription is a JSON object.", code="invalid")
        subscription, created = services.subscription_save(
            user=request.user,
            endpoint=data.get("endpoint"),
            keys=data.get("keys"),
            label=data.get("label"),
            user_agent=request.headers.get("User-Agent", ""),
        )
        return Response(
            SubscriptionSerializer(subscription).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class SubscriptionDetailApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, subscription_id: int):
        services.subscription_delete(user=request.user, subscription_id=subscription_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
