"""Powertools logger and metrics, configured once for every function."""

from aws_lambda_powertools import Logger, Metrics

# Service name comes from POWERTOOLS_SERVICE_NAME (set per domain in template.yaml).
logger = Logger(log_uncaught_exceptions=True)
metrics = Metrics(namespace="EduPlatform")
