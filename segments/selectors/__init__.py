"""Reads of the segments app, one module per resource. Every selector starts from a tenant."""
