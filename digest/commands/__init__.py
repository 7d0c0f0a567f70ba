"""The `digest` commands, one module per group; digest/cli.py registers them."""
