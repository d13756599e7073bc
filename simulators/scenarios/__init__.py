"""The built-in scenarios, as scenario files (see ``docs/scenario-format.md``)."""
