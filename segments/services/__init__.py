"""Writes of the segments app, one module per resource. Every service is atomic and takes `tenant=` first."""
