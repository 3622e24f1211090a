"""jobdash headless core: plain Python, no streamlit."""

__version__ = "0.1.0"
