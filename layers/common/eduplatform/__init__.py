"""Shared code for every EduPlatform Lambda function (shipped as the common layer)."""
