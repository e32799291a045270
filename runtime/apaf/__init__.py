"""APAF runtime."""
