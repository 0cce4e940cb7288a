"""Accounts glue: roles, personal API tokens, allauth adapters and signal receivers."""
