"""Shared code for every EduPlatform Lambda function (shipped as the common layer)."""

# Every function, whatever it imports of the layer, registers the SnapStart runtime hooks.
from eduplatform import snapstart as snapstart
