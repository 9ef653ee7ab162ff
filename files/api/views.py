from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from files import services


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
        width = serializers.IntegerField(allow_null=True, help_text="A picture's width in pixels, upright; else null.")
        height = serializers.IntegerField(allow_null=True, help_text="A picture's height in pixels, upright; else null.")
        thumbnail = serializers.SerializerMethodField(help_text="A picture's thumbnail; else null.")
        view = serializers.SerializerMethodField(help_text="A picture at full size without its metadata; else null.")

        def get_url(self, stored) -> str:
            return reverse("file-download", args=[stored.pk])

        def get_thumbnail(self, stored) -> str | None:
            return reverse("file-thumbnail", args=[stored.pk]) if stored.is_picture else None

        def get_view(self, stored) -> str | None:
            return reverse("file-view", args=[stored.pk]) if stored.is_picture else None

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
