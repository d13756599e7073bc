"""Reports a practitioner reads and a patient can be shown: one session, or a plan's series.

HTML from Jinja2 templates with matplotlib charts and our own SVG zone map, self-contained;
PDF from the same HTML with WeasyPrint. Everything is read through the session layer.
"""
