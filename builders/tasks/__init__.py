"""invoke namespaces; each module ends in a Collection or exposes its tasks."""
