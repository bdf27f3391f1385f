from repos.models.aggregates import ImageCoverage, RepositoryStats, SiteStats
from repos.models.content import Blob, Manifest, ManifestLabel, ManifestLayer, ManifestListEntry, RepositoryBlob
from repos.models.operations import GcRun, RepositoryPolicy, RetentionRun
from repos.models.promotion import PromotedDigest, PromotionJob
from repos.models.remote import RemoteBlobFetch, RemoteSettings, RemoteTagCheck, VirtualMember
from repos.models.repository import Image, ImageManifest, Repository, Tag
from repos.models.uploads import UploadSession

__all__ = [
    "Blob",
    "GcRun",
    "Image",
    "ImageCoverage",
    "ImageManifest",
    "Manifest",
    "ManifestLabel",
    "ManifestLayer",
    "ManifestListEntry",
    "PromotedDigest",
    "PromotionJob",
    "RemoteBlobFetch",
    "RemoteSettings",
    "RemoteTagCheck",
    "Repository",
    "RepositoryPolicy",
    "RetentionRun",
    "RepositoryBlob",
    "RepositoryStats",
    "SiteStats",
    "Tag",
    "UploadSession",
    "VirtualMember",
]
