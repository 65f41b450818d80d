"""The HTTP application: the only code that knows HTTP, environment variables and processes."""
