"""The 11 built-in goals. Each module is an ordinary plugin using the public hook."""
