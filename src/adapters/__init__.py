"""Adapters: one package per technology, each implementing chatcore's ports."""
