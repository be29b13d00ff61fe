"""Scripts run by the official SDKs' own interpreter (``.venv-sdk``), not by the test suite's: each talks to a
URL it is given, as a user's code would, and prints what it saw as one JSON line."""
