from repos.models.content import Blob, Manifest, ManifestLayer, ManifestListEntry, RepositoryBlob
from repos.models.repository import Image, ImageManifest, Repository, Tag
from repos.models.uploads import UploadSession

__all__ = [
    "Blob",
    "Image",
    "ImageManifest",
    "Manifest",
    "ManifestLayer",
    "ManifestListEntry",
    "Repository",
    "RepositoryBlob",
    "Tag",
    "UploadSession",
]
