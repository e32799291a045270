"""APAF build farm: sources, recipes, the step cache, executors and packaging.

The farm never runs at a user's: it is driven by `tasks.py` (invoke). It may
import the runtime (`apaf`) for shared data such as the manifest schema.
"""
