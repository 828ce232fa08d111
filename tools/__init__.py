# Helpers for the project's tooling (translation template export); the addon
# itself does not import this package.
