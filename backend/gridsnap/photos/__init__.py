"""Photos of reported problems: checking uploads, reading EXIF, derivatives and their storage."""
