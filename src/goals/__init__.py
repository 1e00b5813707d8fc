"""Outreach goals as pluggy plugins: hookspecs, the plugin manager and the built-in goals.

Not built yet: the goals issue adds them here. Until then, goal keys (``Persona.goal_key``)
are only checked to be lowercase snake_case.
"""
