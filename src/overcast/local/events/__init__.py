"""Object-created events: S3 event notifications delivered to functions, as AWS does."""
