"""A plain Starlette app, as a team would write it before thinking of deployment."""
