"""The settings of files sent through the server (core.conf)."""

from core.conf import Setting, boolean, integer

SETTINGS = [
    Setting("FILE_MAX_BYTES", integer, 100 * 2**20, "The largest file sent through the server (or archived there)."),
    Setting("FILE_QUOTA_BYTES", integer, 2**30, "How much one person's files on the server may add up to."),
    # The message of a file sent directly then names the server's copy, for people who
    # join later or lose the file.
    # A picture larger than this is not decoded (no thumbnail, no viewer): it stays an
    # ordinary file. 40 million pixels take some 160 MB while they are decoded.
    Setting("FILE_IMAGE_MAX_PIXELS", integer, 40_000_000, "The largest picture, in pixels, given a thumbnail."),
    Setting("FILE_ARCHIVE_P2P", boolean, False, "Upload a file sent directly too, so that the server keeps a copy."),
]
