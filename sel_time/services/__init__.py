"""The services layer: domain operations that change models and flush, never commit."""
