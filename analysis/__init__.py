"""Label active extravasation in abdominal trauma CT reports with local LLMs."""

__version__ = "0.1.0"
