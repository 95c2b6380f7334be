"""Viewsets of the segments API, one module per resource."""
