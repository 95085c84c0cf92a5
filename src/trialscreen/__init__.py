"""trialscreen: decide, with evidence, whether a patient can join a clinical trial."""

__version__ = "0.1.0"
