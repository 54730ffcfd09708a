import os

# Settings for in-process handler calls; set before any layer module reads them.
os.environ.setdefault("JWT_SECRET", "unit-test-secret-0123456789abcdef")
os.environ.setdefault("CURSOR_SIGNING_KEY", "unit-test-cursor-signing-key-0123456789")
os.environ.setdefault("BCRYPT_ROUNDS", "4")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "EduPlatformTest")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "test")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
