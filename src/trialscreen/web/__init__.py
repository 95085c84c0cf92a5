"""The public trial pages: search, listing, pre-screening questionnaire, applying (FastAPI)."""

from trialscreen.web.app import create_app
from trialscreen.web.settings import Settings

__all__ = ["Settings", "create_app"]
