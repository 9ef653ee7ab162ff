from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import user_profile
from accounts.services import token_issue_for_credentials


class TokenApi(APIView):
    """Exchange a username and password for a Bearer token (first-party clients)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TokenRequest"

        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=4096, trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "Token"

        access_token = serializers.CharField()
        token_type = serializers.CharField(help_text=_('Always "Bearer".'))
        expires_in = serializers.IntegerField(help_text=_("Seconds until the access token expires."))
        refresh_token = serializers.CharField()
        scope = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer}, auth=[])
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token = token_issue_for_credentials(request=request._request, **data.validated_data)
        return Response(self.OutputSerializer(token).data, status=status.HTTP_200_OK)


class MeApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "Me"

        id = serializers.IntegerField()
        username = serializers.CharField()
        display_name = serializers.CharField()
        email = serializers.EmailField()
        employee_number = serializers.CharField(allow_null=True)
        title = serializers.CharField()
        phone = serializers.CharField()
        language = serializers.CharField()
        department = serializers.DictField(allow_null=True)
        is_staff = serializers.BooleanField()

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request):
        return Response(self.OutputSerializer(user_profile(user=request.user)).data)
