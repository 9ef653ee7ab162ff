from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from files import services
from files.api.throttling import P2PReportThrottle


class FileUploadApi(APIView):
    """Upload a file to a conversation, then send a ``file`` message naming its id."""

    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "FileUpload"

        conversation = serializers.IntegerField(help_text="The conversation the file is for.")
        # Emptiness is the service's to refuse, with its own message.
        file = serializers.FileField(allow_empty_file=True, use_url=False)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "StoredFile"

        id = serializers.IntegerField()
        name = serializers.CharField()
        size = serializers.IntegerField()
        type = serializers.CharField(source="content_type")
        sha256 = serializers.CharField()
        url = serializers.SerializerMethodField(help_text="Where members download it.")

        def get_url(self, stored) -> str:
            return reverse("file-download", args=[stored.pk])

    @extend_schema(request={"multipart/form-data": InputSerializer}, responses={201: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        stored = services.file_upload(
            user=request.user,
            conversation_id=data.validated_data["conversation"],
            upload=data.validated_data["file"],
        )
        return Response(self.OutputSerializer(stored).data, status=status.HTTP_201_CREATED)


class P2PBytesReportApi(APIView):
    """Report bytes this client sent directly to a peer (for /metrics)."""

    throttle_classes = [P2PReportThrottle]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "P2PBytesReport"

        bytes = serializers.IntegerField(help_text="Bytes sent directly since the last report.")
        kind = serializers.ChoiceField(choices=services.P2P_KINDS)

    @extend_schema(request=InputSerializer, responses={204: None})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.p2p_bytes_report(byte_count=data.validated_data["bytes"], kind=data.validated_data["kind"])
        return Response(status=status.HTTP_204_NO_CONTENT)
